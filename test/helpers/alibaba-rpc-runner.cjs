"use strict";
// The Alibaba Cloud KMS SDK for Node.js, @alicloud/kms20160120 1.2.0 (RPC style, HMAC-SHA1
// signature 1.0, every parameter in the URL), used unchanged: configured with the endpoint
// and the access key; the instance CA comes from NODE_EXTRA_CA_CERTS (the SDK has no `ca`
// option). Reads one JSON request per line on stdin ({id, op, params} with the API's
// parameter names), answers one JSON line per request on stdout.
const readline = require("node:readline");
const kms = require("@alicloud/kms20160120");
const Util = require("@alicloud/tea-util");
const $tea = require("@alicloud/tea-typescript");

const client = new kms.default({
  accessKeyId: process.env.ALIBABA_CLOUD_ACCESS_KEY_ID,
  accessKeySecret: process.env.ALIBABA_CLOUD_ACCESS_KEY_SECRET,
  endpoint: process.env.KMS_ENDPOINT,
  regionId: process.env.KMS_REGION || undefined,
});

/** The SDK's request model for an operation, filled from wire names (SecretName → secretName). */
function model(op, params) {
  const Req = kms[`${op}Request`];
  if (!Req) return undefined;
  const byWire = Object.fromEntries(Object.entries(Req.names()).map(([prop, wire]) => [wire, prop]));
  const m = {};
  for (const [k, v] of Object.entries(params)) m[byWire[k] || k] = v;
  return new Req(m);
}

async function run(op, params) {
  const method = op[0].toLowerCase() + op.slice(1);
  const req = model(op, params);
  if (req && typeof client[method] === "function") return client[method](req);
  // Operations newer than 1.2.0: the same client's generic RPC call (same signature, same wire).
  return client.doRequest(op, "HTTPS", "POST", "2016-01-20", "AK", params, null, new Util.RuntimeOptions({}));
}

readline.createInterface({ input: process.stdin }).on("line", async (line) => {
  const { id, op, params } = JSON.parse(line);
  try {
    const result = await run(op, params || {});
    process.stdout.write(`${JSON.stringify({ id, ok: true, result: JSON.parse(JSON.stringify(result instanceof $tea.Model ? $tea.toMap(result) : result)) })}\n`);
  } catch (e) {
    const data = e && e.data ? e.data : {};
    process.stdout.write(`${JSON.stringify({ id, ok: false, error: { code: String(e && e.code), message: String(e && e.message), statusCode: Number(data.statusCode || 0), data } })}\n`);
  }
});
