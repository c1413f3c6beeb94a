import { readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { SRC, sourceFiles } from "./source-files.js";

/**
 * Each module's repositories own its tables (docs/architecture.md): what
 * another module keeps, even in the same scope, is reached through that module (e.g. an
 * environment's removal asks each module through identity's EnvironmentScopeHolder). Checked
 * for the modules listed in OWN_TABLES: every table their repositories name is theirs.
 *
 * A table is "named" when its name stands as a whole word in a string or template literal of
 * a repository (`*-repo.ts`, where all SQL is: import-rule.test.ts), so a name in a table list
 * (`for (const t of ["…"])`) counts as much as one after FROM. Tables are those the migrations
 * create. A module not listed is not checked yet (some read another module's tables: kms
 * counts the secrets under a key); list one once its repositories name only its own tables.
 */
const OWN_TABLES: Readonly<Record<string, readonly string[]>> = {
  identity: ["environments", "environment_regions", "api_keys", "principals", "sessions", "meta" /* its organization row */],
  references: ["sql_statements", "sql_drafts", "sql_api_tokens", "flink_gateways"],
};

// ---------------------------------------------------------------------------------------

/** Every table a migration creates (or renames one to). */
function migrationTables(): Set<string> {
  const text = readFileSync(join(SRC, "storage/migrations.ts"), "utf8");
  return new Set([...text.matchAll(/\b(?:CREATE TABLE(?: IF NOT EXISTS)?|RENAME TO)\s+([a-z_][a-z0-9_]*)/g)].map((m) => m[1]!));
}

/** The tables named in the string and template literals of this source text (comments left out). */
function tablesNamed(source: string, tables: ReadonlySet<string>): Set<string> {
  const named = new Set<string>();
  const visit = (node: ts.Node): void => {
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

describe("each module's repositories name only its own tables", () => {
  it("every table listed is one the migrations create", () => {
    expect(Object.values(OWN_TABLES).flat().filter((t) => !tables.has(t))).toEqual([]);
  });

  it("the listed modules' repositories name no other module's table", () => {
    const found: string[] = [];
    for (const [module, own] of Object.entries(OWN_TABLES))
      for (const f of repositories.filter((r) => r.startsWith(`${module}/`)))
        for (const t of tablesNamed(readFileSync(join(SRC, f), "utf8"), tables)) if (!own.includes(t)) found.push(`src/${f} names ${t}`);
    expect(found, "reach that module through its own interface (its repository owns the table)").toEqual([]);
  });

  it("the checker sees what it must", () => {
    expect(tables.has("environments") && tables.has("flink_gateways") && tables.has("secrets")).toBe(true);
    const named = (src: string) => [...tablesNamed(src, tables)].sort();
    expect(named('db.get("SELECT (SELECT COUNT(*) FROM secrets WHERE x = ?) + (SELECT COUNT(*) FROM kms_keys) AS n")')).toEqual(["kms_keys", "secrets"]);
    expect(named('for (const t of ["flink_gateways", "sql_drafts"]) await tx.run(`DELETE FROM ${t} WHERE ${w}`)')).toEqual(["flink_gateways", "sql_drafts"]);
    expect(named("tx.run(`DELETE FROM ${t} WHERE ${w} AND stopped = 1 AND id IN (SELECT id FROM sql_statements)`)")).toEqual(["sql_statements"]);
    expect(named('// FROM secrets in a comment\ndb.get("SELECT 1 FROM sql_secrets_x, environments_old")')).toEqual([]);
  });
});
