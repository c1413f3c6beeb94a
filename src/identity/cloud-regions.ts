import { CofferError } from "../core/errors.js";
import type { Cloud, RegionOffer as CloudRegion } from "../contract/identity.js";

/**
 * The cloud of a region. Coffer's regions are names an environment offers; Confluent's Flink
 * API keys and region list (`/fcpm/v2/regions`) also name a cloud provider. A region named
 * like one of the clouds Confluent's Flink runs on (AWS, Google Cloud, Azure) is in that
 * cloud; any other region (`local`, `cn-hangzhou`, …) is Coffer's own, cloud `coffer`. A
 * region is in exactly one cloud, so a key's cloud always follows from its region and a
 * pair that disagrees is refused.
 */
export type { Cloud, RegionOffer as CloudRegion } from "../contract/identity.js";
export const CLOUDS: readonly Cloud[] = ["aws", "gcp", "azure", "coffer"];
export const CLOUD_NAMES: Readonly<Record<Cloud, string>> = { aws: "AWS", gcp: "Google Cloud", azure: "Azure", coffer: "Coffer" };

// Display names as Confluent's region list spells them: "N. Virginia (us-east-1)".
const AWS: Readonly<Record<string, string>> = {
  "us-east-1": "N. Virginia", "us-east-2": "Ohio", "us-west-1": "N. California", "us-west-2": "Oregon",
  "us-gov-east-1": "GovCloud (US-East)", "us-gov-west-1": "GovCloud (US-West)", "ca-central-1": "Canada Central", "ca-west-1": "Calgary",
  "mx-central-1": "Mexico", "sa-east-1": "São Paulo", "af-south-1": "Cape Town", "il-central-1": "Tel Aviv", "me-south-1": "Bahrain", "me-central-1": "UAE",
  "eu-central-1": "Frankfurt", "eu-central-2": "Zurich", "eu-west-1": "Ireland", "eu-west-2": "London", "eu-west-3": "Paris",
  "eu-south-1": "Milan", "eu-south-2": "Spain", "eu-north-1": "Stockholm",
  "ap-east-1": "Hong Kong", "ap-east-2": "Taipei", "ap-south-1": "Mumbai", "ap-south-2": "Hyderabad", "ap-northeast-1": "Tokyo", "ap-northeast-2": "Seoul", "ap-northeast-3": "Osaka",
  "ap-southeast-1": "Singapore", "ap-southeast-2": "Sydney", "ap-southeast-3": "Jakarta", "ap-southeast-4": "Melbourne", "ap-southeast-5": "Malaysia", "ap-southeast-7": "Thailand",
};
const GCP: Readonly<Record<string, string>> = {
  "us-central1": "Iowa", "us-east1": "S. Carolina", "us-east4": "N. Virginia", "us-east5": "Columbus", "us-south1": "Dallas",
  "us-west1": "Oregon", "us-west2": "Los Angeles", "us-west3": "Salt Lake City", "us-west4": "Las Vegas",
  "northamerica-northeast1": "Montréal", "northamerica-northeast2": "Toronto", "southamerica-east1": "São Paulo", "southamerica-west1": "Santiago",
  "europe-central2": "Warsaw", "europe-north1": "Finland", "europe-southwest1": "Madrid", "europe-west1": "Belgium", "europe-west2": "London",
  "europe-west3": "Frankfurt", "europe-west4": "Netherlands", "europe-west6": "Zurich", "europe-west8": "Milan", "europe-west9": "Paris",
  "europe-west10": "Berlin", "europe-west12": "Turin", "me-central1": "Doha", "me-central2": "Dammam", "me-west1": "Tel Aviv", "africa-south1": "Johannesburg",
  "asia-east1": "Taiwan", "asia-east2": "Hong Kong", "asia-northeast1": "Tokyo", "asia-northeast2": "Osaka", "asia-northeast3": "Seoul",
  "asia-south1": "Mumbai", "asia-south2": "Delhi", "asia-southeast1": "Singapore", "asia-southeast2": "Jakarta",
  "australia-southeast1": "Sydney", "australia-southeast2": "Melbourne",
};
const AZURE: Readonly<Record<string, string>> = {
  eastus: "Virginia", eastus2: "Virginia", centralus: "Iowa", northcentralus: "Illinois", southcentralus: "Texas", westcentralus: "Wyoming",
  westus: "California", westus2: "Washington", westus3: "Arizona", canadacentral: "Toronto", canadaeast: "Quebec", mexicocentral: "Querétaro", brazilsouth: "São Paulo",
  northeurope: "Ireland", westeurope: "Netherlands", uksouth: "London", ukwest: "Cardiff", francecentral: "Paris", germanywestcentral: "Frankfurt",
  switzerlandnorth: "Zurich", norwayeast: "Oslo", swedencentral: "Gävle", polandcentral: "Warsaw", italynorth: "Milan", spaincentral: "Madrid",
  eastasia: "Hong Kong", southeastasia: "Singapore", japaneast: "Tokyo", japanwest: "Osaka", koreacentral: "Seoul", centralindia: "Pune",
  southindia: "Chennai", westindia: "Mumbai", australiaeast: "New South Wales", australiasoutheast: "Victoria", uaenorth: "Dubai",
  qatarcentral: "Doha", israelcentral: "Israel", southafricanorth: "Johannesburg",
};
// Regions newer than the lists above still land in their cloud by the provider's naming scheme.
const DIRECTIONS = "(north|south|east|west|central|northeast|southeast|northwest|southwest)";
const AWS_NAME = new RegExp(`^(us|eu|ap|sa|ca|me|af|il|mx)(-gov)?-${DIRECTIONS}-\\d{1,2}$`);
const GCP_NAME = new RegExp(`^(us|europe|asia|australia|northamerica|southamerica|me|africa)-${DIRECTIONS}\\d{1,2}$`);

/** The cloud a region is in, and its display name. */
export function cloudRegion(region: string): CloudRegion {
  const named = (cloud: Cloud, place: string | undefined) => ({ cloud, region, displayName: `${place ?? CLOUD_NAMES[cloud]} (${region})` });
  if (Object.hasOwn(AWS, region)) return named("aws", AWS[region]);
  if (Object.hasOwn(GCP, region)) return named("gcp", GCP[region]);
  if (Object.hasOwn(AZURE, region)) return named("azure", AZURE[region]);
  if (AWS_NAME.test(region)) return named("aws", undefined);
  if (GCP_NAME.test(region)) return named("gcp", undefined);
  return named("coffer", undefined);
}

/**
 * The cloud of a key scoped to `region`: `cloud` when given (any case: `AWS`, `aws`) and it
 * is the region's cloud, else CloudNotOffered; the region's own cloud when not given.
 */
export function keyCloud(region: string, cloud: string | undefined): Cloud {
  const own = cloudRegion(region).cloud;
  if (cloud === undefined) return own;
  const c = cloud.toLowerCase();
  if (!(CLOUDS as readonly string[]).includes(c))
    throw new CofferError("CloudNotOffered", `The cloud "${cloud.slice(0, 32)}" is not one Coffer offers (${CLOUDS.join(", ")}); the region "${region}" is in ${own}.`);
  if (c !== own) throw new CofferError("CloudNotOffered", `The region "${region}" is in the cloud ${own}, not ${c}: choose ${own}.${region}, or a region of ${c}.`);
  return own;
}
