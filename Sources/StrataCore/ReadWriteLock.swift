#if canImport(Glibc)
import Glibc
#endif

/// Many readers or one writer, over pthread_rwlock_t.
///
/// `@unchecked Sendable`: the pthread lock is the synchronisation; it lives in
/// a heap allocation that never moves, as pthread requires.
public final class ReadWriteLock: @unchecked Sendable {
    private let lock: UnsafeMutablePointer<pthread_rwlock_t>

    public init() {
        lock = .allocate(capacity: 1)
        lock.initialize(to: pthread_rwlock_t())
        let rc = pthread_rwlock_init(lock, nil)
        precondition(rc == 0, "pthread_rwlock_init failed: \(rc)")
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
    }

    public func withReadLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    public func withWriteLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}

/// A value guarded by a `ReadWriteLock`.
///
/// `@unchecked Sendable`: every access to `value` goes through the lock.
public final class Guarded<Value>: @unchecked Sendable {
    private let lock = ReadWriteLock()
    private var value: Value

    public init(_ value: Value) { self.value = value }

    public func read<T, E: Error>(_ body: (Value) throws(E) -> T) throws(E) -> T {
        try lock.withReadLock { () throws(E) -> T in try body(value) }
    }

    public func write<T, E: Error>(_ body: (inout Value) throws(E) -> T) throws(E) -> T {
        try lock.withWriteLock { () throws(E) -> T in try body(&value) }
    }
}
