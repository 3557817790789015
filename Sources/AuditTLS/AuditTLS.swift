/// TLS client sessions for the network outputs (syslog over TLS, RFC 5425; GELF over TLS; RELP
/// over TLS), on OpenSSL 3.
