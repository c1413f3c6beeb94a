import { describe, expect, it } from "vitest";
import { CofferError } from "../../core/errors.js";
import { analyzeSql, resolveSql, statementTexts } from "./sql-references.js";

const values: Record<string, string> = { pw: "s3cr3t", PW: "UPPER", user: "alice", quote: "it's", "db-key": "k-1" };
const lookup = (n: string) => values[n];
const resolve = (sql: string) => resolveSql(sql, analyzeSql(sql), lookup, "namespace default");

function refusal(sql: string): { message: string; references: { line: number; reference: string }[] } {
  try {
    resolve(sql);
  } catch (e) {
    expect(e).toBeInstanceOf(CofferError);
    const ce = e as CofferError;
    expect(ce.code).toBe("InvalidSecretReference");
    expect(ce.status).toBe(400);
    for (const v of Object.values(values)) expect(ce.message).not.toContain(v);
    return { message: ce.message, references: (ce.details?.references ?? []) as { line: number; reference: string }[] };
  }
  throw new Error("expected a refusal");
}

const temp = (withClause: string) => `CREATE TEMPORARY TABLE src (\n  name VARCHAR\n) WITH (\n${withClause}\n);`;

describe("SQL secret references: honoured placements", () => {
  it("replaces a reference in an option value of CREATE TEMPORARY TABLE ... WITH, every other byte as written", () => {
    const sql = temp("  'connector' = 'jdbc',\n  'password' = '${secret_values.pw}'");
    expect(resolve(sql)).toBe(sql.replace("${secret_values.pw}", "s3cr3t"));
  });

  it("works inside a longer value and for several references, repeated names too", () => {
    const sql = temp("  'url' = 'jdbc:mysql://h/db?user=${secret_values.user}&password=${secret_values.pw}',\n  'password' = '${secret_values.pw}'");
    expect(resolve(sql)).toContain("'jdbc:mysql://h/db?user=alice&password=s3cr3t'");
    expect(resolve(sql)).toContain("'password' = 's3cr3t'");
    expect(analyzeSql(sql).names).toEqual(["pw", "user"]);
  });

  it("keywords in any case, IF NOT EXISTS, LIKE, PARTITIONED BY and computed columns", () => {
    const sql = "create Temporary TABLE if not exists `t` (a INT, b AS a + 1, WATERMARK FOR ts AS ts - INTERVAL '5' SECOND) PARTITIONED BY (a) with ('k' = '${secret_values.user}') LIKE other (EXCLUDING ALL);";
    expect(resolve(sql)).toContain("with ('k' = 'alice')");
  });

  it("names are case-sensitive", () => {
    expect(resolve(temp("'a' = '${secret_values.PW}', 'b' = '${secret_values.pw}'"))).toContain("'a' = 'UPPER', 'b' = 's3cr3t'");
  });

  it("a quote in a value is doubled: the literal's value is exactly the secret and cannot be ended by it", () => {
    expect(resolve(temp("'p' = '${secret_values.quote}'"))).toContain("'p' = 'it''s'");
  });

  it("a literal with '' escapes around the reference", () => {
    expect(resolve(temp("'p' = 'a''b${secret_values.pw}''c'"))).toContain("'p' = 'a''bs3cr3t''c'");
  });

  it("references in comments are neither honoured nor errors, and are passed on as written", () => {
    const sql = `-- uses \${secret_values.pw}\n/* \${secret_values.missing} */\n${temp("'p' = '${secret_values.pw}' -- ${secret_values.nope}")}`;
    const out = resolve(sql);
    expect(out).toContain("-- uses ${secret_values.pw}\n/* ${secret_values.missing} */");
    expect(out).toContain("'p' = 's3cr3t' -- ${secret_values.nope}");
  });

  it("other ${...} placeholders (deployment variables) are left alone", () => {
    const sql = temp("'topic' = '${topic}', 'p' = '${secret_values.pw}'");
    expect(resolve(sql)).toContain("'topic' = '${topic}', 'p' = 's3cr3t'");
  });

  it("a script with several statements resolves only the temporary table's options", () => {
    const sql = `${temp("'p' = '${secret_values.pw}'")}\nINSERT INTO sink SELECT * FROM src;`;
    expect(resolve(sql)).toBe(sql.replace("${secret_values.pw}", "s3cr3t"));
  });

  it("a script without references is returned unchanged", () => {
    const sql = "SELECT 'a;b' AS `x;y`, \"q\"\"r\" FROM t -- ;\n;";
    expect(resolve(sql)).toBe(sql);
  });
});

