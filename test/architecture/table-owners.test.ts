import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { SRC, sourceFiles } from "./source-files.js";

/**
 * Each module's repositories own its tables (docs/architecture.md): what another module
 * keeps, even in the same scope, is reached through that module: its service, or a small
 * interface the consumer defines and the owner implements, wired in the composition root
 * (identity's EnvironmentScopeHolder, kms's KeyUser, secrets' RotationsUnderWay, auth's
 * PrincipalDirectory). Checked for every module that has repositories: a table belongs to
 * the module that writes it, and every table a module's repositories name is its own, or
 * one of the read-only joins in ALLOWED.
 *
 * A table is "named" when its name stands as a whole word in a string or template literal of
 * a repository (`*-repo.ts`, where all SQL is: import-rule.test.ts), so a name in a table list
 * (`for (const t of ["…"])`) counts as much as one after FROM. Tables are those the migrations
 * create. `meta` is a key-value table whose rows belong to different modules (each reads and
 * writes only its own names), so it is listed for each of them (SHARED_BY_ROWS).
 */
const OWN_TABLES: Readonly<Record<string, readonly string[]>> = {
  identity: ["environments", "environment_regions", "api_keys", "principals", "sessions", "meta" /* its organization row */],
  references: ["sql_statements", "sql_drafts", "sql_api_tokens", "flink_gateways"],
  audit: ["audit_log", "meta" /* the chain head and the retention checkpoint */],
  auth: ["policies", "roles", "role_policies", "principal_policies", "principal_roles", "request_nonces"],
  kms: ["kms_keys", "kms_key_versions", "kms_aliases"],
  operator: ["meta" /* the keyring, the seal configuration, the CA, the bootstrap administrators; the dev-mode reset empties it */],
  rotation: ["rotations", "account_claims"],
  secrets: ["secrets", "secret_versions", "secret_stages", "secret_replicas"],
  tags: ["tags"],
};

/** The one table whose rows belong to several modules (each its own names). */
const SHARED_BY_ROWS = ["meta"];

/**
 * Read-only joins on another module's table that a list or search needs in one statement (as
 * `<repository> reads <table>`): split in two queries, a filtered page would have to fetch
 * an unbounded set of ids first, or page wrong. Nothing else: writes, deletes, counts and
 * lookups go through the owner. An entry no longer needed fails the test, so the list only
 * shrinks.
 */
const ALLOWED: readonly string[] = [
  // ListSecrets filtered by tag: walks the tag rows (which carry the secret's scope and name,
  // migration 9) joined to secrets in name order and stops after a page; by tag value alone,
  // an EXISTS probe on tags per secret of the page.
  "secrets/secret-repo.ts reads tags",
  // The hourly history prune: finished rotations of purged secrets go in one anti-join
  // (NOT EXISTS on secrets), written behind; asking the secrets module instead would hold
  // every rotated secret's id in memory and take a query per 500 of them.
  "rotation/rotation-repo.ts reads secrets",
];

// ---------------------------------------------------------------------------------------

/** Every table a migration creates (or renames one to). */
function migrationTables(): Set<string> {
  const text = readFileSync(join(SRC, "storage/migrations.ts"), "utf8");
  return new Set([...text.matchAll(/\b(?:CREATE TABLE(?: IF NOT EXISTS)?|RENAME TO)\s+([a-z_][a-z0-9_]*)/g)].map((m) => m[1]!));
}

/** The tables named in the string and template literals of this source text (comments and the paths of imports left out). */
function tablesNamed(source: string, tables: ReadonlySet<string>): Set<string> {
  const named = new Set<string>();
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node) || ts.isImportTypeNode(node)) return; // "../secrets/index.js" is a module, not a table
    const texts = ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node) ? [node.text]
      : ts.isTemplateExpression(node) ? [node.head.text, ...node.templateSpans.map((s) => s.literal.text)] : [];
    for (const t of texts) for (const w of t.match(/[A-Za-z0-9_]+/g) ?? []) if (tables.has(w)) named.add(w);
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile("x.ts", source, ts.ScriptTarget.Latest, true));
  return named;
}

const tables = migrationTables();
const repositories = sourceFiles({ withContracts: false }).filter((f) => f.endsWith("-repo.ts"));

/** Every `<repository> reads <table>` where a module's repository names a table not its own. */
function crossings(): string[] {
  const found: string[] = [];
  for (const f of repositories) {
    const own = OWN_TABLES[f.split("/")[0]!] ?? [];
    for (const t of tablesNamed(readFileSync(join(SRC, f), "utf8"), tables)) if (!own.includes(t)) found.push(`${f} reads ${t}`);
  }
  return found.sort();
}

describe("each module's repositories name only its own tables", () => {
  it("every table listed is one the migrations create", () => {
    expect(Object.values(OWN_TABLES).flat().filter((t) => !tables.has(t))).toEqual([]);
  });

  it("every other table has one owner", () => {
    const owners = Object.values(OWN_TABLES).flat().filter((t) => !SHARED_BY_ROWS.includes(t));
    expect(owners.filter((t, i) => owners.indexOf(t) !== i)).toEqual([]);
  });

  it("every module with repositories is listed", () => {
    const modules = new Set(repositories.map((f) => f.split("/")[0]!));
    expect([...modules].filter((m) => !(m in OWN_TABLES)).sort(), "list the tables this module writes in OWN_TABLES").toEqual([]);
  });

  it("each module's repositories name no other module's table but the allowed joins", () => {
    const found = crossings();
    expect(found.filter((c) => !ALLOWED.includes(c)), "reach that module through its own interface (its repository owns the table)").toEqual([]);
    expect(ALLOWED.filter((a) => !found.includes(a)), "remove these entries from ALLOWED: the code no longer reads the table").toEqual([]);
  });

  it("the checker sees what it must", () => {
    expect(tables.has("environments") && tables.has("flink_gateways") && tables.has("secrets")).toBe(true);
    const named = (src: string) => [...tablesNamed(src, tables)].sort();
    expect(named('db.get("SELECT (SELECT COUNT(*) FROM secrets WHERE x = ?) + (SELECT COUNT(*) FROM kms_keys) AS n")')).toEqual(["kms_keys", "secrets"]);
    expect(named('for (const t of ["flink_gateways", "sql_drafts"]) await tx.run(`DELETE FROM ${t} WHERE ${w}`)')).toEqual(["flink_gateways", "sql_drafts"]);
    expect(named("tx.run(`DELETE FROM ${t} WHERE ${w} AND stopped = 1 AND id IN (SELECT id FROM sql_statements)`)")).toEqual(["sql_statements"]);
    expect(named('// FROM secrets in a comment\ndb.get("SELECT 1 FROM sql_secrets_x, environments_old")')).toEqual([]);
    expect(named('import type { X } from "../secrets/index.js";\nexport { Y } from "../tags/index.js";\ntype Z = import("../secrets/index.js").Z;')).toEqual([]);
  });
});
