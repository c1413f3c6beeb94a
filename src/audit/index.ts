export { createAuditService, type AuditInput, type AuditListFilter, type AuditService } from "./audit-service.js";
