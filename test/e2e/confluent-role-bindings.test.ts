/**
 * Confluent role bindings (`/iam/v2/role-bindings`), the step the Flink API-key guide asks
 * for: a service account with FlinkDeveloper in an environment can use its Flink API key
 * there, without a binding (or in another environment) it is refused; shapes, paging,
 * Confluent's errors, and the no-amplification rule (a caller cannot bind a role it does
 * not hold, and nothing is left behind when refused).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serviceAccountKey } from "../helpers/aws.js";
import { FakeFlinkGateway } from "../helpers/fake-flink-gateway.js";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

let s: TestServer;
let org: string;
let env: string;
let other: string;
let sa: string;
let flinkKey: string;
let otherKey: string;

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;
const statements = (e: string, auth: string) => s.request("GET", `/sql/v1/organizations/${org}/environments/${e}/statements`, undefined, { auth });

async function flinkApiKey(owner: string, environment: string): Promise<string> {
  const k = await s.request("POST", "/iam/v2/api-keys", { spec: { owner: { id: owner }, resource: { api_version: "fcpm/v2", id: `${environment}.aws.us-east-1` } } });
  expect(k.status).toBe(202);
  return basic(k.body.id, k.body.spec.secret);
}

beforeAll(async () => {
  s = await startTestServer();
  org = (await s.request("GET", "/org/v2/organizations")).body.data[0].id;
  env = (await s.request("POST", "/org/v2/environments", { display_name: "flink-prod" })).body.id;
  other = (await s.request("POST", "/org/v2/environments", { display_name: "flink-other" })).body.id;
  sa = (await s.request("POST", "/iam/v2/service-accounts", { display_name: "flink-sa" })).body.id;
  flinkKey = await flinkApiKey(sa, env);
  otherKey = await flinkApiKey(sa, other);
});
afterAll(async () => s?.close());

describe("Confluent role bindings", () => {
  let binding: string;

  it("without a binding the Flink API key is refused; FlinkDeveloper in the environment lets it in there only", async () => {
    expect((await statements(env, flinkKey)).status).toBe(403);
    const crn = `crn://confluent.cloud/organization=${org}/environment=${env}`;
    const b = await s.request("POST", "/iam/v2/role-bindings", { principal: `User:${sa}`, role_name: "FlinkDeveloper", crn_pattern: crn });
    expect(b.status).toBe(201);
    expect(b.body).toMatchObject({ api_version: "iam/v2", kind: "RoleBinding", principal: `User:${sa}`, role_name: "FlinkDeveloper", crn_pattern: crn });
    expect(b.body.id).toMatch(/^rb-[0-9a-f]{12}$/);
    expect(b.headers.get("location")).toBe(`${s.url}/iam/v2/role-bindings/${b.body.id}`);
    binding = b.body.id;

    const ok = await statements(env, flinkKey);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ api_version: "sql/v1", kind: "StatementList" });
    expect((await statements(other, otherKey)).status).toBe(403);

    // FlinkDeveloper runs statements there: one that references a SQL secret value reaches the gateway.
    const gw = await new FakeFlinkGateway().start();
    try {
      const here = { "x-coffer-environment": env, "x-coffer-region": "us-east-1" };
      expect((await s.request("PUT", "/v1/sql/gateway", { url: gw.url }, { headers: here })).status).toBe(200);
      expect((await s.request("POST", "/v1/sql/values", { name: "pw", value: "flink-dev-pw-1" }, { headers: here })).status).toBe(201);
      const run = await s.request("POST", `/sql/v1/organizations/${org}/environments/${env}/statements`, { name: "job-dev", spec: { statement: "CREATE TEMPORARY TABLE t (a INT) WITH ('password' = '${secret_values.pw}');\nINSERT INTO t SELECT 1;" } }, { auth: flinkKey });
      expect(run.status, JSON.stringify(run.body)).toBe(200);
      expect(run.body.status.phase).toBe("RUNNING");
      expect(gw.operations.some((o) => o.statement.includes("flink-dev-pw-1"))).toBe(true);
      // And writes and deploys drafts there (the console's SQL editor).
      const draft = await s.request("POST", "/v1/sql/drafts", { name: "dev_draft", statement: "CREATE TEMPORARY TABLE d (a INT) WITH ('password' = '${secret_values.pw}');\nINSERT INTO d SELECT 1;" }, { auth: flinkKey });
      expect(draft.status, JSON.stringify(draft.body)).toBe(201);
      const deployed = await s.request("POST", "/v1/sql/drafts/dev_draft/deploy", undefined, { auth: flinkKey });
      expect(deployed.status, JSON.stringify(deployed.body)).toBeLessThan(300);
      // Without the binding's environment, the same key's twin in the other environment cannot.
      expect((await s.request("POST", `/sql/v1/organizations/${org}/environments/${other}/statements`, { name: "job-x", spec: { statement: "SELECT 1" } }, { auth: otherKey })).status).toBe(403);
    } finally {
      await gw.stop();
    }
  });

  it("get, list with filters and paging", async () => {
    const g = await s.request("GET", `/iam/v2/role-bindings/${binding}`);
    expect(g.status).toBe(200);
    expect(g.body).toMatchObject({ id: binding, role_name: "FlinkDeveloper", metadata: { self: `${s.url}/iam/v2/role-bindings/${binding}` } });
    const orgCrn = `crn://confluent.cloud/organization=${org}`;
    const admin = await s.request("POST", "/iam/v2/role-bindings", { principal: `User:${sa}`, role_name: "MetricsViewer", crn_pattern: orgCrn });
    expect(admin.status).toBe(201);

    const mine = await s.request("GET", `/iam/v2/role-bindings?principal=${encodeURIComponent(`User:${sa}`)}`);
    expect(mine.body).toMatchObject({ api_version: "iam/v2", kind: "RoleBindingList" });
    expect(mine.body.data.map((x: { id: string }) => x.id).sort()).toEqual([binding, admin.body.id].sort());
    const byRole = await s.request("GET", "/iam/v2/role-bindings?role_name=MetricsViewer");
    expect(byRole.body.data.map((x: { id: string }) => x.id)).toEqual([admin.body.id]);
    const byCrn = await s.request("GET", `/iam/v2/role-bindings?crn_pattern=${encodeURIComponent(orgCrn)}`);
    expect(byCrn.body.data.map((x: { id: string }) => x.id)).toEqual([admin.body.id]);

    const p1 = await s.request("GET", "/iam/v2/role-bindings?page_size=1");
    expect(p1.body.data).toHaveLength(1);
    expect(p1.body.metadata.next).toContain("page_token=");
    const p2 = await s.request("GET", new URL(p1.body.metadata.next).pathname + new URL(p1.body.metadata.next).search);
    expect(p2.body.data).toHaveLength(1);
    expect(p2.body.data[0].id).not.toBe(p1.body.data[0].id);
    expect(p2.body.metadata.next).toBeUndefined();
    expect((await s.request("DELETE", `/iam/v2/role-bindings/${admin.body.id}`)).status).toBe(204);
  });

  it("Confluent's errors: unknown role, another organization, a missing principal, an unknown binding", async () => {
    const crn = `crn://confluent.cloud/organization=${org}/environment=${env}`;
    const role = await s.request("POST", "/iam/v2/role-bindings", { principal: `User:${sa}`, role_name: "KafkaWizard", crn_pattern: crn });
    expect(role.status).toBe(400);
    expect(role.body.errors[0]).toMatchObject({ status: "400" });
    expect(role.body.errors[0].detail).toContain("KafkaWizard");
    expect((await s.request("POST", "/iam/v2/role-bindings", { principal: `User:${sa}`, role_name: "FlinkDeveloper", crn_pattern: "crn://confluent.cloud/organization=someone-else" })).status).toBe(400);
    expect((await s.request("POST", "/iam/v2/role-bindings", { principal: `User:${sa}`, role_name: "FlinkDeveloper", crn_pattern: `crn://confluent.cloud/organization=${org}/environment=env-nope00` })).status).toBe(404);
    expect((await s.request("POST", "/iam/v2/role-bindings", { principal: "User:sa-nope00", role_name: "FlinkDeveloper", crn_pattern: crn })).status).toBe(404);
    expect((await s.request("POST", "/iam/v2/role-bindings", { principal: sa, role_name: "FlinkDeveloper", crn_pattern: crn })).status).toBe(400);
    const missing = await s.request("GET", "/iam/v2/role-bindings/rb-000000000000");
    expect(missing.status).toBe(404);
    expect(missing.body.errors[0]).toMatchObject({ status: "404" });
    expect((await s.request("DELETE", "/iam/v2/role-bindings/rb-000000000000")).status).toBe(404);
  });

  it("no amplification: a caller cannot bind a role it does not hold, and nothing is left behind", async () => {
    const binder = await serviceAccountKey(s, "binder", {
      policy: { Version: "1", Statement: [{ Effect: "Allow", Action: ["iam:CreateRoleBinding", "iam:ListRoleBindings", "sql:ListStatements"], Resource: "*" }] },
    });
    const auth = basic(binder.keyId, binder.secret);
    const before = (await s.request("GET", "/iam/v2/role-bindings?page_size=100")).body.data.length;
    const r = await s.request("POST", "/iam/v2/role-bindings", { principal: `User:${binder.id}`, role_name: "OrganizationAdmin", crn_pattern: `crn://confluent.cloud/organization=${org}` }, { auth });
    expect(r.status).toBe(403);
    expect(r.body.errors[0]).toMatchObject({ status: "403" });
    const dev = await s.request("POST", "/iam/v2/role-bindings", { principal: `User:${sa}`, role_name: "FlinkDeveloper", crn_pattern: `crn://confluent.cloud/organization=${org}/environment=${other}` }, { auth });
    expect(dev.status).toBe(403);
    expect((await s.request("GET", "/iam/v2/role-bindings?page_size=100")).body.data.length).toBe(before);
    const policies = (await s.request("GET", "/v1/policies?limit=100")).body;
    expect(JSON.stringify(policies)).not.toContain("OrganizationAdmin");
    expect((await statements(other, otherKey)).status).toBe(403);
  });

  it("deleting the binding takes the access away", async () => {
    expect((await s.request("DELETE", `/iam/v2/role-bindings/${binding}`)).status).toBe(204);
    expect((await statements(env, flinkKey)).status).toBe(403);
    expect((await s.request("GET", `/iam/v2/role-bindings/${binding}`)).status).toBe(404);
  });
});
