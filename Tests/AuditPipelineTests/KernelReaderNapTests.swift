import AuditPipeline
import Testing

/// The reader's nap when the socket runs dry must never give the kernel time to overflow the
/// socket buffer, whatever `socket_buffer` says.
@Suite struct KernelReaderNapTests {
    @Test(arguments: [
        (64 << 20, 700...700), (2 << 20, 700...700), (1 << 20, 600...699), (256 << 10, 150...200),
        (0, 120...150), (64 << 10, 100...100),
    ])
    func theNapShrinksWithTheSocketBuffer(bytes: Int, expected: ClosedRange<Int>) {
        #expect(expected.contains(KernelReader.napMicroseconds(socketBufferBytes: bytes)))
    }

    @Test func aLargerBufferNeverMeansAShorterNap() {
        var previous = 0
        for bytes in stride(from: 64 << 10, through: 4 << 20, by: 16 << 10) {
            let nap = KernelReader.napMicroseconds(socketBufferBytes: bytes)
            #expect(nap >= previous, "\(bytes) bytes")
            previous = nap
        }
    }

    /// At the fastest record rate measured (450k/s, ~2.3 KiB charged each), a nap fills at most a
    /// third of the doubled buffer, or the 100 µs floor applies.
    @Test(arguments: [0, 64 << 10, 212_992, 512 << 10, 1 << 20, 4 << 20, 1 << 30])
    func aNapNeverFillsMoreThanAThirdOfTheBuffer(bytes: Int) {
        let nap = KernelReader.napMicroseconds(socketBufferBytes: bytes)
        let arriving = 450_000 * nap / 1_000_000 * 2_300
        let buffer = 2 * (bytes > 0 ? bytes : 212_992)
        #expect(nap == 100 || arriving <= buffer / 3 + 2_300)
        #expect(nap <= KernelReader.maximumNapMicroseconds)
    }
}
