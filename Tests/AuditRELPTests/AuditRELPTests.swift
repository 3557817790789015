import AuditRELP
import Testing
