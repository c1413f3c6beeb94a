/**
 * Generic secrets rotated by a webhook (the AWS rotation-function contract): a local
 * receiver checks the HMAC signature, gets createSecret / setSecret / testSecret /
 * finishSecret in order and does the work through the native API. A receiver that
 * fails testSecret is retried and never promoted.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SIGNATURE_HEADER, verifyWebhookSignature, WEBHOOK_KEY_SECRET } from "../../src/rotation/index.js";
import { startRotServer, waitFor, type RotServer } from "./helpers.js";

interface Call {
  step: string;
  token: string;
  secretId: string;
  signed: boolean;
}

describe("webhook rotation", () => {
  let srv: RotServer;
  let receiver: Server;
  let url = "";
  const calls: Call[] = [];
  let failTest = false;

  const body = (req: IncomingMessage) => new Promise<string>((res) => {
    let b = "";
    req.on("data", (c: Buffer) => (b += c.toString()));
    req.on("end", () => res(b));
  });

  beforeAll(async () => {
    srv = await startRotServer();
    receiver = createServer(async (req, res) => {
      const text = await body(req);
      const e = JSON.parse(text) as { SecretId: string; ClientRequestToken: string; Step: string };
      const key = Buffer.from((await srv.current(WEBHOOK_KEY_SECRET)).json.SigningKey as string, "hex");
      const signed = verifyWebhookSignature(key, text, String(req.headers[SIGNATURE_HEADER] ?? ""));
      calls.push({ step: e.Step, token: e.ClientRequestToken, secretId: e.SecretId, signed });
      if (!signed) return res.writeHead(401).end();
      const name = encodeURIComponent(e.SecretId);
      if (e.Step === "createSecret") {
        const r = await srv.request("POST", `/v1/secrets/${name}/versions`, { value: JSON.stringify({ apiToken: `token-${e.ClientRequestToken.slice(0, 8)}` }), versionId: e.ClientRequestToken, stages: ["ACSPending"] });
        return res.writeHead(r.status < 300 ? 200 : 500).end();
      }
      if (e.Step === "testSecret" && failTest) return res.writeHead(503).end();
      if (e.Step === "finishSecret") {
        const cur = await srv.current(e.SecretId);
        if (cur.versionId !== e.ClientRequestToken) await srv.request("POST", `/v1/secrets/${name}/stages`, { stage: "ACSCurrent", moveToVersionId: e.ClientRequestToken, removeFromVersionId: cur.versionId });
      }
      res.writeHead(200).end();
    });
    await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", () => r()));
    url = `http://127.0.0.1:${(receiver.address() as { port: number }).port}/rotate`;
    await srv.putJson("hook/app", { apiToken: "initial" });
  });
  afterAll(async () => {
    await srv?.close();
    await new Promise((r) => receiver?.close(r));
  });

  it("calls the four steps in order, signed; the endpoint's new version becomes current", async () => {
    const cfg = await srv.request("POST", "/v1/secrets/hook%2Fapp/rotation", { enabled: true, intervalSeconds: 86_400, target: url });
    expect(cfg.status, JSON.stringify(cfg.body)).toBe(200);
    expect(cfg.body).toMatchObject({ rotator: "webhook", enabled: true, managed: false });
    const r = await srv.rotate("hook/app");
    expect(r.body.completed, JSON.stringify(r.body)).toBe(true);
    expect(calls.map((c) => c.step)).toEqual(["createSecret", "setSecret", "testSecret", "finishSecret"]);
    expect(calls.every((c) => c.signed && c.token === r.body.versionId && c.secretId === "hook/app")).toBe(true);
    const v = await srv.current("hook/app");
    expect(v.versionId).toBe(r.body.versionId);
    expect(v.json.apiToken).toBe(`token-${r.body.versionId.slice(0, 8)}`);
    expect((await srv.current("hook/app", "ACSPrevious")).json).toEqual({ apiToken: "initial" });
  });

  it("a failing testSecret is retried with backoff and never promoted", async () => {
    calls.length = 0;
    failTest = true;
    const before = await srv.current("hook/app");
    const r = await srv.rotate("hook/app", false);
    const s = await waitFor("retries", async () => {
      const st = await srv.status("hook/app");
      return st.inProgress?.step === "test" && st.inProgress.attempt >= 2 ? st : undefined;
    });
    expect(s.inProgress.lastError).toMatchObject({ code: "WebhookFailed", message: expect.stringContaining("HTTP 503") });
    expect((await srv.current("hook/app")).versionId).toBe(before.versionId);
    expect(calls.some((c) => c.step === "finishSecret")).toBe(false);
    failTest = false;
    await waitFor("completed", async () => (await srv.status("hook/app")).inProgress === null);
    expect((await srv.current("hook/app")).versionId).toBe(r.body.versionId);
  });

  it("refuses a plain-http webhook off loopback and a secret without any rotator", async () => {
    const bad = await srv.request("POST", "/v1/secrets/hook%2Fapp/rotation", { enabled: true, intervalSeconds: 86_400, target: "http://example.com/rotate" });
    expect(bad.status).toBe(400);
    await srv.putJson("hook/plain", { x: "y" });
    const none = await srv.request("POST", "/v1/secrets/hook%2Fplain/rotate", {});
    expect(none.status).toBe(409);
    expect(none.body.code).toBe("InvalidState");
  });
});
