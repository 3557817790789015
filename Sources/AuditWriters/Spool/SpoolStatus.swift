import Synchronization

/// Where and how a network output spools (`output.NAME.spool_*`).
package struct SpoolConfiguration: Sendable, Hashable {
    /// When spooled data and the read position reach the disk (`spool_sync`).
    package enum SyncPolicy: String, Sendable, Hashable, CaseIterable {
        /// Never `fsync`: the page cache survives a daemon crash, not a power loss.
        case never
        /// At most once a second, and at close (the default).
        case interval
        /// After every append and every delivered batch.
        case always
    }

    /// `spool_dir`: the output's own directory (created 0700 when missing).
    package var directory: String
    /// `spool_max_size`: bytes of segment files at most (default 256 MiB).
    package var maxSize: Int
    /// `spool_sync`.
    package var sync: SyncPolicy

    package init(directory: String, maxSize: Int = 256 << 20, sync: SyncPolicy = .interval) {
        self.directory = directory
        self.maxSize = maxSize
        self.sync = sync
    }
}

/// A spooling output's disk spool at one moment (for `STATUS=`, loss and stop events, tests).
package struct SpoolStatus: Sendable, Hashable {
    /// The spool directory.
    package var directory: String
    /// Items waiting on disk.
    package var entries = 0
    /// Their bytes (entry headers included).
    package var bytes = 0
    /// Bytes of segment files, against `maxSize`.
    package var diskBytes = 0
    /// `spool_max_size`.
    package var maxSize = 0
    /// When the oldest waiting item was spooled (milliseconds since the epoch); nil when empty.
    package var oldestTime: UInt64?
    /// Items written to the spool since start.
    package var spooled = 0
    /// Items sent from the spool since start.
    package var drained = 0
    /// Items read back from the spool that the writer refused for good (counted as `writer_drop`).
    package var rejected = 0
    /// Damaged tails cut off the newest segment at start (a crash mid-write), and their bytes.
    package var tornTails = 0
    package var tornBytes = 0
    /// Damaged regions that ended an older segment early, their bytes, and the items known lost
    /// in them (only those found while reading; at start only bytes are known).
    package var corruptRegions = 0
    package var corruptBytes = 0
    package var corruptEntries = 0
    /// Times a damaged position made the spool resend from its oldest item (duplicates).
    package var positionResets = 0

    package init(directory: String) {
        self.directory = directory
    }

    /// Seconds since the oldest waiting item was spooled, at `now` (milliseconds since the epoch).
    package func ageSeconds(now: UInt64) -> UInt64 {
        guard let oldestTime, now > oldestTime else { return 0 }
        return (now - oldestTime) / 1000
    }

    /// Damaged regions (torn tails and corrupt ones): each lost at least one item.
    package var damagedRegions: Int { tornTails + corruptRegions }
}

/// The spool status published by a spooling writer's thread for readers on other threads.
package final class SpoolGauges: Sendable {
    private let state: Mutex<SpoolStatus>

    package init(directory: String) {
        state = Mutex(SpoolStatus(directory: directory))
    }

    /// The latest status.
    package var status: SpoolStatus { state.withLock { $0 } }

    func publish(_ status: SpoolStatus) {
        state.withLock { $0 = status }
    }
}
