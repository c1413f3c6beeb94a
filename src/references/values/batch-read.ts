import { CofferError, invalid } from "../../core/errors.js";
import type { Scope } from "../../core/scope.js";
import { isReservedName, validateSecretName, NATIVE_MAX_NAME, type KeyGuard, type SecretsModule } from "../../secrets/index.js";

/**
 * Many secret values in one call (`coffer run`, `coffer render`), with
 * BatchGetSecretValue semantics: every value is authorized on its own; a value the caller
 * may not read (or that cannot be read) is an error in the answer, never silently dropped.
 */
export const MAX_BATCH = 500;

export interface BatchValue {
  name: string;
  versionId: string;
  dataType: "text" | "binary";
  value?: string;
  valueBinary?: string;
}

export interface BatchError {
  name: string;
  code: string;
  message: string;
}

export async function batchRead(
  secrets: SecretsModule,
  scope: Scope,
  sel: { pathPrefix?: string | undefined; names?: string[] | undefined },
  authorize: (name: string) => Promise<void>,
  guard: KeyGuard | undefined,
): Promise<{ values: BatchValue[]; errors: BatchError[] }> {
  if ((sel.pathPrefix === undefined) === (sel.names === undefined)) throw invalid("Give exactly one of pathPrefix or names.");
  let names: string[];
  if (sel.names !== undefined) {
    if (sel.names.length === 0 || sel.names.length > 100) throw invalid("Give 1-100 names.");
    names = [...new Set(sel.names)];
  } else {
    const prefix = sel.pathPrefix!;
    if (prefix.length > NATIVE_MAX_NAME) throw invalid(`A path prefix is at most ${NATIVE_MAX_NAME} characters.`);
    names = [];
    let after: string | undefined;
    do {
      const page = await secrets.list(scope, { namePrefix: prefix, limit: 100, after });
      // SQL secret values and workflow keys are not program secrets.
      for (const s of page.items) if (!isReservedName(s.name)) names.push(s.name);
      if (names.length > MAX_BATCH) throw invalid(`More than ${MAX_BATCH} secrets start with "${prefix.slice(0, 64)}"; narrow the path.`);
      after = page.nextToken ?? undefined;
    } while (after !== undefined);
  }
  const values: BatchValue[] = [];
  const errors: BatchError[] = [];
  for (const name of names) {
    try {
      validateSecretName(name, NATIVE_MAX_NAME);
      await authorize(name);
      const r = await secrets.getValue(scope, name, {}, guard);
      values.push({ name, versionId: r.versionId, dataType: r.dataType, ...(r.dataType === "text" ? { value: r.bytes.toString("utf8") } : { valueBinary: r.bytes.toString("base64") }) });
      r.bytes.fill(0);
    } catch (e) {
      const ce = e instanceof CofferError ? e : new CofferError("InternalError", "The value could not be read.");
      errors.push({ name: name.slice(0, 256), code: ce.code, message: ce.message });
    }
  }
  return { values, errors };
}
