#if canImport(Glibc)
import Glibc
#endif
import StrataBackends
import StrataCore
import Synchronization

/// A mapped store's rows, loaded into its in-process index on a thread of their own.
///
/// A mapped store (SQLiteMappedIndex.swift) that keeps searching soon reads more rows by id
/// than loading them costs, and then it loads them. Loading 100k rows takes one to two
/// seconds. Done under the store's lock, as it was, that load held every search of the process
/// for as long: right after a restart, a server's recalls at 16 connections waited up to 1.4 to
/// 1.7 s (bench/server_restart.py).
///
/// So the load runs here instead, with a connection of its own and in one read transaction,
/// while searches go on answering from the mapping. It first reads the mapping's vector rows
/// in, in long reads, so those searches stop reading rows one at a time. The first search
/// after it has finished takes the index in, and catches up with what was committed after the
/// load's snapshot, as any sync does (`SQLiteVectorStore.adopt`).
///
/// Nothing else touches the in-process index while the store is mapped: every read asks the
/// mapping, and every write either goes straight to the file or needs the rows. So this thread
/// fills the index without the store's lock. What needs the rows at once (a write the image
/// cannot take, a damaged image row, a rollback) waits for this thread and uses its rows.
/// Closing the store cancels the load and waits for the thread, so no thread outlives the
/// plugin's code.
final class SQLiteRowLoad: @unchecked Sendable {
    /// How a load ended.
    enum Outcome: Sendable {
        /// The rows as of sequence number `seq` are in the index; `line` is what restoring the
        /// graph file reported (see `InMemoryVectorStore.endRestore`), if anything.
        case loaded(seq: Int64, line: String?)
        /// Nothing usable was loaded: a damaged row, an I/O error, or `cancel()`.
        case failed(StrataError)
    }

    /// What the thread needs: no reference to the store, whose close must not wait for it.
    struct Work: Sendable {
        let path: String
        let mode: SQLiteConnection.OpenMode
        let busyTimeoutMilliseconds: Int32
        let dimension: Int
        let index: InMemoryVectorStore
        let graphPath: String
        /// The mapping searches use meanwhile: its vector rows are read in first, in long reads.
        let mapped: MappedVectorIndex
    }

    private let work: Work
    // pthread locks (`Guarded`), which ThreadSanitizer sees (scripts/sanitize-tsan.supp).
    private let outcome = Guarded<Outcome?>(nil)
    private let cancelled = Atomic<Bool>(false)
    /// The running thread until `wait` joins it.
    private let thread = Guarded<pthread_t?>(nil)

    /// Starts the load on a new thread.
    init(_ work: Work) {
        self.work = work
        let retained = Unmanaged.passRetained(self).toOpaque()
        var id = pthread_t()
        let rc = pthread_create(&id, nil, { arg in
            let load = Unmanaged<SQLiteRowLoad>.fromOpaque(arg!).takeRetainedValue()
            let result = load.run()
            load.outcome.write { $0 = result }
            return nil
        }, retained)
        if rc == 0 {
            thread.write { $0 = id }
        } else {
            Unmanaged<SQLiteRowLoad>.fromOpaque(retained).release()
            outcome.write { $0 = .failed(StrataError(.io, "sqlite store \"\(work.path)\": could not start a thread to load the rows (pthread_create: \(rc))")) }
        }
    }

    /// How the load ended, or nil while it runs.
    var finished: Outcome? { outcome.read { $0 } }

    /// Waits for the thread and returns how the load ended. The join runs under `thread`'s
    /// lock, which the thread never takes: a second caller waits for the first one's join.
    func wait() -> Outcome {
        thread.write { t in
            guard let id = t else { return }
            pthread_join(id, nil)
            t = nil
        }
        return outcome.read { $0! }
    }

    /// Asks the thread to stop at its next batch of rows (it then ends `.failed`).
    func cancel() { cancelled.store(true, ordering: .relaxed) }

    /// Rows decoded between two looks at `cancelled`.
    private static let batch = 4096

    private func run() -> Outcome {
        // First the mapping's vectors (about 0.1 s for 100k x 384 from the page cache), so the
        // searches answered from it while the rows load stop reading rows one by one: right
        // after a restart those reads held a server at 190 recalls a second, p50 76 ms.
        work.mapped.readAllRows { cancelled.load(ordering: .relaxed) }
        do throws(StrataError) {
            let db = try SQLiteConnection(path: work.path, busyTimeoutMilliseconds: work.busyTimeoutMilliseconds, mode: work.mode)
            work.index.beginRestore(graphFile: work.graphPath)
            let (seq, upserts) = try db.transaction(immediate: false) { () throws(StrataError) -> (Int64, [StoredRecord]) in
                let seq = try SQLiteVectorStore.currentSeq(db)
                var count = 0
                let rows = try SQLiteVectorStore.rows(after: 0, db, dimension: work.dimension) { () throws(StrataError) in
                    count += 1
                    guard count % Self.batch != 0 || !cancelled.load(ordering: .relaxed) else {
                        throw StrataError(.backend, "sqlite store \"\(work.path)\": the load of its rows was cancelled")
                    }
                }
                return (seq, rows)
            }
            try work.index.commit(StoreChange(upserts: upserts))
            guard !cancelled.load(ordering: .relaxed) else {
                throw StrataError(.backend, "sqlite store \"\(work.path)\": the load of its rows was cancelled")
            }
            return .loaded(seq: seq, line: work.index.endRestore(graphFile: work.graphPath))
        } catch {
            return .failed(error)
        }
    }
}
