import { iso } from "../core/clock.js";
import { CofferError, invalid } from "../core/errors.js";
import type { Scope } from "../core/scope.js";
import { CURRENT, MANAGED_TYPES, NATIVE_MAX_VALUE_BYTES, SealedReader, WORKFLOW_KEY_TYPE, type SecretsModule } from "../secrets/index.js";
import { WORKFLOW_KEY_TYPES as KEY_TYPES, type WorkflowKey as WorkflowKeyView, type WorkflowKeyType } from "../contract/workflows.js";

/**
 * Keys of a workflow service (the Tencent serverless workflow seed), four types with the
 * seed's fields. A workflow service is a scope inside an environment (and region); key
 * names are unique per service. Each key is a Coffer secret of the managed type
 * `WorkflowKey` named `.coffer/workflow-keys/<service>/<name>`, its value the JSON of the
 * key's fields: encrypted, versioned (an update is a new version), audited.
 */
/** This module alone reads workflow keys' values (src/secrets/managed-types.ts). */
const reader = new SealedReader(WORKFLOW_KEY_TYPE);

/** The key types and what the API answers for a key are the wire's own (src/contract/workflows.ts). */
export { WORKFLOW_KEY_TYPES as KEY_TYPES } from "../contract/workflows.js";
export type { WorkflowKey as WorkflowKeyView, WorkflowKeyType } from "../contract/workflows.js";

/** The fields of each type; the last ones listed in `SECRET_FIELDS` are never shown by describe. */
export const FIELDS: Readonly<Record<Exclude<WorkflowKeyType, "Custom">, readonly string[]>> = {
  ImageRepository: ["registryDomain", "username", "password"],
  ObjectStorage: ["secretId", "secretKey"],
  FunctionInvocation: ["tenantName", "tenantId", "tenantKey"],
};
const SECRET_FIELDS = new Set(["password", "secretKey", "tenantKey"]);

export interface WorkflowKeyData {
  type: WorkflowKeyType;
  /** The typed fields, or the key–value pairs of a Custom key. */
  fields: Record<string, string>;
}

const PREFIX = MANAGED_TYPES.get(WORKFLOW_KEY_TYPE)!;
const SERVICE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,59}$/;
const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,59}$/;
const VALUE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;
const full = (service: string, name: string) => `${PREFIX}${service}/${name}`;

export function validateService(s: unknown): string {
  if (typeof s !== "string" || !SERVICE.test(s)) throw invalid("A workflow service name is 1-60 letters, digits, _ and -.");
  return s;
}

export function validateKeyName(s: unknown): string {
  if (typeof s !== "string" || !KEY_NAME.test(s)) throw invalid("A workflow key name is 1-60 letters, digits, _ and -, starting with a letter or digit.");
  return s;
}

const str = (v: unknown, what: string, max = 1024): string => {
  if (typeof v !== "string" || v.length === 0 || v.length > max || v.includes("\u0000")) throw invalid(`${what} is a string of 1-${max} characters.`);
  return v;
};

/** Checks an API body: `{type, name, …fields}` or `{type: "Custom", name, values: {k: v}}`; the name of a function invocation key is its TenantName. */
export function parseKeyInput(body: Record<string, unknown>): { name: string; data: WorkflowKeyData } {
  const type = body.type;
  if (typeof type !== "string" || !(KEY_TYPES as readonly string[]).includes(type)) throw invalid(`A workflow key type is one of ${KEY_TYPES.join(", ")}.`);
  const t = type as WorkflowKeyType;
  if (t === "Custom") {
    const values = body.values;
    if (typeof values !== "object" || values === null || Array.isArray(values)) throw invalid("A Custom key has values: an object of name → value.");
    const entries = Object.entries(values as Record<string, unknown>);
    if (entries.length === 0 || entries.length > 50) throw invalid("A Custom key has 1-50 values.");
    const fields: Record<string, string> = {};
    for (const [k, v] of entries) {
      if (!VALUE_NAME.test(k)) throw invalid(`The value name "${k.slice(0, 64)}" is not valid: a letter or _, then up to 63 letters, digits, _ . -.`);
      fields[k] = str(v, `The value of "${k}"`, 4096);
    }
    return { name: validateKeyName(body.name), data: { type: t, fields } };
  }
  const fields: Record<string, string> = {};
  for (const f of FIELDS[t]) fields[f] = str(body[f], `${f}`);
  if (t === "FunctionInvocation" && body.name !== undefined && body.name !== fields.tenantName) throw invalid("The name of a function invocation key is its tenantName.");
  return { name: validateKeyName(t === "FunctionInvocation" ? fields.tenantName : body.name), data: { type: t, fields } };
}

