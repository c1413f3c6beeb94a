import type { KeyObject } from "node:crypto";
import { BackgroundConflict, BackgroundWorkerLost, type BackgroundStatement, type BackgroundWriter, type CommitParticipant, type SqlParam, type Storage, type Tx } from "../storage/index.js";
import { GENESIS, chainMac, headMac } from "./audit-chain.js";
import { formatLine } from "./audit-line.js";
import type { Pending } from "./audit-pending.js";
import { RECORD_PARAMS, recordParams, type AuditRepository } from "./audit-repo.js";

/**
 * Writes one batch of the queue (src/audit/audit-queue.ts) at the end of the chain. At
 * most one batch is in flight, so the chain is extended in order.
 */
export interface AuditWriter {
  /** Writes the batch on its own; resolves with why it failed (undefined: committed). Never rejects. */
  write(batch: Pending[]): Promise<unknown>;
}

/** The store's group commit (SQLite `:memory:`): batches ride on the commit of the next group of writes. */
export interface AuditGroupCommit {
  /** Joins every group from now on; the answer requests a group (false once the store is closed). */
  join(participant: CommitParticipant): () => boolean;
  /** The batch inside the group's transaction. */
  write(tx: Tx, batch: Pending[]): Promise<void>;
}

export interface AuditWriterDeps {
  repo: AuditRepository;
  macKey: () => KeyObject;
  /** Set each record's device line (`Pending.line`) as it is chained: there are audit devices. */
  lines: boolean;
}

/** The chain head: last seq and MAC, and the stored row's value (undefined: no row yet). */
interface Head {
  seq: number;
  mac: string;
  value: Buffer | string | undefined;
}

/** The batch's rows, chained after (seq, mac): the INSERT parameters and the new head (with `lines`, devices get their lines). */
function chainRows(key: KeyObject, batch: Pending[], seq: number, mac: string, lines: boolean): { params: SqlParam[]; seq: number; mac: string } {
  const params: SqlParam[] = new Array<SqlParam>(batch.length * RECORD_PARAMS);
  let j = 0;
  for (const p of batch) {
    const f = p.fields;
    const next = chainMac(key, mac, f, ++seq);
    j = recordParams(params, j, seq, f, mac, next);
    if (lines) p.line = formatLine(f, seq, mac, next);
    mac = next;
  }
  return { params, seq, mac };
}

/** The head row's value for (seq, mac), its own MAC included. */
const headValue = (key: KeyObject, seq: number, mac: string): Buffer => Buffer.from(JSON.stringify({ seq, mac, headMac: headMac(key, seq, mac) }));

/** Whether the stored chain head is `end` (a batch whose answer was lost did commit); false when it cannot be read. */
async function headIs(repo: AuditWriterDeps["repo"], end: Head): Promise<boolean> {
  const now = await repo.readHead().catch(() => undefined);
  return now !== undefined && end.value !== undefined && Buffer.from(now).equals(Buffer.from(end.value));
}

/** After a compare-and-set lost to another node, batches take the locked path this long (ms). */
const LOCKED_AFTER_CONFLICT_MS = 10_000;

/**
 * PostgreSQL and SQLite `:memory:`: each batch in a transaction that locks the head row.
 * A batch nobody waits for (reads in buffered mode) skips the fsync (`relaxed`); a waiter
 * makes it durable. On `:memory:` the batches join the store's group commit instead.
 *
 * On PostgreSQL, once this writer knows the head (it wrote it last), a batch is one
 * autocommitted statement instead of four round trips: chained from that head, written
 * only if the row still holds it (compare-and-set). Its records then leave the queue
 * within a turn or two instead of waiting for a transaction in flight, too briefly to be
 * promoted by the GC. Another node moving the head (or a reset) sends the batch down the
 * locked path, and keeps it there for a while, since nodes that interleave would keep
 * chaining twice. A lost answer is settled by reading the head back: never written twice.
 */
export class TransactionAuditWriter implements AuditWriter {
  /** The head this writer committed last (PostgreSQL); undefined: the next batch takes the locked path. */
  private head: Head | undefined;
  /** Until when (epoch ms) batches take the locked path after a conflict. */
  private lockedUntil = 0;

  constructor(
    private readonly storage: Storage,
    private readonly d: AuditWriterDeps,
  ) {}

  /** The store's group commit, when it has one. */
  groupCommit(): AuditGroupCommit | undefined {
    const storage = this.storage;
    if (!storage.joinGroupCommit) return undefined;
    return { join: (participant) => storage.joinGroupCommit!(participant), write: async (tx, batch) => void (await this.inTransaction(tx, batch)) };
  }

