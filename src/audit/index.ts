export { AuditService, type AuditInput, type AuditListFilter } from "./audit-service.js";
export { createAuditDevices, type AuditDevices } from "./audit-devices.js";
export { createAuditRetention, type AuditRetention } from "./audit-retention.js";
export { createLineChecker, type LineCheck } from "./audit-line.js";
