import ssh2 from "ssh2";
import type { ServerConfig } from "../../managed-config.js";
import { RotationError } from "../../rotation-errors.js";
import type { JsonObject, RotationContext, Rotator } from "../../rotation-types.js";
import { newPassword } from "../database/database-rotator.js";
import { withSsh, type SshLogin, type SshSession, type SshTarget } from "./ssh-session.js";

/*
 * Shell snippets run as `sh -c '<script>' coffer <user>`: no single quote inside, secrets
 * only on stdin. `$f` is the authorized_keys file of the managed user: the caller's own
 * (`self`) or, for an admin (root, or sudo without a password), the user's from getent.
 */
const SELF_FILE = 'f="$HOME/.ssh/authorized_keys";';
const ADMIN_FILE = 'h=$(getent passwd "$1" | cut -d: -f6); [ -n "$h" ] || { echo "no such user: $1" >&2; exit 3; }; f="$h/.ssh/authorized_keys";';
const APPEND = 'umask 077; mkdir -p "$(dirname "$f")" && touch "$f" && IFS= read -r line && { grep -qxF -- "$line" "$f" || printf "%s\\n" "$line" >> "$f"; }';
const REMOVE = 'umask 077; IFS= read -r blob; [ -f "$f" ] || exit 0; grep -vF -- "$blob" "$f" > "$f.coffer-tmp"; mv -f "$f.coffer-tmp" "$f"';
const CHOWN = '; [ ! -f "$f" ] || chown "$1" "$(dirname "$f")" "$f"';

function serverConfig(ctx: RotationContext): ServerConfig {
  const c = ctx.config;
  if (!c || c.type !== "server") throw new RotationError("InvalidConfiguration", "The secret is not a managed server secret.");
  return c;
}

const target = (c: ServerConfig): SshTarget => ({ host: c.host, port: c.port, hostKeySha256: c.hostKeySha256 });

function loginOf(v: JsonObject, what: string): SshLogin {
  const userName = v.UserName ?? v.AccountName;
  const password = v.Password ?? v.AccountPassword;
  const privateKey = v.PrivateKey;
  if (typeof userName !== "string" || (typeof password !== "string" && typeof privateKey !== "string"))
    throw new RotationError("InvalidConfiguration", `${what} must be {"UserName", "Password"} or {"UserName", "PublicKey", "PrivateKey"}.`);
  return { userName, ...(typeof privateKey === "string" ? { privateKey } : { password: password as string }) };
}

/** `ssh-ed25519 AAAA…` without the comment: what identifies a key in authorized_keys. */
export function keyBlob(publicKey: string): string {
  const [type, b64] = publicKey.trim().split(/\s+/);
  if (!type || !b64 || !/^[A-Za-z0-9+/=]+$/.test(b64)) throw new RotationError("InvalidConfiguration", "A PublicKey must be an OpenSSH public key line.");
  return `${type} ${b64}`;
}

export function generateKeyPair(keyType: ServerConfig["keyType"], comment: string): { publicKey: string; privateKey: string } {
  const k = keyType === "rsa3072" ? ssh2.utils.generateKeyPairSync("rsa", { bits: 3072, comment }) : ssh2.utils.generateKeyPairSync("ed25519", { comment });
  return { publicKey: k.public, privateKey: k.private };
}

async function canLogin(t: SshTarget, login: SshLogin): Promise<boolean> {
  try {
    await withSsh(t, login, async (s) => {
      const r = await s.exec("true");
      if (r.code !== 0) throw new RotationError("TargetError", `a login shell could not run a command (exit ${r.code})`);
    });
    return true;
  } catch (e) {
    if (e instanceof RotationError && e.code === "AuthenticationFailed") return false;
    throw e;
  }
}

async function mustSucceed(p: Promise<{ code: number; stderr: string; stdout: string }>, what: string, sensitive: string[]): Promise<void> {
  const r = await p;
  if (r.code !== 0) {
    const detail = (r.stderr || r.stdout).trim().split("\n").pop() ?? "";
    const clean = sensitive.reduce((s, x) => (x.length >= 4 ? s.split(x).join("***") : s), detail).slice(0, 200);
    throw new RotationError("TargetError", `${what} failed (exit ${r.code})${clean ? `: ${clean}` : ""}`);
  }
}

const asAdmin = (admin: SshLogin, command: string) => (admin.userName === "root" ? command : `sudo -n ${command}`);

/** Change a password as the user (passwd on a pty) or, for root, with chpasswd. */
async function changeOwnPassword(s: SshSession, user: string, current: string, next: string): Promise<void> {
  if (user === "root") return mustSucceed(s.exec("chpasswd", `${user}:${next}\n`), "chpasswd", [current, next]);
  let step = 0;
  const r = await s.interactive("LC_ALL=C passwd", (out) => {
    if (/current[^\n]*password:\s*$/i.test(out) && step === 0) return (step = 1), current;
    if (/(new|retype|re-enter|again)[^\n]*password:\s*$/i.test(out)) return (step = 2), next;
    return undefined;
  });
  if (r.code !== 0) throw new RotationError("TargetError", `passwd failed (exit ${r.code}): ${r.stdout.trim().split("\n").pop()?.slice(0, 200) ?? ""}`);
}

