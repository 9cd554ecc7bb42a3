import StrataCore
import Synchronization

/// A clock that stands still until a test moves it.
public final class ManualClock: Clock {
    private let time: Mutex<Timestamp>

    public init(_ start: Timestamp = Timestamp(iso8601: "2026-01-01T00:00:00Z")!) { time = Mutex(start) }

    public func now() -> Timestamp { time.withLock { $0 } }

    public func advance(hours: Double) { time.withLock { $0 = $0.adding(seconds: hours * 3600) } }

    public func set(_ t: Timestamp) { time.withLock { $0 = t } }
}