describe("SQL secret references: refused placements (400 naming the line and the reference)", () => {
  it("plain CREATE TABLE", () => {
    const r = refusal("CREATE TABLE t (a INT)\nWITH ('password' = '${secret_values.pw}');");
    expect(r.message).toContain("line 2: ${secret_values.pw}");
    expect(r.message).toContain("CREATE TEMPORARY TABLE");
    expect(r.references).toEqual([expect.objectContaining({ line: 2, reference: "${secret_values.pw}" })]);
  });

  it("outside the WITH clause: a column default, a SELECT, an INSERT, a SET", () => {
    expect(refusal("CREATE TEMPORARY TABLE t (a VARCHAR COMMENT '${secret_values.pw}') WITH ('k' = 'v');").message).toContain("line 1: ${secret_values.pw} is not inside a quoted option value");
    expect(refusal("SELECT '${secret_values.pw}' FROM t;").message).toContain("outside the WITH");
    expect(refusal("INSERT INTO t VALUES ('x', '${secret_values.pw}');").references[0]!.line).toBe(1);
    expect(refusal("SET 'table.x' = '${secret_values.pw}';").message).toContain("${secret_values.pw}");
  });

  it("an option key, and a value written without quotes", () => {
    expect(refusal(temp("'${secret_values.pw}' = 'v'")).message).toContain("line 4");
    expect(refusal(temp("'password' = ${secret_values.pw}")).message).toContain("not inside a quoted value");
  });

  it("quoted identifiers (backticks and double quotes) and table hints", () => {
    expect(refusal("SELECT * FROM `${secret_values.pw}`;").message).toContain("quoted identifier");
    expect(refusal('SELECT * FROM "${secret_values.pw}";').message).toContain("quoted identifier");
    expect(refusal("SELECT * FROM t /*+ OPTIONS('password'='${secret_values.pw}') */;").message).toContain("table hint");
  });

  it("a string or comment cannot smuggle a reference out of its statement", () => {
    // The `'` inside the comment does not open a literal; the reference after it is in SELECT.
    expect(refusal(`${temp("'k' = 'v' -- it's")}\nSELECT '\${secret_values.pw}';`).references[0]!.line).toBe(6);
    // A `--` inside a literal does not start a comment: the reference is refused, not hidden.
    expect(refusal("SELECT '-- ${secret_values.pw}' FROM t;").message).toContain("${secret_values.pw}");
    // A `;` in a literal does not end the statement.
    expect(resolve(temp("'a' = 'x;y', 'p' = '${secret_values.pw}'"))).toContain("'p' = 's3cr3t'");
  });

  it("malformed references: uppercase prefix, spaces, bad names, no closing brace", () => {
    expect(refusal(temp("'p' = '${SECRET_VALUES.pw}'")).message).toContain("malformed");
    expect(refusal(temp("'p' = '${ secret_values.pw }'")).message).toContain("malformed");
    expect(refusal(temp("'p' = '${secret_values.bad name}'")).message).toContain("malformed");
    expect(refusal(temp("'p' = '${secret_values.pw'")).message).toContain("malformed");
  });

  it("missing values name each reference and its line", () => {
    const r = refusal(temp("'a' = '${secret_values.nope}',\n'b' = '${secret_values.Pw}'"));
    expect(r.message).toContain('line 4: ${secret_values.nope} names no secret value in namespace default');
    expect(r.references.map((x) => x.line)).toEqual([4, 5]);
  });

  it("unterminated literals, identifiers and comments are errors with their line", () => {
    expect(refusal("SELECT 1;\nSELECT 'abc").message).toContain("line 2: unterminated string literal");
    expect(refusal("SELECT `abc").message).toContain("unterminated quoted identifier");
    expect(refusal("SELECT 1 /* abc").message).toContain("unterminated comment");
  });
});

describe("statement splitting", () => {
  it("splits at top-level semicolons, keeps statement sets whole, skips empty statements", () => {
    const sql = "CREATE TEMPORARY TABLE a (x INT) WITH ('k'=';');\n-- c\n;\nEXECUTE STATEMENT SET BEGIN\nINSERT INTO b SELECT * FROM a;\nINSERT INTO c SELECT * FROM a;\nEND;";
    const parts = statementTexts(sql);
    expect(parts).toHaveLength(2);
    expect(parts[0]).toBe("CREATE TEMPORARY TABLE a (x INT) WITH ('k'=';')");
    expect(parts[1]).toMatch(/^EXECUTE STATEMENT SET BEGIN\nINSERT INTO b SELECT \* FROM a;\nINSERT INTO c SELECT \* FROM a;\nEND$/);
  });
});
