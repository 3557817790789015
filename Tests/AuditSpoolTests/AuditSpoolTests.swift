import AuditSpool
import Testing
