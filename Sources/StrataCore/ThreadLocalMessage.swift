#if canImport(Glibc)
import Glibc
#endif

/// A per-thread C string slot: the mechanism behind `strata_error_last()` and the message a
/// plugin leaves with `host->fail()`. Each thread has its own malloc'ed copy, freed on
/// replacement and at thread exit.
///
/// `@unchecked Sendable`: the pthread key is immutable after init and pthread makes the slot
/// per-thread.
public final class ThreadLocalMessage: @unchecked Sendable {
    private var key = pthread_key_t()
    private static let empty: StaticString = ""

    public init() {
        let rc = pthread_key_create(&key) { pointer in free(pointer) }
        precondition(rc == 0, "pthread_key_create failed: \(rc)")
    }

    public func set(_ message: String) {
        let old = pthread_getspecific(key)
        pthread_setspecific(key, strdup(message))
        free(old)
    }

    public func clear() {
        guard let old = pthread_getspecific(key) else { return }
        pthread_setspecific(key, nil)
        free(old)
    }

    /// The message, or nil when none is set.
    public var message: String? {
        pthread_getspecific(key).map { String(cString: $0.assumingMemoryBound(to: CChar.self)) }
    }

    /// The message as a borrowed C string ("" when none), valid until the next set or clear on this thread.
    public var cString: UnsafePointer<CChar> {
        if let p = pthread_getspecific(key) { return UnsafePointer(p.assumingMemoryBound(to: CChar.self)) }
        return UnsafeRawPointer(Self.empty.utf8Start).assumingMemoryBound(to: CChar.self)
    }
}
