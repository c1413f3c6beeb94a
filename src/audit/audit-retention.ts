import { createHmac, type KeyObject } from "node:crypto";
import type { Clock } from "../core/clock.js";
import type { Storage } from "../storage/index.js";
import { macEquals } from "./audit-chain.js";
import { AuditRepository } from "./audit-repo.js";

/** Records deleted per transaction. */
const TRIM_BATCH = 1000;
const DAY_MS = 86_400_000;

export interface AuditRetention {
  /** Trim records older than this many days. */
  days?: number | undefined;
  /** Keep at most this many records (the newest). */
  maxRecords?: number | undefined;
}

export function checkpointMac(key: KeyObject, seq: number, mac: string): string {
  return createHmac("sha256", key).update(`checkpoint\n${seq}\n${mac}`).digest("hex");
}

/**
 * The checkpoint (the chain at the cut: the last trimmed record's seq and MAC, MAC'd with the
 * chain key): absent (nothing was ever trimmed), verified, or "altered" (its MAC does not match).
 */
export async function readCheckpoint(repo: AuditRepository, key: KeyObject): Promise<{ seq: number; mac: string } | undefined | "altered"> {
  const value = await repo.readCheckpoint();
  if (value === undefined) return undefined;
  try {
    const c = JSON.parse(value.toString("utf8")) as { seq: unknown; mac: unknown; checkpointMac: unknown };
    if (!Number.isSafeInteger(c.seq) || typeof c.mac !== "string" || typeof c.checkpointMac !== "string") return "altered";
    if (!macEquals(c.checkpointMac, checkpointMac(key, c.seq as number, c.mac))) return "altered";
    return { seq: c.seq as number, mac: c.mac };
  } catch {
    return "altered";
  }
}

/**
 * The scheduler's retention job: moves the checkpoint to the newest record past the
 * retention (its own transaction, before anything is deleted), then deletes the records at
 * or before it in batches of TRIM_BATCH, one transaction each (on SQLite on a file, the
 * background writer's: off the event loop). A job interrupted between batches finishes the
 * next time; deleting needs no fsync of its own (a lost delete is redone). An altered checkpoint stops trimming (verify reports it).
 */
export function createAuditRetention(deps: { storage: Storage; clock: Clock; macKey: () => KeyObject; retention: AuditRetention }) {
  const repo = new AuditRepository(deps.storage);
  const { days, maxRecords } = deps.retention;
  return {
    enabled: days !== undefined || maxRecords !== undefined,

    /** Returns the width of the seq ranges deleted (records at or before the checkpoint). */
    async run(): Promise<number> {
      if (days === undefined && maxRecords === undefined) return 0;
      const key = deps.macKey();
      let cp = await readCheckpoint(repo, key);
      if (cp === "altered") throw new Error("the audit retention checkpoint does not verify; not trimming (run `coffer audit verify`)");
      let cut = 0;
      if (days !== undefined) cut = Math.max(cut, await repo.lastSeqBefore(deps.clock.now() - days * DAY_MS));
      if (maxRecords !== undefined) cut = Math.max(cut, (await repo.lastSeq()) - maxRecords);
      if (cut > (cp?.seq ?? 0)) {
        const at = cut;
        cp = await deps.storage.transaction(async (tx) => {
          const mac = await repo.macAt(tx, at);
          if (mac === undefined) throw new Error(`audit record ${at} is missing; not trimming (run \`coffer audit verify\`)`);
          await repo.writeCheckpoint(tx, Buffer.from(JSON.stringify({ seq: at, mac, checkpointMac: checkpointMac(key, at, mac) })));
          return { seq: at, mac };
        });
      }
      if (!cp) return 0;
      let from = (await repo.firstSeq()) ?? cp.seq + 1;
      let deleted = 0;
      while (from <= cp.seq) {
        const to = Math.min(cp.seq, from + TRIM_BATCH - 1);
        const hi = to;
        const lo = from;
        // SQLite on a file: the worker deletes (off the event loop); a batch is small enough to hold its write lock briefly.
        await repo.deleteRange(lo, hi);
        deleted += hi - lo + 1;
        from = to + 1;
      }
      return deleted;
    },
  };
}
