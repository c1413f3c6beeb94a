import { describe, expect, it } from "vitest";
import { CofferError } from "../core/errors.js";
import { cloudRegion, keyCloud } from "./cloud-regions.js";

describe("a region's cloud", () => {
  it("follows the providers' region names; anything else is Coffer's own", () => {
    expect(cloudRegion("us-east-1")).toEqual({ cloud: "aws", region: "us-east-1", displayName: "N. Virginia (us-east-1)" });
    expect(cloudRegion("us-east1")).toEqual({ cloud: "gcp", region: "us-east1", displayName: "S. Carolina (us-east1)" });
    expect(cloudRegion("eastus")).toEqual({ cloud: "azure", region: "eastus", displayName: "Virginia (eastus)" });
    // Not listed yet, named by the provider's scheme.
    expect(cloudRegion("eu-west-9")).toEqual({ cloud: "aws", region: "eu-west-9", displayName: "AWS (eu-west-9)" });
    expect(cloudRegion("europe-north2")).toEqual({ cloud: "gcp", region: "europe-north2", displayName: "Google Cloud (europe-north2)" });
    for (const r of ["local", "cn-hangzhou", "ap-guangzhou", "eastus9", "dev"]) expect(cloudRegion(r).cloud).toBe("coffer");
    expect(cloudRegion("constructor").cloud).toBe("coffer"); // no prototype lookups
  });

  it("a key's cloud: the region's, given in any case or not at all; any other is CloudNotOffered", () => {
    expect(keyCloud("us-east-1", undefined)).toBe("aws");
    expect(keyCloud("us-east-1", "AWS")).toBe("aws");
    expect(keyCloud("local", "coffer")).toBe("coffer");
    for (const [region, cloud] of [["us-east-1", "gcp"], ["local", "aws"], ["westeurope", "gcp"], ["us-east-1", "x".repeat(100)]] as const) {
      let err: unknown;
      try {
        keyCloud(region, cloud);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(CofferError);
      expect((err as CofferError).code).toBe("CloudNotOffered");
      expect((err as CofferError).message.length).toBeLessThan(200);
    }
  });
});
