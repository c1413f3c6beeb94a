import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testAccount, type TestAccount } from "../helpers/accounts.js";
import { FakeFlinkGateway } from "../helpers/fake-flink-gateway.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

/**
 * The Flink seed's SQL Editor → Drafts flow on the native API (`/v1/sql/drafts`): a draft
 * referencing `${secret_values.…}` is validated by line, deployed (the only place a value
 * is resolved: the script the Flink SQL Gateway receives) and stopped; a deleted value is
 * the reason a draft cannot be published. The gateway is a local server speaking its REST API.
 */
let s: TestServer;
let gw: FakeFlinkGateway;
let editor: TestAccount;
const VALUE = "Dr4ft-'S3cr3t'-Value";
const MARK = "S3cr3t";
const script = (ref: string, tail = "INSERT INTO sink SELECT * FROM src") =>
  `CREATE TEMPORARY TABLE src (\n  id INT\n) WITH (\n  'connector' = 'jdbc',\n  'password' = '${ref}'\n);\n${tail};`;
const D = "/v1/sql/drafts";
const as = (a: { auth: string } | undefined) => (a ? { auth: a.auth } : {});
const req = (method: string, path: string, body?: unknown, a?: { auth: string }, headers?: Record<string, string>) => s.request(method, path, body, { ...as(a), ...(headers ? { headers } : {}) });
/** Every answer of these tests goes through here: none may carry the value. */
const seen: string[] = [];
async function call(method: string, path: string, body?: unknown, a?: { auth: string }, headers?: Record<string, string>) {
  const r = await req(method, path, body, a, headers);
  seen.push(JSON.stringify(r.body ?? null), [...r.headers.entries()].join("\n"));
  return r;
}

beforeAll(async () => {
  s = await startTestServer();
  gw = await new FakeFlinkGateway().start();
  expect((await s.request("PUT", "/v1/sql/gateway", { url: gw.url })).status).toBe(200);
  editor = await testAccount(s.request, "drafts-editor", { role: "editor" });
  expect((await call("POST", "/v1/sql/values", { name: "pw", value: VALUE }, editor)).status).toBe(201);
});
afterAll(async () => {
  await s?.close();
  await gw?.stop();
});

