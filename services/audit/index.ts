// Audit: who changed what and when, through the API (read by administrators at GET /api/audit).
export { AuditLog, redact, type AuditEntry, type AuditInput, type AuditQuery } from './audit-log.js';
