import Foundation

/// Polls `condition` every 5 ms for at most `seconds`; true when it became true. The one wait of
/// the tests for something another thread or process does.
public func waitUntil(seconds: Double = 10, _ condition: () -> Bool) -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if condition() { return true }
        usleep(5_000)
    }
    return condition()
}
