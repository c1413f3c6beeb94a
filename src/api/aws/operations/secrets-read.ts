import type { FastifyRequest } from "fastify";
import { accessOf } from "../../../auth/request-access.js";
import { CofferError } from "../../../core/errors.js";
import type { Scope } from "../../../core/scope.js";
import { CURRENT, positionFits, positionOf, type ScanItem, type ScanOrder, type ScanPosition, type Secret, requireLive } from "../../../secrets/index.js";
import { arnOf, awsStage, awsStages, cofferStage, entryOf, epochOfIso, keyArn, resolveSecretId, type AwsDeps, type AwsOperation } from "../aws-context.js";
import { awsError, secretNotFound, toAws, validationError } from "../aws-errors.js";
import type { AwsInput } from "../aws-input.js";
import { matchesFilters, parseFilters, type ParsedFilter } from "../list-filters.js";
import { defaultKeyCheck, secretDetails } from "../views.js";

const noValue = (what: string) => awsError("ResourceNotFoundException", `Secrets Manager can't find the specified secret value for ${what}`, "SecretVersionNotFound");

/** GetSecretValue's answer for one secret, with AWS's errors for missing versions and stages. */
async function valueOf(d: AwsDeps, req: FastifyRequest, scope: Scope, e: Secret, versionId: string | undefined, stageIn: string | undefined): Promise<Record<string, unknown>> {
  requireLive(e);
  const stage = stageIn === undefined ? undefined : cofferStage(stageIn);
  const guard = accessOf(req).keyGuard();
  if (versionId === undefined && !e.stages.has(stage ?? CURRENT)) throw noValue(`staging label: ${awsStage(stage ?? CURRENT)}`);
  const v = await d.secrets.getValue(scope, e.name, versionId === undefined ? { stage } : { versionId }, guard).catch((err: unknown) => {
    if (err instanceof CofferError && err.code === "SecretVersionNotFound") throw versionId === undefined ? noValue(`staging label: ${awsStage(stage ?? CURRENT)}`) : noValue(`VersionId: ${versionId}`);
    throw err;
  });
  try {
    if (versionId !== undefined && stage !== undefined && e.stages.get(stage) !== versionId)
      throw awsError("InvalidRequestException", "You provided a VersionStage that is not associated to the provided VersionId.", "SecretVersionNotFound");
    return {
      ARN: arnOf(d, e),
      Name: e.name,
      VersionId: v.versionId,
      ...(v.dataType === "text" ? { SecretString: v.bytes.toString("utf8") } : { SecretBinary: v.bytes.toString("base64") }),
      VersionStages: awsStages(v.stages),
      CreatedDate: epochOfIso(v.createdAt),
    };
  } finally {
    v.bytes.fill(0);
  }
}

type SortKey = "created-date" | "last-accessed-date" | "last-changed-date" | "name";
const SORT_KEYS: readonly SortKey[] = ["created-date", "last-accessed-date", "last-changed-date", "name"];
const ORDER_OF: Record<SortKey, ScanOrder> = { "created-date": "created", "last-accessed-date": "accessed", "last-changed-date": "updated", name: "name" };

function encodeToken(p: ScanPosition): string {
  return Buffer.from(JSON.stringify(p), "utf8").toString("base64url");
}

