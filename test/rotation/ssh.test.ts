/**
 * Server logins against a real OpenSSH server (targets.sh: high port, own config and host
 * key, UsePAM no): passwords changed by the user's own `passwd`, OpenSSH key pairs
 * (Ed25519, RSA 3072) swapped in authorized_keys, and a wrong imported password repaired
 * through an admin (root) login. After every rotation: a fresh login with the new value;
 * the old one refused.
 */
import ssh2 from "ssh2";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sshFixture, type SshFixture } from "./fixtures.js";
import { startRotServer, targetEnv, waitFor, type RotServer } from "./helpers.js";

const enabled = targetEnv("COFFER_TEST_SSH_HOST") !== undefined;

describe.skipIf(!enabled)("SSH server logins", () => {
  let fx: SshFixture;
  let srv: RotServer;
  const target = () => ({ type: "server", host: fx.host, port: fx.port });
  const done = (name: string) => waitFor(`${name} cleaned up`, async () => (await srv.status(name)).latest?.step === "done");

  beforeAll(async () => {
    fx = (await sshFixture())!;
    srv = await startRotServer();
  });
  afterAll(async () => {
    await srv?.close();
    await fx?.cleanup();
  });

  it("password: rotated 3 times with the user's own passwd; the new password logs in, the old one is refused", async () => {
    const user = await fx.addUser("Initial-pass-2026x");
    const created = await srv.request("POST", "/v1/managed-secrets", { name: "ssh/pw", ...target(), userName: user, credential: "password", value: { Password: "Initial-pass-2026x" } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body).toMatchObject({ secretType: "ECS", warnings: [], extendedConfig: { SecretSubType: "Password", Coffer: { hostKeySha256: expect.stringMatching(/^[A-Za-z0-9+/]{43}$/) } } });
    let prev = (await srv.current("ssh/pw")).json;
    expect(prev).toEqual({ UserName: user, Password: "Initial-pass-2026x" });
    for (let i = 1; i <= 3; i++) {
      const r = await srv.rotate("ssh/pw");
      expect(r.body.completed, JSON.stringify(r.body)).toBe(true);
      const v = (await srv.current("ssh/pw")).json;
      expect(await fx.login(user, { password: v.Password })).toBe(true);
      expect(await fx.login(user, { password: prev.Password })).toBe(false);
      prev = v;
    }
  });

  it("Ed25519 key pair: rotated 3 times; the new key logs in, the old key is removed from authorized_keys", async () => {
    const user = await fx.addUser("Unused-pass-2026x");
    const k = ssh2.utils.generateKeyPairSync("ed25519", { comment: "initial" });
    expect((await fx.root(`install -d -o ${user} -m 700 /home/${user}/.ssh && cat > /home/${user}/.ssh/authorized_keys && chown ${user} /home/${user}/.ssh/authorized_keys`, `${k.public}\n`)).code).toBe(0);
    const created = await srv.request("POST", "/v1/managed-secrets", { name: "ssh/key", ...target(), userName: user, credential: "ssh-key", value: { PrivateKey: k.private } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.warnings).toEqual([]);
    let prev = (await srv.current("ssh/key")).json;
    expect(prev.PublicKey).toBe(k.public.split(" ").slice(0, 2).join(" "));
    for (let i = 1; i <= 3; i++) {
      const r = await srv.rotate("ssh/key");
      expect(r.body.completed, JSON.stringify(r.body)).toBe(true);
      await done("ssh/key");
      const v = (await srv.current("ssh/key")).json;
      expect(Object.keys(v).sort()).toEqual(["PrivateKey", "PublicKey", "UserName"]);
      expect(v.PrivateKey).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----/);
      expect(v.PublicKey).toMatch(/^ssh-ed25519 /);
      expect(await fx.login(user, { privateKey: v.PrivateKey })).toBe(true);
      expect(await fx.login(user, { privateKey: prev.PrivateKey })).toBe(false);
      prev = v;
    }
    const keys = await fx.root(`cat /home/${user}/.ssh/authorized_keys`);
    expect(keys.out.trim().split("\n")).toHaveLength(1);
  });

  it("RSA 3072 key pair rotation", async () => {
    const user = await fx.addUser("Unused-pass-2026y");
    const k = ssh2.utils.generateKeyPairSync("ed25519", { comment: "initial" });
    await fx.root(`install -d -o ${user} -m 700 /home/${user}/.ssh && cat > /home/${user}/.ssh/authorized_keys && chown ${user} /home/${user}/.ssh/authorized_keys`, `${k.public}\n`);
    const created = await srv.request("POST", "/v1/managed-secrets", { name: "ssh/rsa", ...target(), userName: user, credential: "ssh-key", keyType: "rsa3072", value: { PrivateKey: k.private } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const r = await srv.rotate("ssh/rsa");
    expect(r.body.completed, JSON.stringify(r.body)).toBe(true);
    await done("ssh/rsa");
    const v = (await srv.current("ssh/rsa")).json;
    expect(v.PublicKey).toMatch(/^ssh-rsa /);
    const parsed = ssh2.utils.parseKey(v.PrivateKey);
    expect(parsed instanceof Error ? parsed.message : parsed).toMatchObject({ type: "ssh-rsa" });
    expect(await fx.login(user, { privateKey: v.PrivateKey })).toBe(true);
    expect(await fx.login(user, { privateKey: k.private })).toBe(false);
  });

  it("a wrong imported password is repaired at the first rotation through the admin login", async () => {
    const user = await fx.addUser("The-real-pass-2026");
    await srv.putJson("ssh/root", { UserName: "root", PrivateKey: fx.adminKey });
    const created = await srv.request("POST", "/v1/managed-secrets", { name: "ssh/repair", ...target(), userName: user, credential: "password", adminSecret: "ssh/root", value: { Password: "a-wrong-password" } });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    expect(created.body.warnings).toHaveLength(1);
    expect(await fx.login(user, { password: "a-wrong-password" })).toBe(false);
    for (let i = 1; i <= 2; i++) {
      const r = await srv.rotate("ssh/repair");
      expect(r.body.completed, JSON.stringify(r.body)).toBe(true);
      expect(await fx.login(user, { password: (await srv.current("ssh/repair")).json.Password })).toBe(true);
    }
    expect(await fx.login(user, { password: "The-real-pass-2026" })).toBe(false);
  });

  it("a host key that does not match the pinned one stops the rotation before anything changes", async () => {
    const user = await fx.addUser("Pinned-pass-2026x");
    const created = await srv.request("POST", "/v1/managed-secrets", { name: "ssh/pinned", ...target(), userName: user, credential: "password", hostKeySha256: "A".repeat(43), value: { Password: "Pinned-pass-2026x" } });
    expect(created.status, JSON.stringify(created.body)).toBe(400);
    expect(created.body.message).toMatch(/host key/);
  });
});
