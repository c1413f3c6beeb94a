import { createHash } from "node:crypto";
import ssh2, { type Client as SshClient, type ClientChannel, type ConnectConfig } from "ssh2";

// ssh2 is CommonJS: Node's ESM loader sees only its default export.
const { Client } = ssh2;
import { RotationError, redact, wrapTargetError } from "../../rotation-errors.js";

export interface SshTarget {
  host: string;
  port: number;
  /** SHA-256 of the host key, base64 without padding (as `ssh-keygen -lf` prints after `SHA256:`). */
  hostKeySha256?: string | undefined;
}

export interface SshLogin {
  userName: string;
  password?: string | undefined;
  privateKey?: string | undefined;
}

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const fingerprint = (key: Buffer) => createHash("sha256").update(key).digest("base64").replace(/=+$/, "");

const isAuthError = (e: unknown) => (e as { level?: unknown } | null)?.level === "client-authentication" || /authentication methods failed/i.test((e as Error)?.message ?? "");

/** An open SSH connection. `exec` feeds stdin (secrets go there, never into the command line). */
export class SshSession {
  private constructor(
    private readonly conn: SshClient,
    readonly sensitive: string[],
  ) {}

  /** Log in; throws AuthenticationFailed, TargetUnreachable or TargetError (host key mismatch). Resolves the host key fingerprint seen. */
  static async open(t: SshTarget, login: SshLogin): Promise<{ session: SshSession; hostKeySha256: string }> {
    const sensitive = [login.password, login.privateKey].filter((s): s is string => typeof s === "string");
    const conn = new Client();
    let seen = "";
    let mismatch = false;
    const cfg: ConnectConfig = {
      host: t.host, port: t.port, username: login.userName, readyTimeout: 15_000, tryKeyboard: false, keepaliveInterval: 0,
      hostVerifier: (key: Buffer) => {
        seen = fingerprint(key);
        mismatch = t.hostKeySha256 !== undefined && t.hostKeySha256 !== seen;
        return !mismatch;
      },
      ...(login.privateKey !== undefined ? { privateKey: login.privateKey } : {}),
      ...(login.password !== undefined ? { password: login.password } : {}),
      authHandler: login.privateKey !== undefined ? ["publickey"] : ["password"],
    };
    try {
      await new Promise<void>((resolve, reject) => {
        conn.once("ready", () => resolve());
        conn.once("error", reject);
        conn.once("close", () => reject(new Error("connection closed before login")));
        conn.connect(cfg);
      });
    } catch (e) {
      conn.end();
      if (mismatch) throw new RotationError("TargetError", `The host key of ${t.host}:${t.port} is SHA256:${seen}, not the pinned SHA256:${t.hostKeySha256}.`);
      throw wrapTargetError(e, `SSH login to ${t.host}:${t.port} as ${login.userName}`, sensitive, isAuthError);
    }
    conn.on("error", () => undefined);
    return { session: new SshSession(conn, sensitive), hostKeySha256: seen };
  }

  /** Run `command`; `stdin` is written and closed. Rejects only on transport errors (see `code`). */
  exec(command: string, stdin = "", timeoutMs = 20_000): Promise<ExecResult> {
    return new Promise<ExecResult>((resolve, reject) => {
      const timer = setTimeout(() => reject(new RotationError("Timeout", `the remote command took longer than ${timeoutMs / 1000} s`)), timeoutMs);
      timer.unref();
      this.conn.exec(command, (err, stream) => {
        if (err) {
          clearTimeout(timer);
          reject(wrapTargetError(err, "SSH exec", this.sensitive));
          return;
        }
        let stdout = "";
        let stderr = "";
        stream.on("data", (b: Buffer) => (stdout += b.toString("utf8")));
        stream.stderr.on("data", (b: Buffer) => (stderr += b.toString("utf8")));
        stream.on("close", (code: number | null) => {
          clearTimeout(timer);
          resolve({ code: code ?? -1, stdout, stderr });
        });
        stream.end(stdin);
      });
    });
  }

  /**
   * Run an interactive program on a pty (passwd), answering prompts: `answer(text)` sees
   * the output so far (never echoed secrets: prompts turn echo off) and returns what to type.
   */
  interactive(command: string, answer: (output: string) => string | undefined, timeoutMs = 20_000): Promise<ExecResult> {
    return new Promise<ExecResult>((resolve, reject) => {
      const timer = setTimeout(() => reject(new RotationError("Timeout", `${command.split(" ").pop()} took longer than ${timeoutMs / 1000} s`)), timeoutMs);
      timer.unref();
      this.conn.exec(command, { pty: { term: "dumb", rows: 24, cols: 200 } }, (err, stream: ClientChannel) => {
        if (err) {
          clearTimeout(timer);
          reject(wrapTargetError(err, "SSH exec", this.sensitive));
          return;
        }
        let out = "";
        let answered = 0;
        stream.on("data", (b: Buffer) => {
          out += b.toString("utf8");
          const reply = answer(out.slice(answered));
          if (reply !== undefined) {
            answered = out.length;
            stream.write(`${reply}\n`);
          }
        });
        stream.on("close", (code: number | null) => {
          clearTimeout(timer);
          resolve({ code: code ?? -1, stdout: redact(out, this.sensitive), stderr: "" });
        });
      });
    });
  }

  close(): void {
    this.conn.end();
  }
}

/** The host key fingerprint a server presents (the handshake stops there; no login is tried). */
export async function probeHostKey(t: SshTarget): Promise<string> {
  const conn = new Client();
  let seen: string | undefined;
  await new Promise<void>((resolve) => {
    conn.once("error", () => resolve());
    conn.once("close", () => resolve());
    conn.once("ready", () => resolve());
    conn.connect({ host: t.host, port: t.port, username: "coffer-probe", readyTimeout: 15_000, hostVerifier: (key: Buffer) => ((seen = fingerprint(key)), false) });
  });
  conn.end();
  if (seen === undefined) throw new RotationError("TargetUnreachable", `${t.host}:${t.port} did not complete an SSH key exchange`);
  return seen;
}

/** Open, run `fn`, close. */
export async function withSsh<T>(t: SshTarget, login: SshLogin, fn: (s: SshSession) => Promise<T>): Promise<T> {
  const { session } = await SshSession.open(t, login);
  try {
    return await fn(session);
  } finally {
    session.close();
  }
}
