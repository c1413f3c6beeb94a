/**
 * The `--audit-device` / `COFFER_AUDIT_DEVICES` syntax, read by the CLI (checking `coffer
 * server`'s options) and by the server (opening the devices, src/audit/audit-devices.ts).
 * Imports nothing.
 */

/** `file:/abs/path`, `stdout` or `syslog:/abs/socket`, each optionally `?fail=open` (default `?fail=closed`). */
export interface AuditDeviceSpec {
  /** The spec without its policy, e.g. `file:/var/log/coffer/audit.log` (the metric's `device` label). */
  name: string;
  kind: "file" | "stdout" | "syslog";
  path?: string | undefined;
  failOpen: boolean;
}

/** Parses device specs (repeatable, each possibly comma-separated); throws an Error saying which is wrong. Paths are POSIX: absolute means starting with `/`. */
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
      if (!m || !m[2]!.startsWith("/")) throw new Error(`audit device "${raw.slice(0, 200)}" must be file:/absolute/path, syslog:/absolute/socket/path or stdout`);
      specs.push({ name, kind: m[1] as "file" | "syslog", path: m[2]!, failOpen });
    }
    if (specs.filter((s) => s.name === name).length > 1) throw new Error(`audit device "${name.slice(0, 200)}" is named twice`);
  }
  return specs;
}
