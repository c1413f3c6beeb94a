import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { startTestServer, type TestServer } from "../helpers/test-server.js";

let server: TestServer;
const K = "/v1/workflow-services/orders/keys";
const SECRETS = ["r3g-pa55", "cos-SECRET-key", "tenant-KEY-1", "mysql-pw-'\"#:"];

const workflow = `# order pipeline
name: order-pipeline
keys:
  registry: ImageRepository
  cos-main: ObjectStorage
  scf-tenant: FunctionInvocation
  mysql: Custom
steps:
  - name: build
    image: ccr.ccs.tencentyun.com/team/app:1
    imagePullKey: registry   # pulled with the registry key
    volumes:
      - bucket: data-1250000000
        mountPath: /data
        storageKey: cos-main
  - name: notify
    function: notify-users
    invocationKey: scf-tenant
  - name: migrate
    image: mysql:8
    env:
      DB_HOST: \${{ keys.mysql.host }}
      DB_URL: "mysql://app:\${{ keys.mysql.password }}@\${{ keys.mysql.host }}/orders"
`;

beforeAll(async () => {
  server = await startTestServer();
  const add = async (b: Record<string, unknown>) => {
    const r = await server.request("POST", K, b);
    expect(r.status, JSON.stringify(r.body)).toBe(201);
    return r.body;
  };
  await add({ type: "ImageRepository", name: "registry", registryDomain: "ccr.ccs.tencentyun.com", username: "100012345", password: SECRETS[0] });
  await add({ type: "ObjectStorage", name: "cos-main", secretId: "AKIDexample", secretKey: SECRETS[1] });
  await add({ type: "FunctionInvocation", tenantName: "scf-tenant", tenantId: "AKIDtenant", tenantKey: SECRETS[2] });
  await add({ type: "Custom", name: "mysql", values: { host: "db.internal", password: SECRETS[3] } });
});
afterAll(async () => {
  await server?.close();
});

const resolve = (yaml: string, service = "orders") => server.request("POST", `/v1/workflow-services/${service}/resolve`, { yaml });

describe("workflow keys", () => {
  it("four types with the seed's fields; describe and list never show a credential", async () => {
    const list = await server.request("GET", K);
    expect(list.status).toBe(200);
    expect(list.body.keys.map((k: { name: string; type: string }) => `${k.name}:${k.type}`).sort()).toEqual(["cos-main:ObjectStorage", "mysql:Custom", "registry:ImageRepository", "scf-tenant:FunctionInvocation"]);
    const reg = await server.request("GET", `${K}/registry`);
    expect(reg.body).toMatchObject({ service: "orders", name: "registry", type: "ImageRepository", info: { registryDomain: "ccr.ccs.tencentyun.com", username: "100012345" }, versionId: "v1" });
    expect((await server.request("GET", `${K}/mysql`)).body.valueNames).toEqual(["host", "password"]);
    const all = JSON.stringify([list.body, reg.body, (await server.request("GET", `${K}/scf-tenant`)).body, (await server.request("GET", `${K}/cos-main`)).body]);
    for (const s of SECRETS) expect(all).not.toContain(s);
  });

  it("names are unique per service, not across services; bad input is a 400", async () => {
    expect((await server.request("POST", K, { type: "Custom", name: "mysql", values: { a: "b" } })).status).toBe(409);
    expect((await server.request("POST", "/v1/workflow-services/billing/keys", { type: "Custom", name: "mysql", values: { a: "b" } })).status).toBe(201);
    expect((await server.request("POST", K, { type: "ImageRepository", name: "x", username: "u", password: "p" })).status).toBe(400);
    expect((await server.request("POST", K, { type: "Nope", name: "x" })).status).toBe(400);
    expect((await server.request("POST", K, { type: "Custom", name: "x", values: {} })).status).toBe(400);
  });

  it("an update is a new version of the same type; generic paths cannot write it", async () => {
    const u = await server.request("PUT", "/v1/workflow-services/billing/keys/mysql", { type: "Custom", values: { a: "c" } });
    expect(u.status).toBe(200);
    expect(u.body.versionId).not.toBe("v1");
    expect((await server.request("PUT", "/v1/workflow-services/billing/keys/mysql", { type: "ObjectStorage", secretId: "a", secretKey: "b" })).status).toBe(400);
    const name = encodeURIComponent(".coffer/workflow-keys/billing/mysql");
    expect((await server.request("POST", `/v1/secrets/${name}/versions`, { value: "{}" })).status).toBe(403);
    expect((await server.request("GET", `/v1/secrets/${name}/versions`)).body.versions.length).toBe(2);
    expect((await server.request("DELETE", "/v1/workflow-services/billing/keys/mysql")).status).toBe(204);
    expect((await server.request("GET", "/v1/workflow-services/billing/keys/mysql")).status).toBe(404);
  });
});

