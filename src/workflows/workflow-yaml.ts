import { LineCounter, isMap, isPair, isScalar, parseDocument, visit, type Document, type Pair } from "yaml";
import { CofferError, invalid } from "../core/errors.js";
import { KEY_TYPES, type WorkflowKeyData, type WorkflowKeyType } from "./workflow-keys.js";

/**
 * Workflow YAML with key references (docs/references.md):
 *
 *   keys:                          # every key the workflow uses, by name, with its type
 *     registry: ImageRepository
 *     cos-main: ObjectStorage
 *     scf: FunctionInvocation
 *     mysql: Custom
 *   steps:
 *     - image: ccr.ccs.tencentyun.com/team/app:1
 *       imagePullKey: registry      # → imagePullSecret: {server, username, password}
 *       volumes:
 *         - bucket: data-1250000000
 *           storageKey: cos-main    # → storageCredentials: {secretId, secretKey}
 *     - function: notify
 *       invocationKey: scf          # → tenant: {name, secretId, secretKey}
 *       env:
 *         DB_PASSWORD: ${{ keys.mysql.password }}   # a Custom key's value, inside any string
 *
 * Rendering checks that every key used is declared, every declared key exists in the
 * service with the declared type, each place gets the type it needs and each `${{ keys.k.v }}`
 * names a value of a Custom key; otherwise one 400 lists every problem with its line
 * (names only, never a credential). The rendered YAML drops `keys:` and carries the
 * credentials in place; comments and layout are kept.
 */
