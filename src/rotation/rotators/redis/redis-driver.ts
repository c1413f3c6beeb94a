import type { Redis } from "ioredis";
import type { DatabaseConfig } from "../../managed-config.js";
import { RotationError, wrapTargetError } from "../../rotation-errors.js";
import type { Credential, DatabaseDriver } from "../database/database-rotator.js";

const isAuthError = (e: unknown) => /^(WRONGPASS|NOAUTH|NOPERM)/.test(e instanceof Error ? e.message : String(e));

/** ioredis is loaded on first use: a server that never rotates a Redis account never pays its start-up cost. */
const load = () => import("ioredis");
let driver: ReturnType<typeof load> | undefined;

async function withRedis<T>(c: DatabaseConfig, cred: Credential, what: string, fn: (r: Redis) => Promise<T>): Promise<T> {
  const { Redis } = await (driver ??= load());
  const r = new Redis({
    host: c.host, port: c.port, username: cred.user, password: cred.password,
    ...(c.tls === false ? {} : { tls: { rejectUnauthorized: c.tls.rejectUnauthorized, ...(c.tls.ca ? { ca: c.tls.ca } : {}), ...(c.tls.servername ? { servername: c.tls.servername } : {}) } }),
    lazyConnect: true, enableReadyCheck: false, connectTimeout: 10_000, commandTimeout: 15_000, maxRetriesPerRequest: 0, enableOfflineQueue: false,
    retryStrategy: () => null, reconnectOnError: () => false, connectionName: "coffer-rotation",
  });
  // A refused AUTH arrives as an "error" event; connect() itself only says the connection closed.
  let refused: unknown;
  r.on("error", (e: unknown) => (refused = e));
  try {
    await r.connect().catch((e: unknown) => Promise.reject(refused ?? e));
    return await fn(r);
  } catch (e) {
    throw wrapTargetError(e, `${what} (Redis ${c.host}:${c.port} as ${cred.user})`, [cred.password], isAuthError);
  } finally {
    r.disconnect();
  }
}

/** Categories per privilege level; `-@dangerous` keeps CONFIG, ACL, FLUSHALL … to the admin. */
function rules(c: DatabaseConfig): string[] {
  if (c.accountType === "privileged") return ["~*", "&*", "+@all"];
  if (c.privileges === "readonly") return ["~*", "&*", "+@read", "+@connection", "-@dangerous"];
  return ["~*", "&*", "+@all", "-@dangerous"];
}

/** Admin-class commands (`@admin`, `@dangerous`): an account allowed any of them is privileged. */
const ADMIN_PROBES: string[][] = [
  ["ACL", "SETUSER", "coffer-probe"], ["CONFIG", "SET", "maxmemory", "0"], ["MODULE", "LOAD", "/nonexistent"], ["SHUTDOWN"],
  ["REPLICAOF", "NO", "ONE"], ["DEBUG", "SLEEP", "0"], ["FLUSHALL"], ["MONITOR"],
];

/** Persist ACL changes when the server has an ACL file; a server without one keeps them in memory. */
async function save(r: Redis): Promise<void> {
  await r.call("ACL", "SAVE").catch((e: unknown) => {
    if (!/not configured to use an ACL file/i.test((e as Error).message)) throw e;
  });
}

async function exists(r: Redis, account: string): Promise<boolean> {
  return (await r.call("ACL", "GETUSER", account)) !== null;
}

/** Redis 6+ ACL users. `resetpass` drops every old password of the user, so single mode's old value stops working. */
export const redisDriver: DatabaseDriver = {
  engine: "redis",

  async login(c, cred) {
    await withRedis(c, cred, "login", async (r) => {
      const pong = await r.ping();
      if (pong !== "PONG") throw new RotationError("TargetError", "PING did not answer PONG");
    });
  },

  async setPassword(c, admin, account, password) {
    return withRedis(c, admin, `set the password of ${account}`, async (r) => {
      if (!(await exists(r, account))) return false;
      await r.call("ACL", "SETUSER", account, "on", "resetpass", `>${password}`);
      await save(r);
      return true;
    });
  },

  async createAccount(c, admin, account, password) {
    await withRedis(c, admin, `create the account ${account}`, async (r) => {
      // ACL SETUSER also changes an existing user: refuse one (Redis has no create-only form, so a
      // user created in the moment between the two commands is the one case this cannot see).
      if (await exists(r, account)) throw new RotationError("TargetError", `The ACL user ${account} already exists.`);
      await r.call("ACL", "SETUSER", account, "reset", "on", `>${password}`, ...rules(c));
      await save(r);
    });
  },

  async inspect(_c, admin, account) {
    return withRedis(_c, admin, `inspect the account ${account}`, async (r) => {
      const user = (await r.call("ACL", "GETUSER", account)) as unknown[] | null;
      if (user === null) return { exists: false, privileges: [] };
      const privileges: string[] = [];
      for (const probe of ADMIN_PROBES) {
        const answer = await r.call("ACL", "DRYRUN", account, ...probe).catch((e: unknown) => e as Error);
        if (answer instanceof Error) {
          // Redis 6 has no DRYRUN: judge by the command rules instead.
          if (!/unknown subcommand|syntax error/i.test(answer.message)) throw answer;
          const i = user.indexOf("commands");
          const rules = String(i >= 0 ? user[i + 1] : "");
          if (/\+@(all|admin|dangerous)\b/.test(rules) && !/-@(admin|dangerous)\b/.test(rules)) privileges.push(`commands ${rules}`);
          break;
        }
        if (answer === "OK") privileges.push(probe.join(" ").split(" ").slice(0, 2).join(" "));
      }
      return { exists: true, privileges };
    });
  },

  async dropAccount(c, admin, account) {
    await withRedis(c, admin, `drop the account ${account}`, async (r) => {
      await r.call("ACL", "DELUSER", account);
      await save(r);
    });
  },
};
