import AuditTLS
import Testing
