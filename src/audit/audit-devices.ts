import { isAbsolute } from "node:path";
import { fileSink, stdoutSink, syslogSink, type AuditSink } from "./audit-sinks.js";

/** `file:/abs/path`, `stdout` or `syslog:/abs/socket`, each optionally `?fail=open` (default `?fail=closed`). */
export interface AuditDeviceSpec {
  /** The spec without its policy, e.g. `file:/var/log/coffer/audit.log` (the metric's `device` label). */
  name: string;
  kind: "file" | "stdout" | "syslog";
  path?: string | undefined;
  failOpen: boolean;
}

/** Parses device specs (repeatable, each possibly comma-separated); throws an Error saying which is wrong. */
export function parseAuditDevices(values: readonly string[]): AuditDeviceSpec[] {
  const specs: AuditDeviceSpec[] = [];
  for (const raw of values.flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v !== "")) {
    const q = raw.lastIndexOf("?fail=");
    const name = q < 0 ? raw : raw.slice(0, q);
    const policy = q < 0 ? "closed" : raw.slice(q + 6);
    if (policy !== "open" && policy !== "closed") throw new Error(`audit device "${raw.slice(0, 200)}": the policy must be ?fail=open or ?fail=closed`);
    const failOpen = policy === "open";
    if (name === "stdout") specs.push({ name, kind: "stdout", failOpen });
    else {
      const m = /^(file|syslog):(.+)$/.exec(name);
      if (!m || !isAbsolute(m[2]!)) throw new Error(`audit device "${raw.slice(0, 200)}" must be file:/absolute/path, syslog:/absolute/socket/path or stdout`);
      specs.push({ name, kind: m[1] as "file" | "syslog", path: m[2]!, failOpen });
    }
    if (specs.filter((s) => s.name === name).length > 1) throw new Error(`audit device "${name.slice(0, 200)}" is named twice`);
  }
  return specs;
}

/** Lines a device may hold unwritten: a fail-closed device past it holds the audit writer back; a fail-open one drops. */
export const DEVICE_QUEUE_LINES = 10_000;

interface Device {
  spec: AuditDeviceSpec;
  sink: AuditSink;
  /** The last queued write: writes to one device happen one at a time, in seq order. */
  tail: Promise<void>;
  queued: number;
  failures: number;
}

/**
 * Streams committed records to the configured devices, in seq order. `write` resolves once
 * every fail-closed device has the lines and rejects when one cannot write them (the
 * waiters of those records are then refused); fail-open devices are counted and logged.
 */
export function createAuditDevices(deps: { specs: readonly AuditDeviceSpec[]; log: (fields: Record<string, unknown>, msg: string) => void; sinkOf?: (spec: AuditDeviceSpec) => AuditSink }) {
  const sinkOf = deps.sinkOf ?? ((s: AuditDeviceSpec) => (s.kind === "file" ? fileSink(s.path!) : s.kind === "syslog" ? syslogSink(s.path!) : stdoutSink()));
  const devices: Device[] = deps.specs.map((spec) => ({ spec, sink: sinkOf(spec), tail: Promise.resolve(), queued: 0, failures: 0 }));
  let drainListener: (() => void) | undefined;
  const congested = () => devices.some((d) => !d.spec.failOpen && d.queued >= DEVICE_QUEUE_LINES);

  function failed(d: Device, lines: number, e: unknown): void {
    d.failures++;
    const code = (e as NodeJS.ErrnoException)?.code;
    deps.log(
      { device: d.spec.name, policy: d.spec.failOpen ? "open" : "closed", records: lines, err: { code, message: (e as Error)?.message } },
      d.spec.failOpen ? "AUDIT DEVICE FAILED: records were not written to it (fail open: requests continue)" : "AUDIT DEVICE FAILED: requests waiting on these records are refused (fail closed)",
    );
  }

  return {
    size: devices.length,

    write(lines: readonly string[]): Promise<void> {
      const closed: Promise<void>[] = [];
      for (const d of devices) {
        if (d.spec.failOpen && d.queued >= DEVICE_QUEUE_LINES) {
          failed(d, lines.length, new Error(`the device is ${DEVICE_QUEUE_LINES} records behind; records dropped`));
          continue;
        }
        d.queued += lines.length;
        const done = d.tail.then(() => d.sink.write(lines));
        d.tail = done.then(
          () => undefined,
          (e: unknown) => failed(d, lines.length, e),
        ).finally(() => {
          const was = congested();
          d.queued -= lines.length;
          if (was && !congested()) drainListener?.();
        });
        if (!d.spec.failOpen) closed.push(done);
      }
      return closed.length === 0 ? Promise.resolve() : Promise.all(closed).then(() => undefined);
    },

    /** A fail-closed device is too far behind: the writer waits before writing more records. */
    congested,
    onDrain(listener: () => void): void {
      drainListener = listener;
    },
    /** Everything queued so far is written (or has failed). */
    async idle(): Promise<void> {
      await Promise.all(devices.map((d) => d.tail));
    },
    /** SIGHUP: reopen files (logrotate) and sockets, after the writes queued so far. */
    async reopen(): Promise<void> {
      await Promise.all(
        devices.map(
          (d) =>
            (d.tail = d.tail
              .then(() => d.sink.reopen())
              .catch((e: unknown) => deps.log({ device: d.spec.name, err: { code: (e as NodeJS.ErrnoException)?.code, message: (e as Error)?.message } }, "audit device could not be reopened; the next write opens it again"))),
        ),
      );
    },
    failures: (): [string, number][] => devices.map((d) => [d.spec.name, d.failures]),
    async close(): Promise<void> {
      await Promise.all(devices.map((d) => d.tail.then(() => d.sink.close()).catch(() => undefined)));
    },
  };
}

export type AuditDevices = ReturnType<typeof createAuditDevices>;
