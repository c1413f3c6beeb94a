/**
 * The CLI's one way into the server side. `coffer server` runs the server in the CLI's
 * process and the offline `coffer operator` commands (init, issue-cert, backup, restore)
 * open the store themselves; they load that code here, on demand, so that every other
 * command starts without the server, the store or its drivers. Nothing else in src/cli
 * imports the server side, and this file only through `import()`
 * (test/architecture/import-rule.test.ts).
 */
export const serverSide = {
  /** `coffer server` (src/run-server.ts). */
  runServer: async () => (await import("../run-server.js")).runServer,
  /** `coffer operator init` and the error it throws (also for `issue-cert`). */
  operatorInit: () => import("../operator/init.js"),
  /** `coffer operator issue-cert`. */
  issueCert: async () => (await import("../operator/issue-cert.js")).operatorIssueCert,
  /** Offline `coffer operator backup|restore`: the store and the backup format. */
  openStorage: async () => (await import("../storage/index.js")).openStorage,
  backup: () => import("../operator/backup.js"),
  /** `coffer audit verify --file`: the audit device line format and its offline chain check. */
  auditLines: () => import("../audit/audit-line.js"),
};

export type { OperatorInitResult } from "../operator/init.js";
