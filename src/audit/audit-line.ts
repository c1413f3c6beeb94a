import type { AuditRecord } from "../contract/native-api.js";
import type { AuditFields } from "./audit-chain.js";
import { GENESIS } from "./audit-chain.js";

/** One record as a device writes it: the store's record (time as UTC ISO-8601 with milliseconds) plus its chain links. */
export interface AuditLine extends AuditRecord {
  prevMac: string;
  mac: string;
}

/** The JSON line (no newline) of a chained record. */
export function formatLine(f: Omit<AuditFields, "seq">, seq: number, prevMac: string, mac: string): string {
  const line: AuditLine = { seq, time: new Date(f.time).toISOString(), requestId: f.requestId, principal: f.principal, action: f.action, resource: f.resource, outcome: f.outcome, errorCode: f.errorCode, status: f.status, source: f.source, detail: f.detail, prevMac, mac };
  return JSON.stringify(line);
}

const MAC = /^[0-9a-f]{64}$/;
const OUTCOMES = new Set(["success", "failure", "denied"]);
const str = (v: unknown): v is string => typeof v === "string";
const strOrNull = (v: unknown): v is string | null => v === null || typeof v === "string";

/** A line parsed back into the fields its MAC covers; a string saying what is wrong when it is not a record. */
export function parseLine(text: string): { fields: AuditFields; prevMac: string; mac: string } | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return "not JSON";
  }
  if (typeof v !== "object" || v === null || Array.isArray(v)) return "not a JSON object";
  const o = v as Record<string, unknown>;
  if (!Number.isSafeInteger(o.seq) || (o.seq as number) < 1) return "seq is not a positive integer";
  if (!str(o.time)) return "time is not a string";
  const time = Date.parse(o.time);
  if (!Number.isFinite(time) || new Date(time).toISOString() !== o.time) return "time is not a UTC ISO-8601 time with milliseconds";
  if (!str(o.requestId) || !str(o.principal) || !str(o.action) || !str(o.resource) || !str(o.source)) return "a text field is missing";
  if (!str(o.outcome) || !OUTCOMES.has(o.outcome)) return "outcome is not success, failure or denied";
  if (!strOrNull(o.errorCode) || !strOrNull(o.detail)) return "errorCode or detail is neither text nor null";
  if (!Number.isSafeInteger(o.status)) return "status is not an integer";
  if (!str(o.prevMac) || !MAC.test(o.prevMac) || !str(o.mac) || !MAC.test(o.mac)) return "prevMac or mac is not a 64-digit hex MAC";
  return {
    fields: { seq: o.seq as number, time, requestId: o.requestId, principal: o.principal, action: o.action, resource: o.resource, outcome: o.outcome as AuditFields["outcome"], errorCode: o.errorCode, status: o.status as number, source: o.source, detail: o.detail },
    prevMac: o.prevMac,
    mac: o.mac,
  };
}

export interface LineCheck {
  valid: boolean;
  records: number;
  firstSeq?: number;
  lastSeq?: number;
  /** The 1-based line of the first problem. */
  badLine?: number;
  firstBadSeq?: number;
  reason?: string;
}

/**
 * Walks lines in order, checking what needs no key: each line is a record, seq goes up by
 * one, each prevMac is the previous line's mac, and a file that starts at seq 1 starts at
 * the genesis MAC. `macOk` (given by the server, which holds the chain key) checks each MAC too.
 * Blank lines are skipped.
 */
export function createLineChecker(macOk?: (fields: AuditFields, prevMac: string, mac: string) => boolean) {
  let line = 0;
  let records = 0;
  let prev: { seq: number; mac: string } | undefined;
  let firstSeq: number | undefined;
  let bad: LineCheck | undefined;
  const fail = (reason: string, seq?: number) => {
    bad = { valid: false, records, badLine: line, reason, ...(seq === undefined ? {} : { firstBadSeq: seq }), ...(firstSeq === undefined ? {} : { firstSeq }), ...(prev ? { lastSeq: prev.seq } : {}) };
  };
  return {
    /** Feeds one line; false once the file is known to be bad (stop feeding). */
    push(text: string): boolean {
      if (bad) return false;
      line++;
      if (text.trim() === "") return true;
      const r = parseLine(text);
      if (typeof r === "string") return fail(`line ${line} is not an audit record: ${r}`), false;
      const seq = r.fields.seq;
      if (prev === undefined) {
        if (seq === 1 && r.prevMac !== GENESIS) return fail(`record 1 does not start the chain`, seq), false;
      } else {
        if (seq !== prev.seq + 1) return fail(seq === prev.seq + 2 ? `record ${prev.seq + 1} is missing` : seq > prev.seq + 2 ? `records ${prev.seq + 1}–${seq - 1} are missing` : `record ${seq} is out of order (after ${prev.seq})`, prev.seq + 1), false;
        if (r.prevMac !== prev.mac) return fail(`record ${seq} does not link to record ${prev.seq}`, seq), false;
      }
      if (macOk && !macOk(r.fields, r.prevMac, r.mac)) return fail(`record ${seq} was altered`, seq), false;
      firstSeq ??= seq;
      prev = { seq, mac: r.mac };
      records++;
      return true;
    },
    result(): LineCheck {
      if (bad) return bad;
      if (prev === undefined) return { valid: false, records: 0, reason: "the file holds no audit record" };
      return { valid: true, records, firstSeq: firstSeq!, lastSeq: prev.seq };
    },
  };
}