  async write(batch: Pending[]): Promise<unknown> {
    const postgres = this.storage.dialect.engine === "postgres";
    const from = this.head;
    this.head = undefined;
    if (postgres && from && Date.now() >= this.lockedUntil) {
      const key = this.d.macKey();
      const { params, seq, mac } = chainRows(key, batch, from.seq, from.mac, this.d.lines);
      const end: Head = { seq, mac, value: headValue(key, seq, mac) };
      try {
        if (await this.d.repo.appendIfHead(params, batch.length, from.value as Buffer, end.value as Buffer)) {
          this.head = end;
          return undefined;
        }
        this.lockedUntil = Date.now() + LOCKED_AFTER_CONFLICT_MS; // moved behind this writer's back: the locked path chains again
      } catch (e) {
        // The answer was lost, or the statement failed: the stored head says whether it committed.
        if (!(await headIs(this.d.repo, end))) return e;
        this.head = end;
        return undefined;
      }
    }
    const relaxed = batch.every((p) => !p.waiter);
    let end: Head | undefined;
    try {
      await this.storage.transaction(async (tx) => void (end = await this.inTransaction(tx, batch)), relaxed ? { durability: "relaxed" } : undefined);
    } catch (e) {
      return e;
    }
    if (postgres) this.head = end;
    return undefined;
  }

  /** Chains the batch after the head read (and locked) in `tx` and appends it; the new head. */
  async inTransaction(tx: Tx, batch: Pending[]): Promise<Head> {
    const key = this.d.macKey();
    const head = await this.d.repo.lockHead(tx);
    const from = head ? (JSON.parse(head.toString("utf8")) as { seq: number; mac: string }) : { seq: 0, mac: GENESIS };
    const { params, seq, mac } = chainRows(key, batch, from.seq, from.mac, this.d.lines);
    const value = headValue(key, seq, mac);
    await this.d.repo.append(tx, params, batch.length, value);
    return { seq, mac, value };
  }
}

/**
 * SQLite on a file: the records go to the store's background writer (a worker thread with
 * its own connection, src/storage/sqlite-background.ts). The request thread only chains
 * them (HMACs) from the head it wrote last and hands the rows over; the INSERTs, the
 * COMMIT and its fsync happen off the event loop. The head is updated with a
 * compare-and-set (the row must still hold the value this writer last wrote), so a head
 * changed behind its back (a reset) makes the batch retry from the stored head, and a
 * worker that died with a batch is settled by reading the head back: committed or not,
 * never written twice.
 */
export class BackgroundAuditWriter implements AuditWriter {
  /** The chain head this writer wrote last; undefined: read it from the store. */
  private head: Head | undefined;

  constructor(
    private readonly background: BackgroundWriter,
    private readonly d: AuditWriterDeps,
  ) {}

  async write(batch: Pending[]): Promise<unknown> {
    const durable = batch.some((p) => p.waiter);
    let error: unknown;
    for (let attempt = 1; ; attempt++) {
      let end: Head | undefined;
      try {
        const from = (this.head ??= await this.readHead());
        const chained = this.chainStatements(batch, from);
        end = chained.end;
        await this.background.write(chained.statements, { durable });
        this.head = end;
        error = undefined;
        break;
      } catch (e) {
        this.head = undefined;
        error = e;
        // The worker died with the batch: the stored head says whether it committed.
        if (end && e instanceof BackgroundWorkerLost && (await headIs(this.d.repo, end))) {
          this.head = end;
          error = undefined;
          break;
        }
        // The head moved behind this writer's back (a reset): chain again from the stored one.
        if (!(e instanceof BackgroundConflict) || attempt >= 3) break;
      }
    }
    return error;
  }

  private async readHead(): Promise<Head> {
    const value = await this.d.repo.readHead();
    if (value === undefined) return { seq: 0, mac: GENESIS, value: undefined };
    const h = JSON.parse(value.toString()) as { seq: number; mac: string };
    // Compared as stored (the compare-and-set matches a BLOB with a BLOB, text with text).
    return { seq: h.seq, mac: h.mac, value };
  }

  /** The batch as statements for the background writer: the head's compare-and-set first, then the rows. */
  private chainStatements(batch: Pending[], from: Head): { statements: BackgroundStatement[]; end: Head } {
    const key = this.d.macKey();
    const { params, seq, mac } = chainRows(key, batch, from.seq, from.mac, this.d.lines);
    const value = headValue(key, seq, mac);
    return { statements: this.d.repo.appendStatements(params, batch.length, from.value, value), end: { seq, mac, value } };
  }
}
