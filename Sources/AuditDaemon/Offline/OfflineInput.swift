import AuditEvents
import AuditSystem
internal import Glibc

/// A file (or standard input, `-`) given to `parse` or `replay`: open, its first bytes read and
/// its kind told by content (``AuditFileKind``), so that a wrong file gets a message saying what
/// it is instead of an error about its bytes.
///
/// The bytes read to tell the kind are kept (`prefix`) and handed to the reader, so a pipe, which
/// cannot be read twice, works as well as a file.
final class OfflineInput {
    /// The name the operator gave (`-` for standard input).
    let name: String
    /// The open descriptor, closed with this value (except standard input).
    let descriptor: Int32
    /// The first bytes, already read from `descriptor`.
    let prefix: [UInt8]
    /// What the input holds.
    let kind: AuditFileKind

    private init(name: String, descriptor: Int32, prefix: [UInt8], kind: AuditFileKind) {
        self.name = name
        self.descriptor = descriptor
        self.prefix = prefix
        self.kind = kind
    }

    deinit {
        if descriptor != 0 { SystemCall.close(descriptor) }
    }

    /// Opens `name` and reads until its kind is known (at most ``AuditFileKind/detectionLength``
    /// bytes). The error names the file and the system's reason.
    static func open(_ name: String) -> Result<OfflineInput, DaemonError> {
        let descriptor: Int32
        if name == "-" {
            descriptor = 0
        } else {
            do { descriptor = try SystemCall.open(name, O_RDONLY | O_CLOEXEC) } catch {
                return .failure(DaemonError("\(name): cannot open: \(error)"))
            }
            if let status = try? SystemCall.status(of: descriptor), status.st_mode & S_IFMT == S_IFDIR {
                SystemCall.close(descriptor)
                return .failure(DaemonError("\(name): is a directory"))
            }
        }
        var prefix = [UInt8](repeating: 0, count: AuditFileKind.detectionLength)
        var filled = 0
        var kind: AuditFileKind?
        while kind == nil {
            let count: Int
            do { count = try SystemCall.read(descriptor, into: &prefix, from: filled) } catch {
                if descriptor != 0 { SystemCall.close(descriptor) }
                return .failure(DaemonError("\(name): read failed: \(error)"))
            }
            filled += count
            let atEnd = count == 0 || filled == prefix.count
            kind = prefix.withUnsafeBytes {
                AuditFileKind.detect(UnsafeRawBufferPointer(rebasing: $0[0..<filled]), atEnd: atEnd)
            }
        }
        prefix.removeSubrange(filled...)
        return .success(OfflineInput(name: name, descriptor: descriptor, prefix: prefix, kind: kind ?? .empty))
    }
}
