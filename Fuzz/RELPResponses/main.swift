// libFuzzer target: bytes from a RELP server through the client's response parser, the offer
// parser and the window, as the RELP writer uses them.
//
// Built by `make fuzz` (see docs/design.md, "Testing against hostile input"). The first input byte
// chooses how the rest is cut into reads (1…256 bytes each), so frames split across reads and
// several frames per read are both exercised. Every frame returned is checked against what the
// parser promises (DATALEN within the limit, DATA of exactly DATALEN bytes, a status of 3 digits);
// the data of each `rsp` goes through the offer parser, its txnr through a window of recorded
// commands. A Swift trap (bounds, overflow, precondition) is a crash to libFuzzer.
import AuditRELP

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRELPResponses(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard size > 0, let data else { return 0 }
    let input = UnsafeRawBufferPointer(start: data, count: size)
    let chunk = Int(input[0]) + 1
    var parser = RELPResponseParser(maximumDataLength: 4096)
    var window = RELPWindow(limit: 16)
    window.reset(next: RELPTransactionNumber(RELPTransactionNumber.maximum - 7)!)
    for item in 0..<24 { _ = window.record(item: item) }
    var offset = 1
    while offset < size {
        let end = min(size, offset + chunk)
        parser.append(UnsafeRawBufferPointer(rebasing: input[offset..<end]))
        offset = end
        while true {
            let frame: RELPIncomingFrame?
            do {
                frame = try parser.next()
            } catch {
                precondition(error.excerpt.count <= 64, "excerpt longer than 64 bytes")
                _ = error.description
                return 0
            }
            guard let frame else { break }
            precondition(frame.dataLength <= parser.maximumDataLength, "DATALEN beyond the limit")
            precondition(parser.data.count == frame.dataLength, "DATA is not DATALEN bytes")
            precondition(frame.transaction <= RELPTransactionNumber.maximum, "TXNR beyond 9 digits")
            precondition(!parser.command.isEmpty && parser.command.count <= 32, "COMMAND length")
            if case .response(let status) = frame.command {
                if let status { precondition((0...999).contains(status), "status is not 3 digits") }
                precondition(parser.responseData.count <= parser.data.count, "offers outside the data")
                if let offers = try? RELPOffers(parsing: parser.responseData) {
                    try? offers.validateServerAnswer(excerpt: parser.data)
                }
                let before = window.count
                if (try? window.acknowledge(frame.transaction)) != nil {
                    precondition(window.count <= before, "an acknowledgement never adds to the window")
                }
            }
        }
    }
    return 0
}
