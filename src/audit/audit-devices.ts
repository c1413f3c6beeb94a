import type { AuditDeviceSpec } from "../contract/audit-devices.js";
import { fileSink, stdoutSink, syslogSink, type AuditSink } from "./audit-sinks.js";

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