describe("SQL drafts: the seed's SQL editor flow", () => {
  it("an editor creates a draft; its validation marks an unknown reference and a refused place by line, redacted", async () => {
    const text = `${script("${secret_values.pw}")}\nCREATE TABLE t2 (a INT) WITH ('x' = '\${secret_values.pw}');\nCREATE TEMPORARY TABLE t3 (a INT) WITH ('y' = '\${secret_values.nope}');`;
    const c = await call("POST", D, { name: "My_first_SQL", statement: text }, editor);
    expect(c.status).toBe(201);
    expect(c.body).toMatchObject({ name: "My_first_SQL", statement: text, deployment: null, resourceVersion: 1 });
    expect(c.body.validation.valid).toBe(false);
    expect(c.body.validation.references).toEqual([
      { line: 5, reference: "${secret_values.pw}", name: "pw", allowed: true, exists: true },
      expect.objectContaining({ line: 8, name: "pw", allowed: false, problem: expect.stringContaining("CREATE TABLE") }),
      expect.objectContaining({ line: 9, name: "nope", allowed: true, exists: false, problem: expect.stringContaining("names no secret value") }),
    ]);
    expect(c.body.validation.statement).toContain("'password' = '******'");
    expect((await call("POST", D, { name: "My_first_SQL" }, editor)).body.code).toBe("DraftAlreadyExists");
    expect((await call("POST", D, { name: "bad name" }, editor)).status).toBe(400);
    // A refused draft cannot be published: the answer names each line; nothing is deployed.
    const dep = await call("POST", `${D}/My_first_SQL/deploy`, undefined, editor);
    expect(dep.status).toBe(400);
    expect(dep.body.code).toBe("InvalidSecretReference");
    expect(dep.body.message).toContain("line 8: ${secret_values.pw}");
    expect(dep.body.message).toContain("line 9: ${secret_values.nope}");
    expect((await call("GET", `${D}/My_first_SQL`, undefined, editor)).body.deployment).toBeNull();
    const v = await call("POST", `${D}/My_first_SQL/validate`, undefined, editor);
    expect(v.status).toBe(200);
    expect(v.body.valid).toBe(false);
  });

  it("saving with a stale resourceVersion is refused; a fixed draft deploys: only the gateway receives the value", async () => {
    expect((await call("PUT", `${D}/My_first_SQL`, { statement: script("${secret_values.pw}"), resourceVersion: 7 }, editor)).status).toBe(409);
    const u = await call("PUT", `${D}/My_first_SQL`, { statement: script("${secret_values.pw}"), resourceVersion: 1 }, editor);
    expect(u.status).toBe(200);
    expect(u.body).toMatchObject({ resourceVersion: 2, validation: { valid: true } });
    const dep = await call("POST", `${D}/My_first_SQL/deploy`, undefined, editor);
    expect(dep.status).toBe(200);
    expect(dep.body.deployment).toMatchObject({ statement: "my-first-sql", phase: "RUNNING", stopped: false, outdated: false });
    const ops = gw.operations.slice(-2);
    expect(ops[0]!.statement).toContain(`'password' = '${VALUE.replace(/'/g, "''")}'`);
    expect(ops[1]!.statement).toBe("INSERT INTO sink SELECT * FROM src");
    // Stored unresolved; the deployment is an ordinary statement of the scope.
    const rows = await s.app.storage.all<Record<string, unknown>>("SELECT * FROM sql_drafts");
    expect(JSON.stringify(rows)).not.toContain(MARK);
    expect(JSON.stringify(await s.app.storage.all("SELECT * FROM sql_statements"))).not.toContain(MARK);
    // Deploying the same running text again changes nothing.
    const n = gw.operations.length;
    expect((await call("POST", `${D}/My_first_SQL/deploy`, undefined, editor)).body.deployment.phase).toBe("RUNNING");
    expect(gw.operations.length).toBe(n);
    // The audit log names the value the deployment resolved, never its content.
    let records = "";
    for (let i = 0; i < 50 && !records.includes("sql-value/pw"); i++) {
      if (i > 0) await new Promise((r) => setTimeout(r, 20));
      const audit = await s.request("GET", "/v1/audit?limit=1000");
      expect(audit.status).toBe(200);
      records = JSON.stringify(audit.body);
    }
    expect(records).toContain("sql-value/pw");
    expect(records).not.toContain(MARK);
  });

  it("stop, edit (the deployment is outdated), deploy again: the statement is replaced", async () => {
    const stop = await call("POST", `${D}/My_first_SQL/stop`, undefined, editor);
    expect(stop.status).toBe(200);
    expect(stop.body.deployment).toMatchObject({ phase: "STOPPED", stopped: true });
    expect(gw.operations.filter((o) => o.statement.startsWith("INSERT INTO sink")).at(-1)!.status).toBe("CANCELED");
    const edited = await call("PUT", `${D}/My_first_SQL`, { statement: script("${secret_values.pw}", "INSERT INTO sink2 SELECT * FROM src") }, editor);
    expect(edited.body.deployment).toMatchObject({ outdated: true });
    const dep = await call("POST", `${D}/My_first_SQL/deploy`, undefined, editor);
    expect(dep.body.deployment).toMatchObject({ phase: "RUNNING", outdated: false });
    expect(gw.operations.at(-1)!.statement).toBe("INSERT INTO sink2 SELECT * FROM src");
    // A running deployment keeps its draft from being deleted.
    const del = await call("DELETE", `${D}/My_first_SQL`, undefined, editor);
    expect(del.status).toBe(409);
    expect(del.body.message).toContain("stop it first");
  });

  it("a deleted key is the reason a draft cannot be published; the running deployment is not affected", async () => {
    const del = await call("DELETE", "/v1/sql/values/pw", undefined, editor);
    expect(del.body.referencedBy).toEqual(["my-first-sql"]);
    const d = await call("GET", `${D}/My_first_SQL`, undefined, editor);
    expect(d.body.deployment.phase).toBe("RUNNING");
    expect(d.body.validation.valid).toBe(false);
    expect(d.body.validation.references[0]).toMatchObject({ line: 5, name: "pw", exists: false, problem: "names no secret value in environment env-default (local)" });
    const list = await call("GET", D, undefined, editor);
    expect(list.body.drafts.map((x: { name: string; validation: { valid: boolean } }) => [x.name, x.validation.valid])).toEqual([["My_first_SQL", false]]);
    await call("POST", `${D}/My_first_SQL/stop`, undefined, editor);
    const dep = await call("POST", `${D}/My_first_SQL/deploy`, undefined, editor);
    expect(dep.status).toBe(400);
    expect(dep.body.message).toBe("line 5: ${secret_values.pw} names no secret value in environment env-default (local).");
    expect((await call("GET", `${D}/My_first_SQL`, undefined, editor)).body.deployment.phase).toBe("STOPPED");
    expect((await call("POST", "/v1/sql/values", { name: "pw", value: VALUE }, editor)).status).toBe(201);
    expect((await call("POST", `${D}/My_first_SQL/deploy`, undefined, editor)).body.deployment.phase).toBe("RUNNING");
    await call("POST", `${D}/My_first_SQL/stop`, undefined, editor);
    expect((await call("DELETE", `${D}/My_first_SQL`, undefined, editor)).status).toBe(204);
    expect((await call("GET", `${D}/My_first_SQL`, undefined, editor)).body.code).toBe("DraftNotFound");
  });

  it("a gateway failure is a FAILED deployment with a fixed reason; no gateway is a 409 that leaves the old deployment", async () => {
    await call("POST", D, { name: "failing", statement: script("${secret_values.pw}", "INSERT INTO FAIL_ME SELECT * FROM src") }, editor);
    const dep = await call("POST", `${D}/failing/deploy`, undefined, editor);
    expect(dep.status).toBe(200);
    expect(dep.body.deployment).toMatchObject({ phase: "FAILED", detail: "The Flink SQL Gateway reported the statement failed." });
    await call("PUT", `${D}/failing`, { statement: script("${secret_values.pw}") }, editor);
    expect((await s.request("DELETE", "/v1/sql/gateway")).status).toBe(200);
    const none = await call("POST", `${D}/failing/deploy`, undefined, editor);
    expect(none.status).toBe(409);
    expect(none.body.code).toBe("InvalidState");
    expect((await call("GET", `${D}/failing`, undefined, editor)).body.deployment).toMatchObject({ phase: "FAILED", outdated: true });
    expect((await s.request("PUT", "/v1/sql/gateway", { url: gw.url })).status).toBe(200);
  });

  it("access: scope, missing permissions, no amplification through deploy, built-in roles and API token roles", async () => {
    await call("POST", D, { name: "acl", statement: script("${secret_values.pw}") }, editor);
    // A key scoped elsewhere sees nothing here; in its own scope it sees its own drafts only.
    expect((await s.request("POST", "/v1/environments", { name: "other", regions: ["local"] })).status).toBe(201);
    const other = await testAccount(s.request, "drafts-other", { role: "editor", environment: "other", region: "local" });
    expect((await call("GET", D, undefined, other, { "x-coffer-environment": "env-default" })).status).toBe(403);
    expect((await call("POST", `${D}/acl/deploy`, undefined, other, { "x-coffer-environment": "env-default" })).status).toBe(403);
    const own = await call("GET", D, undefined, other);
    expect(own.status).toBe(200);
    expect(own.body.drafts).toEqual([]);
    expect((await call("GET", `${D}/acl`, undefined, other)).status).toBe(404);
    // The console's way: an organization-wide session user picks the scope with headers.
    const inOther = await call("GET", D, undefined, editor, { "x-coffer-environment": "other", "x-coffer-region": "local" });
    expect(inOther.body.drafts).toEqual([]);

    // Built-in roles: the auditor lists and describes drafts only; the secret-reader nothing.
    const auditor = await testAccount(s.request, "drafts-auditor", { role: "auditor" });
    expect((await call("GET", D, undefined, auditor)).status).toBe(200);
    expect((await call("GET", `${D}/acl`, undefined, auditor)).status).toBe(200);
    for (const [m, p, b] of [["POST", D, { name: "x1" }], ["PUT", `${D}/acl`, { statement: "" }], ["DELETE", `${D}/acl`], ["POST", `${D}/acl/deploy`], ["POST", `${D}/acl/stop`], ["POST", `${D}/acl/validate`]] as const)
      expect((await call(m, p, b, auditor)).status, `${m} ${p}`).toBe(403);
    const reader = await testAccount(s.request, "drafts-reader", { role: "secret-reader" });
    expect((await call("GET", D, undefined, reader)).status).toBe(403);
    expect((await call("GET", `${D}/acl`, undefined, reader)).status).toBe(403);

    // Deploying needs the statement and resolution permissions too (no amplification).
    const draftsOnly = await testAccount(s.request, "drafts-only", { policy: { Version: "1", Statement: [{ Effect: "Allow", Action: ["sql:*Draft", "sql:ListDrafts", "sql:ResolveSqlScript"], Resource: "*" }] } });
    const noStmt = await call("POST", `${D}/acl/deploy`, undefined, draftsOnly);
    expect(noStmt.status).toBe(403);
    expect(noStmt.body.message).toContain("sql:CreateStatement");
    const noResolve = await testAccount(s.request, "drafts-noresolve", { policy: { Version: "1", Statement: [{ Effect: "Allow", Action: ["sql:*Draft", "sql:*Statement"], Resource: "*" }] } });
    const nr = await call("POST", `${D}/acl/deploy`, undefined, noResolve);
    expect(nr.status).toBe(403);
    expect(nr.body.message).toContain("sql:ResolveSqlScript");
    expect((await call("GET", `${D}/acl`, undefined, editor)).body.deployment).toBeNull();
    // A policy limited to one statement name cannot deploy a draft as another.
    const narrow = await testAccount(s.request, "drafts-narrow", {
      policy: { Version: "1", Statement: [{ Effect: "Allow", Action: ["sql:*Draft", "sql:ResolveSqlScript", "sql:*Statement"], Resource: ["crn:coffer:env-default:local:sql-draft/*", "crn:coffer:env-default:local:sql-value/*", "crn:coffer:env-default:local:sql-statement/mine"] }] },
    });
    const refused = await call("POST", `${D}/acl/deploy`, undefined, narrow);
    expect(refused.status).toBe(403);
    expect(refused.body.message).toContain("sql:CreateStatement on crn:coffer:env-default:local:sql-statement/acl");
    const exact = await testAccount(s.request, "drafts-exact", {
      policy: { Version: "1", Statement: [{ Effect: "Allow", Action: ["sql:*Draft", "sql:ResolveSqlScript", "sql:*Statement"], Resource: ["crn:coffer:env-default:local:sql-draft/acl", "crn:coffer:env-default:local:sql-value/*", "crn:coffer:env-default:local:sql-statement/acl"] }] },
    });
    expect((await call("POST", `${D}/acl/deploy`, undefined, exact)).body.deployment.phase).toBe("RUNNING");
    expect((await call("POST", `${D}/acl/stop`, undefined, exact)).body.deployment.phase).toBe("STOPPED");
    expect((await call("POST", `${D}/failing/stop`, undefined, exact)).status).toBe(403);

    // API tokens (scoped): viewer reads drafts, editor deploys and stops.
    const viewerTok = await s.request("POST", "/v1/sql/tokens", { name: "dv", role: "viewer" });
    const editorTok = await s.request("POST", "/v1/sql/tokens", { name: "de", role: "editor" });
    const vt = { auth: `Bearer ${viewerTok.body.secret}` };
    const et = { auth: `Bearer ${editorTok.body.secret}` };
    expect((await call("GET", D, undefined, vt)).status).toBe(200);
    expect((await call("POST", `${D}/acl/deploy`, undefined, vt)).status).toBe(403);
    expect((await call("PUT", `${D}/acl`, { statement: "x" }, vt)).status).toBe(403);
    expect((await call("POST", `${D}/acl/deploy`, undefined, et)).body.deployment.phase).toBe("RUNNING");
    expect((await call("POST", `${D}/acl/stop`, undefined, et)).body.deployment.phase).toBe("STOPPED");
  });

  it("no answer on any draft path ever carried the value", () => {
    expect(seen.length).toBeGreaterThan(50);
    for (const x of seen) expect(x).not.toContain(MARK);
  });
});