/**
 * Server logins over SSH (the seeds' ECS secrets): a password or an OpenSSH key pair of a
 * user. `set` logs in with the current credential (or the admin login, when one is
 * configured: it also repairs a wrong imported value) and installs the new one; `test` is
 * a fresh login with it; `cleanup` removes the old public key. A step that finds its work
 * already done (the new credential logs in) does nothing, so a crash between steps is safe.
 */
export function createSshRotator(): Rotator {
  async function admin(ctx: RotationContext, c: ServerConfig): Promise<SshLogin | undefined> {
    if (!c.adminSecret) return undefined;
    const a = loginOf(await ctx.secretValue(c.adminSecret), `The admin secret "${c.adminSecret}"`);
    ctx.sensitive(a.password, a.privateKey);
    return a;
  }

  async function pending(ctx: RotationContext): Promise<SshLogin & { publicKey?: string | undefined }> {
    const v = await ctx.pendingValue();
    const p = loginOf(v, "The pending version");
    ctx.sensitive(p.password, p.privateKey);
    return { ...p, publicKey: typeof v.PublicKey === "string" ? v.PublicKey : undefined };
  }

  async function previous(ctx: RotationContext): Promise<(SshLogin & { publicKey?: string | undefined }) | undefined> {
    const v = await ctx.previousValue();
    if (!v) return undefined;
    const p = loginOf(v, "The current version");
    ctx.sensitive(p.password, p.privateKey);
    return { ...p, publicKey: typeof v.PublicKey === "string" ? v.PublicKey : undefined };
  }

  /** Edit the user's authorized_keys, as the admin when there is one, else logged in as `self`. */
  async function editKeys(c: ServerConfig, script: string, line: string, adm: SshLogin | undefined, self: SshLogin | undefined, sensitive: string[]): Promise<void> {
    const login = adm ?? self;
    if (!login) throw new RotationError("InvalidConfiguration", "No credential to log in with: the secret has no current value and no admin secret.");
    const full = adm ? `${ADMIN_FILE} ${script}${CHOWN}` : `${SELF_FILE} ${script}`;
    const command = `sh -c '${full}' coffer ${c.userName}`;
    await withSsh(target(c), login, (s) => mustSucceed(s.exec(adm ? asAdmin(adm, command) : command, `${line}\n`), "updating authorized_keys", sensitive));
  }

  async function setPassword(c: ServerConfig, adm: SshLogin | undefined, from: SshLogin | undefined, next: string, sensitive: string[]): Promise<void> {
    if (adm) {
      await withSsh(target(c), adm, (s) => mustSucceed(s.exec(asAdmin(adm, "chpasswd"), `${c.userName}:${next}\n`), "chpasswd", sensitive));
      return;
    }
    if (!from?.password) throw new RotationError("InvalidConfiguration", "No password to log in with: the secret has no current password and no admin secret.");
    const current = from.password;
    await withSsh(target(c), from, (s) => changeOwnPassword(s, c.userName, current, next));
  }

  return {
    name: "ssh",

    async create(ctx) {
      const c = serverConfig(ctx);
      if (c.credential === "password") return { UserName: c.userName, Password: newPassword(c.passwordLength) };
      const k = generateKeyPair(c.keyType, `coffer-${ctx.token.slice(0, 40)}`);
      return { UserName: c.userName, PublicKey: k.publicKey, PrivateKey: k.privateKey };
    },

    async set(ctx) {
      const c = serverConfig(ctx);
      const p = await pending(ctx);
      if (await canLogin(target(c), p)) return;
      const adm = await admin(ctx, c);
      const prev = adm ? undefined : await previous(ctx);
      const sensitive = [p.password, p.privateKey, prev?.password, prev?.privateKey].filter((x): x is string => !!x);
      if (c.credential === "password") return setPassword(c, adm, prev, p.password ?? "", sensitive);
      if (!p.publicKey) throw new RotationError("InvalidConfiguration", "The pending version has no PublicKey.");
      await editKeys(c, APPEND, p.publicKey.trim(), adm, prev, sensitive);
    },

    async test(ctx) {
      const c = serverConfig(ctx);
      const p = await pending(ctx);
      await withSsh(target(c), p, (s) => mustSucceed(s.exec("true"), "a command after a fresh login", []));
    },

    async cleanup(ctx) {
      const c = serverConfig(ctx);
      if (c.credential !== "ssh-key") return;
      const prev = await previous(ctx);
      const p = await pending(ctx);
      if (!prev?.publicKey || !p.publicKey || keyBlob(prev.publicKey) === keyBlob(p.publicKey)) return;
      await editKeys(c, REMOVE, keyBlob(prev.publicKey), await admin(ctx, c), p, []);
    },

    async rollback(ctx) {
      const c = serverConfig(ctx);
      const p = await pending(ctx);
      if (!(await canLogin(target(c), p))) return;
      const adm = await admin(ctx, c);
      const prev = await previous(ctx);
      if (c.credential === "password") {
        if (prev?.password) await setPassword(c, adm, p, prev.password, [prev.password, p.password ?? ""]);
        return;
      }
      if (p.publicKey) await editKeys(c, REMOVE, keyBlob(p.publicKey), adm, prev ?? p, []);
    },
  };
}

