#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

// OpenSSL spells these as function-like macros, which Swift does not import; each wrapper is the
// macro's expansion and nothing more.

/// `SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION)`: TLS 1.2 or later, never lower.
static inline int audit_tls_require_tls12(SSL_CTX *context) {
    return (int)SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION);
}

/// `SSL_CTX_set_mode`: partial writes, and a retried write may come from another address.
static inline void audit_tls_set_write_modes(SSL_CTX *context) {
    SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
}

/// `SSL_OP_NO_RENEGOTIATION`: a client that never renegotiates never needs to read while writing.
static inline uint64_t audit_tls_option_no_renegotiation(void) { return SSL_OP_NO_RENEGOTIATION; }

/// `SSL_set_tlsext_host_name`: the SNI name (a DNS name; never an IP address, RFC 6066 §3).
static inline int audit_tls_set_server_name_indication(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

/// `BIO_set_retry_read`, `BIO_set_retry_write`, `BIO_clear_retry_flags`.
static inline void audit_tls_bio_retry_read(BIO *bio) { BIO_set_retry_read(bio); }
static inline void audit_tls_bio_retry_write(BIO *bio) { BIO_set_retry_write(bio); }
static inline void audit_tls_bio_clear_retry(BIO *bio) { BIO_clear_retry_flags(bio); }