describe("workflow YAML resolution", () => {
  it("renders each key type in its place, keeps comments, drops keys:", async () => {
    const r = await resolve(workflow);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(r.body.keys.sort()).toEqual(["cos-main", "mysql", "registry", "scf-tenant"]);
    expect(r.body.yaml).toContain("# pulled with the registry key");
    const doc = parse(r.body.yaml);
    expect(doc.keys).toBeUndefined();
    expect(doc.steps[0].imagePullSecret).toEqual({ server: "ccr.ccs.tencentyun.com", username: "100012345", password: SECRETS[0] });
    expect(doc.steps[0].imagePullKey).toBeUndefined();
    expect(doc.steps[0].volumes[0].storageCredentials).toEqual({ secretId: "AKIDexample", secretKey: SECRETS[1] });
    expect(doc.steps[1].tenant).toEqual({ name: "scf-tenant", secretId: "AKIDtenant", secretKey: SECRETS[2] });
    expect(doc.steps[2].env).toEqual({ DB_HOST: "db.internal", DB_URL: `mysql://app:${SECRETS[3]}@db.internal/orders` });
    await server.app.audit.flushAll();
    const audit = await server.request("GET", "/v1/audit?order=asc&action=workflows:ResolveWorkflow&limit=100");
    expect(audit.body.records.map((x: { resource: string }) => x.resource)).toContain("crn:coffer:env-default:local:workflow/orders/key/registry");
  });

  it("fails naming each missing, mistyped, undeclared or unknown key, with lines and never a credential", async () => {
    const bad = `keys:
  registry: ObjectStorage
  ghost: Custom
  mysql: Custom
  cos-main: Wrong
steps:
  - imagePullKey: registry
  - storageKey: cos-main
  - invocationKey: undeclared
  - env:
      A: \${{ keys.mysql.nope }}
      B: \${{ keys.ghost.x }}
      C: \${{ keys.mysql }}
`;
    const r = await resolve(bad);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe("InvalidSecretReference");
    const m = r.body.message as string;
    expect(m).toContain('line 2: key "registry" is a ImageRepository key, declared as ObjectStorage');
    expect(m).toContain('line 3: key "ghost" does not exist in workflow service "orders"');
    expect(m).toContain('line 5: key "cos-main" is declared with the type "Wrong"');
    expect(m).toContain('line 7: key "registry" is declared as ObjectStorage; imagePullKey needs a ImageRepository key');
    expect(m).toContain('line 8: key "cos-main" is used (storageKey) but not declared');
    expect(m).toContain('line 9: key "undeclared" is used (invocationKey) but not declared');
    expect(m).toContain('line 11: key "mysql" has no value named "nope"');
    expect(m).toContain("line 13: has a malformed reference");
    for (const s of SECRETS) expect(JSON.stringify(r.body)).not.toContain(s);
  });

  it("a Custom reference to a typed key is refused; YAML errors are 400s; other services are separate", async () => {
    const r = await resolve("keys:\n  registry: ImageRepository\nx: ${{ keys.registry.password }}\n");
    expect(r.status).toBe(400);
    expect(r.body.message).toContain("${{ keys.… }} needs a Custom key");
    expect((await resolve("a: [1, 2\n")).status).toBe(400);
    const other = await resolve("keys:\n  registry: ImageRepository\ns:\n  imagePullKey: registry\n", "billing");
    expect(other.status).toBe(400);
    expect(other.body.message).toContain('does not exist in workflow service "billing"');
  });
});