function decodeToken(t: string | undefined, order: ScanOrder): ScanPosition | undefined {
  if (t === undefined || t === "") return undefined;
  try {
    const p = JSON.parse(Buffer.from(t, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(p) && p.length === 2 && (typeof p[0] === "number" || typeof p[0] === "string") && typeof p[1] === "string" && positionFits(p as ScanPosition, order)) return p as ScanPosition;
  } catch {
    /* below */
  }
  throw awsError("InvalidNextTokenException", "The NextToken value is invalid.");
}

/**
 * One page of the filtered, sorted secrets: the scope is walked in the requested order
 * from the token's position (an index range scan, `secrets.scan`), filtered as AWS filters,
 * and the walk stops once a page and one more match are found. Only the page's secrets are
 * read in full.
 */
async function listPage(d: AwsDeps, scope: Scope, i: AwsInput, opts: { maxResults: number; includeDeleted: boolean; filters: ParsedFilter[] }) {
  const orderIn = i.string("SortOrder", { max: 16 });
  if (orderIn !== undefined && orderIn !== "asc" && orderIn !== "desc") throw validationError("sortOrder", orderIn, "Member must satisfy enum value set: [asc, desc]");
  const byIn = i.string("SortBy", { max: 32 });
  if (byIn !== undefined && !(SORT_KEYS as readonly string[]).includes(byIn)) throw validationError("sortBy", byIn, `Member must satisfy enum value set: [${SORT_KEYS.join(", ")}]`);
  const order = ORDER_OF[(byIn ?? "created-date") as SortKey];
  const after = decodeToken(i.string("NextToken", { min: 1, max: 4096 }), order);
  const { filters } = opts;
  const withTags = filters.some((f) => f.key === "tag-key" || f.key === "tag-value" || f.key === "all");
  // Only a secret with a tag can match a tag-key (tag-value) filter without negations: the
  // scan reads the secrets that carry any tag through a tag index when they are few. Word
  // matching (a value matches a word inside a key) rules out narrowing by the value itself.
  const positive = (key: "tag-key" | "tag-value") => filters.find((f) => f.key === key && f.terms.every((t) => !t.negated));
  const tagFilter = positive("tag-key") ?? positive("tag-value");
  const tag = tagFilter ? { on: tagFilter.key === "tag-key" ? ("key" as const) : ("value" as const), values: [""], prefix: true } : undefined;
  const page: ScanItem[] = [];
  let more = false;
  walk: for await (const batch of d.secrets.scan(scope, { order, desc: orderIn === "desc", after, includeDeleted: opts.includeDeleted, withTags, tag })) {
    for (const item of batch) {
      if (!matchesFilters(item, filters)) continue;
      if (page.length === opts.maxResults) {
        more = true;
        break walk;
      }
      page.push(item);
    }
  }
  const last = page[page.length - 1];
  return { items: await d.secrets.viewsOf(page.map((x) => x.id)), nextToken: more && last ? encodeToken(positionOf(last, order)) : undefined };
}

export const readOperations: Record<string, AwsOperation> = {
  GetSecretValue: {
    action: "secrets:GetSecretValue",
    secret: "SecretId",
    readOnly: true,
    readsValues: true,
    async run(call, d) {
      const versionId = call.input.string("VersionId", { min: 1, max: 64 });
      const stage = call.input.string("VersionStage", { min: 1, max: 256 });
      return valueOf(d, call.req, call.scope, await entryOf(d, call), versionId, stage);
    },
  },

  BatchGetSecretValue: {
    action: "secrets:BatchGetSecretValue",
    readOnly: true,
    readsValues: true,
    async run(call, d) {
      const i = call.input;
      const ids = i.stringList("SecretIdList", { maxItems: 20, itemMax: 2048, minItems: 1 });
      const filters = parseFilters(i.objects("Filters", 10));
      const max = i.int("MaxResults", { min: 1, max: 20 });
      if (ids && filters.length > 0) throw awsError("InvalidParameterException", "Either 'SecretIdList' or 'Filters' must be provided, but not both.");
      if (!ids && filters.length === 0) throw awsError("InvalidParameterException", "Either 'SecretIdList' or 'Filters' must be provided.");
      if (max !== undefined && filters.length === 0) throw awsError("InvalidParameterException", "'Filters' not specified. 'Filters' must also be specified when 'MaxResults' is provided.");
      const values: Record<string, unknown>[] = [];
      const errors: Record<string, unknown>[] = [];
      const one = async (id: string, name: string | undefined) => {
        try {
          const t = name === undefined ? await resolveSecretId(d, call.scope, id) : { name, unresolved: false };
          if (!(await call.access.allows("secrets:GetSecretValue", `secret/${t.name}`)))
            throw awsError("AccessDeniedException", `Not allowed: secrets:GetSecretValue on secret/${t.name}.`, "AccessDenied");
          const e = t.unresolved ? undefined : await d.secrets.entry(call.scope, t.name);
          if (!e) throw secretNotFound();
          values.push(await valueOf(d, call.req, call.scope, e, undefined, undefined));
        } catch (err) {
          if (!(err instanceof CofferError)) throw err;
          const a = toAws(err, true);
          errors.push({ SecretId: id, ErrorCode: a.type, Message: a.message });
        }
      };
      if (ids) {
        for (const id of ids) await one(id, undefined);
        return { SecretValues: values, Errors: errors };
      }
      const page = await listPage(d, call.scope, i, { maxResults: max ?? 20, includeDeleted: false, filters });
      for (const v of page.items) await one(v.name, v.name);
      return { SecretValues: values, Errors: errors, ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
    },
  },

  DescribeSecret: {
    action: "secrets:DescribeSecret",
    secret: "SecretId",
    readOnly: true,
    async run(call, d) {
      const e = await entryOf(d, call);
      const view = await d.secrets.describe(call.scope, e.name);
      const replicas = e.primaryRegion === null ? await d.secrets.replicas.list(call.scope, e.name) : [];
      return secretDetails(d, call.scope, view, { list: false, isDefaultKey: defaultKeyCheck(d), replicas });
    },
  },

  ListSecrets: {
    action: "secrets:ListSecrets",
    readOnly: true,
    async run(call, d) {
      const i = call.input;
      const includeDeleted = i.bool("IncludePlannedDeletion") ?? false;
      const max = i.int("MaxResults", { min: 1, max: 100 }) ?? 100;
      const filters = parseFilters(i.objects("Filters", 10));
      const page = await listPage(d, call.scope, i, { maxResults: max, includeDeleted, filters });
      const isDefaultKey = defaultKeyCheck(d);
      const list = await Promise.all(page.items.map((v) => secretDetails(d, call.scope, v, { list: true, isDefaultKey })));
      return { SecretList: list, ...(page.nextToken ? { NextToken: page.nextToken } : {}) };
    },
  },

  ListSecretVersionIds: {
    action: "secrets:ListSecretVersionIds",
    secret: "SecretId",
    readOnly: true,
    async run(call, d) {
      const i = call.input;
      const includeDeprecated = i.bool("IncludeDeprecated") ?? false;
      const max = i.int("MaxResults", { min: 1, max: 100 }) ?? 100;
      const token = i.string("NextToken", { min: 1, max: 4096 });
      const e = await entryOf(d, call);
      requireLive(e);
      const versions = (await d.secrets.listVersions(call.scope, e.name, includeDeprecated)).reverse();
      let start = 0;
      if (token !== undefined) {
        start = versions.findIndex((v) => v.versionId === Buffer.from(token, "base64url").toString("utf8")) + 1;
        if (start <= 0) throw awsError("InvalidNextTokenException", "The NextToken value is invalid.");
      }
      const page = versions.slice(start, start + max);
      const isDefault = await defaultKeyCheck(d)(call.scope, e.keyId);
      const kmsKeyIds = [isDefault ? "DefaultEncryptionKey" : keyArn(d.accountId, call.scope.region, e.keyId)];
      const last = page[page.length - 1];
      return {
        Versions: page.map((v) => ({ VersionId: v.versionId, ...(v.stages.length > 0 ? { VersionStages: awsStages(v.stages) } : {}), CreatedDate: epochOfIso(v.createdAt), KmsKeyIds: kmsKeyIds })),
        ...(start + max < versions.length && last ? { NextToken: Buffer.from(last.versionId, "utf8").toString("base64url") } : {}),
        ARN: arnOf(d, e),
        Name: e.name,
      };
    },
  },
};
