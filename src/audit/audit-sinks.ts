import { open, type FileHandle } from "node:fs/promises";
import { createConnection, type Socket } from "node:net";
import { hostname } from "node:os";

/** Where a device's bytes go. Writes are called one at a time (the device queues). */
export interface AuditSink {
  /** Append these lines (each without its newline). */
  write(lines: readonly string[]): Promise<void>;
  /** Reopen the target (a file renamed by logrotate; a syslog socket restarted). */
  reopen(): Promise<void>;
  close(): Promise<void>;
}

/** A file opened for append (mode 0600), reopened by path on `reopen()` so a renamed file is let go. */
export function fileSink(path: string): AuditSink {
  let handle: Promise<FileHandle> | undefined;
  const get = () => (handle ??= open(path, "a", 0o600));
  const drop = async () => {
    const h = handle;
    handle = undefined;
    await h?.then((f) => f.close()).catch(() => undefined);
  };
  return {
    async write(lines) {
      try {
        await (await get()).appendFile(lines.join("\n") + "\n");
      } catch (e) {
        await drop(); // the next write opens the path again
        throw e;
      }
    },
    reopen: drop,
    close: drop,
  };
}

export function stdoutSink(): AuditSink {
  return {
    write: (lines) => new Promise<void>((resolve, reject) => process.stdout.write(lines.join("\n") + "\n", (e) => (e ? reject(e) : resolve()))),
    reopen: async () => undefined,
    close: async () => undefined,
  };
}

/** RFC 5424 facility authpriv (10), severity informational (6). */
const PRI = 10 * 8 + 6;

/**
 * A unix stream socket speaking RFC 5424 messages with RFC 6587 octet-counting framing
 * (`LEN SP <86>1 TIME HOST coffer PID audit - JSON`). Connects on first use; a failed
 * connection is dropped and the next write connects again.
 */
export function syslogSink(path: string): AuditSink {
  const host = hostname().replace(/[^\x21-\x7e]/g, "").slice(0, 255) || "-";
  let socket: Promise<Socket> | undefined;
  const connect = () =>
    (socket ??= new Promise<Socket>((resolve, reject) => {
      const s = createConnection({ path });
      s.once("connect", () => {
        s.off("error", reject);
        s.on("error", () => void drop(s));
        s.on("close", () => void drop(s));
        resolve(s);
      });
      s.once("error", reject);
    }).catch((e: unknown) => {
      socket = undefined;
      throw e;
    }));
  function drop(s?: Socket): void {
    if (s === undefined) void socket?.then((x) => x.destroy(), () => undefined);
    else s.destroy();
    socket = undefined;
  }
  return {
    async write(lines) {
      const s = await connect();
      const time = new Date().toISOString();
      const frames = lines.map((l) => {
        const msg = `<${PRI}>1 ${time} ${host} coffer ${process.pid} audit - ${l}`;
        return `${Buffer.byteLength(msg)} ${msg}`;
      });
      await new Promise<void>((resolve, reject) =>
        s.write(frames.join(""), (e) => {
          if (e) {
            drop(s);
            reject(e);
          } else resolve();
        }),
      );
    },
    reopen: async () => drop(),
    close: async () => drop(),
  };
}
