/// The offers of a RELP session: what the client proposes in `open` and what the server accepts
/// in its answer. Each is a line `name[=value[,value…]]`, lines separated by LF.
package struct RELPOffers: Sendable, Hashable {
    /// One offer.
    package struct Offer: Sendable, Hashable {
        package var name: String
        package var values: [String]

        package init(name: String, values: [String]) {
            self.name = name
            self.values = values
        }
    }

    /// The offers, in the order they came.
    package var offers: [Offer]

    package init(_ offers: [Offer]) { self.offers = offers }

    /// The values of offer `name`, nil when it is absent.
    package func values(of name: String) -> [String]? {
        offers.first { $0.name == name }?.values
    }

    /// The client's `open` data: `relp_version=0`, `relp_software=NAME[,VERSION[,URL]]` and
    /// `commands=syslog`. Version 0 is what librelp (and so rsyslog's omrelp and imrelp) speak;
    /// imrelp answers with the same set.
    package static func clientOpen(software: [String]) -> [UInt8] {
        var text = "relp_version=0\nrelp_software="
        text += software.map { $0.filter { $0 != "," && $0 != "\n" } }.joined(separator: ",")
        text += "\ncommands=syslog"
        return Array(text.utf8)
    }

    /// Parses a server's offers (the data of its `rsp` to `open` after the status line). An
    /// offer name is at most 32 bytes and a value at most 255 (the spec's limits); empty lines
    /// are skipped.
    package init(parsing bytes: some Collection<UInt8>) throws(RELPProtocolError) {
        var offers: [Offer] = []
        for line in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: true) {
            let equals = line.firstIndex(of: UInt8(ascii: "="))
            let name = line[line.startIndex..<(equals ?? line.endIndex)]
            guard !name.isEmpty, name.count <= 32, name.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw RELPProtocolError(.badOffers, excerpt: bytes)
            }
            var values: [String] = []
            if let equals {
                let rest = line[line.index(after: equals)...]
                for value in rest.split(separator: UInt8(ascii: ","), omittingEmptySubsequences: false) {
                    guard value.count <= 255 else { throw RELPProtocolError(.badOffers, excerpt: bytes) }
                    values.append(String(decoding: value, as: UTF8.self))
                }
            }
            offers.append(Offer(name: String(decoding: name, as: UTF8.self), values: values))
        }
        self.offers = offers
    }

    /// Checks a server's answer to `open`: it must carry `relp_version` (else the client must
    /// close, says the spec) and list `syslog` among its `commands` (else the command must not
    /// be used).
    package func validateServerAnswer(excerpt: some Collection<UInt8>) throws(RELPProtocolError) {
        guard let version = values(of: "relp_version"), !version.isEmpty else {
            throw RELPProtocolError(.badOffers, excerpt: excerpt)
        }
        guard let commands = values(of: "commands"), commands.contains("syslog") else {
            throw RELPProtocolError(.syslogRefused, excerpt: excerpt)
        }
    }
}
