/// The client side of RELP, the Reliable Event Logging Protocol that rsyslog's imrelp speaks.
///
/// Bytes only: frames out (`RELPFrame`), frames in (`RELPResponseParser`), the session offers
/// (`RELPOffers`) and the window of transactions sent but not yet answered (`RELPWindow`). The
/// writer (`RELPWriter` in AuditWriters) owns the socket, the timeouts and the retry policy; this
/// module never does I/O, so every piece can be tested and fuzzed on its own.
///
/// # The protocol (librelp's doc/relp.html, which rsyslog's imrelp implements)
/// A frame is `TXNR SP COMMAND SP DATALEN [SP DATA] LF`: TXNR and DATALEN are 1…9 decimal
/// digits, COMMAND 1…32 letters, DATA exactly DATALEN bytes (absent when DATALEN is 0). The client
/// sends `open` (txnr 1) with its offers, waits for the `rsp` that accepts them, then one `syslog`
/// command per message, each with the next txnr (1…999 999 999, then 1 again). The server answers
/// every command with `rsp` carrying the same txnr and `200 OK` (or `500 reason`), in the order
/// the commands came. `close` ends the session; the server's `serverclose` hint (txnr 0) says it
/// is going away. A message counts as delivered only once its `rsp 200` arrived: what was sent
/// but not answered when a connection dies is sent again on the next one.