const PLACES: Readonly<Record<string, { needs: WorkflowKeyType; becomes: string }>> = {
  imagePullKey: { needs: "ImageRepository", becomes: "imagePullSecret" },
  storageKey: { needs: "ObjectStorage", becomes: "storageCredentials" },
  invocationKey: { needs: "FunctionInvocation", becomes: "tenant" },
};
const INTERPOLATION = /\$\{\{\s*keys\.([A-Za-z0-9][A-Za-z0-9_-]*)\.([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}/g;
const ATTEMPT = /\$\{\{\s*keys\b/g;
export const MAX_WORKFLOW_BYTES = 262_144;

interface Use {
  name: string;
  line: number;
  place: string;
  needs: WorkflowKeyType;
  field?: string;
}

export interface WorkflowPlan {
  doc: Document;
  declared: Map<string, { type: WorkflowKeyType; line: number }>;
  uses: Use[];
  problems: { line: number; key: string; problem: string }[];
}

/** Parses the YAML and finds declarations and uses (no store access). */
export function planWorkflow(text: string): WorkflowPlan {
  if (typeof text !== "string" || Buffer.byteLength(text, "utf8") > MAX_WORKFLOW_BYTES) throw invalid(`A workflow is a YAML text of at most ${MAX_WORKFLOW_BYTES} bytes.`);
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw invalid(`The workflow is not valid YAML: line ${lc.linePos(e.pos[0]).line}: ${e.code}.`);
  }
  if (!isMap(doc.contents)) throw invalid("A workflow is a YAML mapping (with a top-level keys: section).");
  const lineOf = (range: readonly number[] | null | undefined) => (range ? lc.linePos(range[0]!).line : 0);
  const problems: WorkflowPlan["problems"] = [];
  const declared = new Map<string, { type: WorkflowKeyType; line: number }>();
  const keysNode = doc.contents.get("keys", true);
  if (keysNode !== undefined) {
    if (!isMap(keysNode)) throw invalid(`line ${lineOf(keysNode.range)}: keys: must map each key name to its type (${KEY_TYPES.join(", ")}).`);
    for (const p of keysNode.items) {
      const name = isScalar(p.key) ? String(p.key.value) : "";
      const type = isScalar(p.value) ? String(p.value.value) : "";
      const line = lineOf(isScalar(p.key) ? p.key.range : undefined);
      if (!(KEY_TYPES as readonly string[]).includes(type)) problems.push({ line, key: name, problem: `is declared with the type "${type.slice(0, 40)}"; the types are ${KEY_TYPES.join(", ")}` });
      else declared.set(name, { type: type as WorkflowKeyType, line });
    }
  }
  const uses: Use[] = [];
  visit(doc, {
    Pair(_, pair) {
      if (pair === undefined || !isPair(pair) || !isScalar(pair.key)) return;
      const place = PLACES[String(pair.key.value)];
      if (!place) return;
      const line = lineOf(pair.key.range);
      if (!isScalar(pair.value) || typeof pair.value.value !== "string") problems.push({ line, key: "", problem: `${String(pair.key.value)} must name a key` });
      else uses.push({ name: pair.value.value, line, place: String(pair.key.value), needs: place.needs });
    },
    Scalar(key, s) {
      if (key === "key" || typeof s.value !== "string" || !s.value.includes("${{")) return;
      const line = lineOf(s.range);
      const attempts = [...s.value.matchAll(ATTEMPT)].length;
      const found = [...s.value.matchAll(INTERPOLATION)];
      for (const m of found) uses.push({ name: m[1]!, field: m[2]!, line, place: "${{ keys.… }}", needs: "Custom" });
      if (attempts > found.length) problems.push({ line, key: "", problem: "has a malformed reference: write ${{ keys.<name>.<value> }}" });
    },
  });
  for (const u of uses) {
    const d = declared.get(u.name);
    if (!d) problems.push({ line: u.line, key: u.name, problem: `is used (${u.place}) but not declared under keys:` });
    else if (d.type !== u.needs) problems.push({ line: u.line, key: u.name, problem: `is declared as ${d.type}; ${u.place} needs a ${u.needs} key` });
  }
  return { doc, declared, uses, problems };
}

function fail(problems: WorkflowPlan["problems"], service: string): CofferError {
  const shown = problems.slice(0, 20).map((p) => `${p.line ? `line ${p.line}: ` : ""}${p.key ? `key "${p.key}" ` : ""}${p.problem}`);
  return new CofferError("InvalidSecretReference", `The workflow cannot be rendered for service "${service}": ${shown.join("; ")}${problems.length > 20 ? ` (and ${problems.length - 20} more)` : ""}.`, {
    details: { problems: problems.slice(0, 200) },
  });
}

/** Checks the plan against the stored keys and renders the YAML with their credentials. */
export function renderWorkflow(plan: WorkflowPlan, keys: ReadonlyMap<string, WorkflowKeyData | undefined>, service: string): string {
  const problems = [...plan.problems];
  for (const [name, d] of plan.declared) {
    const k = keys.get(name);
    if (!k) problems.push({ line: d.line, key: name, problem: `does not exist in workflow service "${service}"` });
    else if (k.type !== d.type) problems.push({ line: d.line, key: name, problem: `is a ${k.type} key, declared as ${d.type}` });
  }
  for (const u of plan.uses) {
    const k = keys.get(u.name);
    if (u.field !== undefined && k?.type === "Custom" && plan.declared.get(u.name)?.type === "Custom" && k.fields[u.field] === undefined)
      problems.push({ line: u.line, key: u.name, problem: `has no value named "${u.field}"` });
  }
  if (problems.length > 0) throw fail(problems, service);
  const { doc } = plan;
  visit(doc, {
    Pair(_, pair: Pair) {
      if (!isScalar(pair.key)) return;
      const place = PLACES[String(pair.key.value)];
      if (!place || !isScalar(pair.value)) return;
      const f = keys.get(String(pair.value.value))!.fields;
      const value =
        place.needs === "ImageRepository" ? { server: f.registryDomain, username: f.username, password: f.password }
          : place.needs === "ObjectStorage" ? { secretId: f.secretId, secretKey: f.secretKey }
            : { name: f.tenantName, secretId: f.tenantId, secretKey: f.tenantKey };
      const comment = pair.value.comment;
      const node = doc.createNode(value);
      if (comment) node.commentBefore = comment; // a trailing comment stays with the pair
      pair.key = doc.createNode(place.becomes);
      pair.value = node;
      return visit.SKIP; // credentials are never scanned for references
    },
    Scalar(key, s) {
      if (key === "key" || typeof s.value !== "string" || !s.value.includes("${{")) return;
      s.value = s.value.replace(INTERPOLATION, (_m, name: string, field: string) => keys.get(name)!.fields[field]!);
    },
  });
  if (isMap(doc.contents)) doc.contents.delete("keys");
  return doc.toString();
}
