import CZlib

/// zlib and gzip compression of GELF documents (through the system zlib, `CZlib`).
///
/// Level 1 (fastest): GELF compression is there to need fewer UDP chunks, and the writer thread
/// must keep up with the event rate; level 1 already shrinks audit JSON several times.
enum Deflate {
    /// The compression level.
    static let level: Int32 = 1

    /// Compresses `input` in the zlib format (RFC 1950) with `compress2` into `output`
    /// (replacing its content). False when zlib fails (out of memory).
    static func zlib(_ input: ArraySlice<UInt8>, into output: inout [UInt8]) -> Bool {
        var length = compressBound(uLong(input.count))
        output.removeAll(keepingCapacity: true)
        output.append(contentsOf: repeatElement(0, count: Int(length)))
        let status = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                compress2(target.baseAddress, &length, source.baseAddress, uLong(source.count), level)
            }
        }
        guard status == Z_OK else { return false }
        output.removeSubrange(Int(length)...)
        return true
    }

    /// Compresses `input` in the gzip format (RFC 1952: `deflateInit2` with window bits 31) into
    /// `output` (replacing its content). False when zlib fails.
    static func gzip(_ input: ArraySlice<UInt8>, into output: inout [UInt8]) -> Bool {
        var stream = z_stream()
        let size = Int32(MemoryLayout<z_stream>.size)
        guard deflateInit2_(&stream, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY, zlibVersion(), size) == Z_OK else {
            return false
        }
        defer { deflateEnd(&stream) }
        let bound = Int(deflateBound(&stream, uLong(input.count))) + 32
        output.removeAll(keepingCapacity: true)
        output.append(contentsOf: repeatElement(0, count: bound))
        let status = input.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { target in
                stream.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
                stream.avail_in = uInt(source.count)
                stream.next_out = target.baseAddress
                stream.avail_out = uInt(target.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END else { return false }
        output.removeSubrange(Int(stream.total_out)...)
        return true
    }
}