export function createWorkflowKeys(deps: { secrets: SecretsModule }) {
  const { secrets } = deps;

  async function live(scope: Scope, service: string, name: string) {
    const e = await secrets.entry(scope, full(service, name));
    return e && !e.isDeleted && e.secretType === WORKFLOW_KEY_TYPE ? e : undefined;
  }

  async function load(scope: Scope, service: string, name: string): Promise<WorkflowKeyData | undefined> {
    if (!(await live(scope, service, name))) return undefined;
    const r = await secrets.getValue(scope, full(service, name), {}, undefined, reader);
    try {
      const parsed = JSON.parse(r.bytes.toString("utf8")) as WorkflowKeyData;
      return parsed;
    } finally {
      r.bytes.fill(0);
    }
  }

  function encode(d: WorkflowKeyData): Buffer {
    const b = Buffer.from(JSON.stringify(d), "utf8");
    if (b.length > NATIVE_MAX_VALUE_BYTES) throw new CofferError("SecretValueTooLarge", `A workflow key may hold at most ${NATIVE_MAX_VALUE_BYTES} bytes.`);
    return b;
  }

  async function view(scope: Scope, service: string, name: string, withInfo: boolean): Promise<WorkflowKeyView> {
    const e = await live(scope, service, name);
    if (!e) throw new CofferError("WorkflowKeyNotFound", `The workflow service "${service}" has no key "${name}".`);
    const type = (JSON.parse(e.extendedConfig ?? "{}") as { keyType?: WorkflowKeyType }).keyType ?? "Custom";
    let info: Record<string, string> | undefined;
    let valueNames: string[] | undefined;
    if (withInfo) {
      const d = await load(scope, service, name);
      if (d && d.type === "Custom") valueNames = Object.keys(d.fields).sort();
      else if (d) info = Object.fromEntries(Object.entries(d.fields).filter(([k]) => !SECRET_FIELDS.has(k)));
    }
    return { service, name, type, info, valueNames, versionId: e.stages.get(CURRENT), createdAt: iso(e.createdAt), updatedAt: iso(e.updatedAt) };
  }

  return {
    async create(scope: Scope, service: string, body: Record<string, unknown>): Promise<WorkflowKeyView> {
      validateService(service);
      const { name, data } = parseKeyInput(body);
      const e = await secrets.entry(scope, full(service, name));
      if (e && !e.isDeleted) throw new CofferError("WorkflowKeyAlreadyExists", `The workflow service "${service}" already has a key "${name}".`);
      if (e) await secrets.delete(scope, full(service, name), { force: true });
      const bytes = encode(data);
      try {
        await secrets.managed.create(scope, WORKFLOW_KEY_TYPE, {
          name: full(service, name), value: { dataType: "text", bytes }, extendedConfig: JSON.stringify({ workflowService: service, keyType: data.type }),
        });
      } finally {
        bytes.fill(0);
      }
      return view(scope, service, name, true);
    },

    /** A new version with new fields; the type stays. */
    async update(scope: Scope, service: string, name: string, body: Record<string, unknown>): Promise<WorkflowKeyView> {
      validateService(service);
      validateKeyName(name);
      const current = await view(scope, service, name, false);
      const parsed = parseKeyInput({ ...body, name: body.type === "FunctionInvocation" ? body.tenantName : name });
      if (parsed.name !== name) throw invalid("The tenantName of a function invocation key is its name; it cannot change.");
      if (parsed.data.type !== current.type) throw invalid(`The key "${name}" is a ${current.type} key; its type cannot change (delete it and create it again).`);
      const bytes = encode(parsed.data);
      try {
        await secrets.managed.putValue(scope, full(service, name), { dataType: "text", bytes }, {});
      } finally {
        bytes.fill(0);
      }
      return view(scope, service, name, true);
    },

    describe: (scope: Scope, service: string, name: string) => view(scope, validateService(service), validateKeyName(name), true),

    async list(scope: Scope, service?: string): Promise<WorkflowKeyView[]> {
      if (service !== undefined) validateService(service);
      const out: WorkflowKeyView[] = [];
      let after: string | undefined;
      do {
        const page = await secrets.list(scope, { namePrefix: service === undefined ? PREFIX : `${PREFIX}${service}/`, limit: 100, after });
        for (const s of page.items) {
          if (s.secretType !== WORKFLOW_KEY_TYPE) continue;
          const [svc, ...rest] = s.name.slice(PREFIX.length).split("/");
          out.push(await view(scope, svc!, rest.join("/"), false));
        }
        after = page.nextToken ?? undefined;
      } while (after !== undefined);
      return out;
    },

    async delete(scope: Scope, service: string, name: string): Promise<void> {
      await view(scope, validateService(service), validateKeyName(name), false);
      await secrets.delete(scope, full(service, name), { force: true });
    },

    /** The keys' data (credentials) by name; a missing key maps to undefined. */
    async read(scope: Scope, service: string, names: readonly string[]): Promise<Map<string, WorkflowKeyData | undefined>> {
      validateService(service);
      const out = new Map<string, WorkflowKeyData | undefined>();
      for (const n of names) out.set(n, KEY_NAME.test(n) ? await load(scope, service, n) : undefined);
      return out;
    },
  };
}

export type WorkflowKeys = ReturnType<typeof createWorkflowKeys>;
