import { iso } from "../../core/clock.js";
import { CofferError, invalid } from "../../core/errors.js";
import type { Scope } from "../../core/scope.js";
import { MANAGED_TYPES, NATIVE_MAX_VALUE_BYTES, SQL_VALUE_TYPE, SealedReader, type SecretsModule } from "../../secrets/index.js";
import { SQL_VALUE_NAME } from "../script/sql-references.js";
import type { SqlValue as SqlValueView } from "../../contract/references.js";

/**
 * SQL secret values (the Flink seed): per environment and region, a name and a
 * case-sensitive value that can only be added and deleted. Stored as Coffer secrets of the
 * sealed type `SqlSecretValue` under `.coffer/sql-values/<name>`: encrypted, audited, and
 * never returned by any generic read (src/secrets/managed-types.ts); only resolution reads
 * them, through the `SealedReader` this module holds.
 */
/** What the API answers for a value (src/contract/references.ts): never the value. */
export type { SqlValue as SqlValueView } from "../../contract/references.js";

const PREFIX = MANAGED_TYPES.get(SQL_VALUE_TYPE)!;
const reader = new SealedReader(SQL_VALUE_TYPE);
const full = (name: string) => `${PREFIX}${name}`;

export function validateSqlValueName(name: unknown): string {
  if (typeof name !== "string" || !SQL_VALUE_NAME.test(name))
    throw invalid("A secret value name is a letter, then up to 63 letters, digits, _ or - (it is written ${secret_values.<name>} in SQL).");
  return name;
}

const notFound = (name: string) => new CofferError("SecretNotFound", `The secret value "${name}" does not exist.`);

export function createSqlValues(deps: { secrets: SecretsModule }) {
  const { secrets } = deps;

  async function live(scope: Scope, name: string) {
    const e = await secrets.entry(scope, full(name));
    return e && !e.isDeleted && e.secretType === SQL_VALUE_TYPE ? e : undefined;
  }

  const view = (e: NonNullable<Awaited<ReturnType<typeof live>>>): SqlValueView => ({
    id: e.id, name: e.name.slice(PREFIX.length), createdAt: iso(e.createdAt), modifiedAt: iso(e.updatedAt),
  });

  return {
    async add(scope: Scope, name: string, value: unknown): Promise<SqlValueView> {
      validateSqlValueName(name);
      if (typeof value !== "string" || value.length === 0) throw invalid("A secret value is a non-empty string.");
      if (value.includes("\u0000")) throw invalid("A secret value may not contain NUL characters.");
      const bytes = Buffer.from(value, "utf8");
      if (bytes.length > NATIVE_MAX_VALUE_BYTES) throw new CofferError("SecretValueTooLarge", `A secret value may be at most ${NATIVE_MAX_VALUE_BYTES} bytes.`);
      const e = await secrets.entry(scope, full(name));
      if (e && !e.isDeleted)
        throw new CofferError("SecretAlreadyExists", `The secret value "${name}" already exists; values cannot be changed: delete it and add it again.`);
      // Deleted through the generic API (recovery window): the name is free again for SQL.
      if (e) await secrets.delete(scope, full(name), { force: true });
      try {
        await secrets.managed.create(scope, SQL_VALUE_TYPE, { name: full(name), value: { dataType: "text", bytes } });
      } finally {
        bytes.fill(0);
      }
      const created = await live(scope, name);
      if (!created) throw notFound(name);
      return view(created);
    },

    async describe(scope: Scope, name: string): Promise<SqlValueView> {
      validateSqlValueName(name);
      const e = await live(scope, name);
      if (!e) throw notFound(name);
      return view(e);
    },

    async list(scope: Scope): Promise<SqlValueView[]> {
      const out: SqlValueView[] = [];
      let after: string | undefined;
      do {
        const page = await secrets.list(scope, { namePrefix: PREFIX, limit: 100, after });
        for (const s of page.items) {
          if (s.secretType !== SQL_VALUE_TYPE) continue;
          const e = await live(scope, s.name.slice(PREFIX.length));
          if (e) out.push(view(e));
        }
        after = page.nextToken ?? undefined;
      } while (after !== undefined);
      return out;
    },

    /** Deletes at once (no recovery window: the seed's values can only be added and deleted). */
    async delete(scope: Scope, name: string): Promise<SqlValueView> {
      const v = await this.describe(scope, name);
      await secrets.delete(scope, full(name), { force: true });
      return v;
    },

    /** Which of these names have a value in the scope (no value is read). */
    async existing(scope: Scope, names: readonly string[]): Promise<Set<string>> {
      const out = new Set<string>();
      for (const name of names) if (await live(scope, name)) out.add(name);
      return out;
    },

    /** The resolver path (deploy only: the statement sent to the Flink SQL Gateway): the values of the names that exist (missing ones are absent from the map). */
    async read(scope: Scope, names: readonly string[]): Promise<Map<string, string>> {
      const out = new Map<string, string>();
      for (const name of names) {
        if (!(await live(scope, name))) continue;
        const r = await secrets.getValue(scope, full(name), {}, undefined, reader);
        out.set(name, r.bytes.toString("utf8"));
        r.bytes.fill(0);
      }
      return out;
    },
  };
}

export type SqlValues = ReturnType<typeof createSqlValues>;
