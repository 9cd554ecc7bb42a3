#if canImport(Glibc)
import Glibc
#endif
import CStrata
import StrataCore
import StrataPlugins

/// What one direct plugin call answered: its status and the message it left with `host->fail`
/// (nil when it did not call it).
struct RawOutcome {
    let status: Int32
    let message: String?

    var ok: Bool { status == 0 }
    var statusName: String { StrataError.Code(rawValue: status)?.cName ?? "status \(status)" }

    /// Runs a plugin call with the thread's host message cleared, and reads what it left.
    static func of(_ call: () -> Int32) -> RawOutcome {
        PluginHost.clearMessage()
        let status = call()
        return RawOutcome(status: status, message: PluginHost.takeMessage())
    }
}

/// A record as the checker sends it or a plugin gives it back: the JSON exactly as bytes.
struct RawRecord: Equatable {
    var id: String
    var json: String
    var vector: [Float]
}

/// What a callback-driven call handed back, and how the plugin honoured "stop".
final class RawCollector {
    var records: [RawRecord] = []
    var scores: [Float] = []
    var texts: [String] = []
    /// Calls made after a callback answered non-zero (the plugin should make none).
    var callsAfterStop = 0
    /// Answer non-zero once this many items were received.
    var stopAfter: Int
    var stopped = false
    var problems: [String] = []

    init(stopAfter: Int = .max) { self.stopAfter = stopAfter }

    var context: UnsafeMutableRawPointer { Unmanaged.passUnretained(self).toOpaque() }

    static func from(_ context: UnsafeMutableRawPointer?) -> RawCollector {
        Unmanaged<RawCollector>.fromOpaque(context!).takeUnretainedValue()
    }

    func take(_ record: UnsafePointer<strata_record>?, score: Float) -> Int32 {
        if stopped { callsAfterStop += 1; return 1 }
        guard let r = record?.pointee, let id = r.id, let json = r.json, let vector = r.vector else {
            problems.append("a callback received a NULL record, id, json or vector")
            stopped = true
            return 1
        }
        records.append(RawRecord(id: String(cString: id), json: String(cString: json),
                                 vector: Array(UnsafeBufferPointer(start: vector, count: r.dimension))))
        scores.append(score)
        if records.count >= stopAfter { stopped = true; return 1 }
        return 0
    }

    func takeText(_ text: UnsafePointer<CChar>?) -> Int32 {
        if stopped { callsAfterStop += 1; return 1 }
        texts.append(text.map { String(cString: $0) } ?? "<NULL>")
        if texts.count >= stopAfter { stopped = true; return 1 }
        return 0
    }
}

private let rawRecordFn: strata_record_fn = { context, record in RawCollector.from(context).take(record, score: 0) }
private let rawHitFn: strata_hit_fn = { context, record, score in RawCollector.from(context).take(record, score: score) }
private let rawTextFn: strata_history_fn = { context, text in RawCollector.from(context).takeText(text) }

/// Calls a plugin's vector-store vtable directly, with nothing checked or repaired on the way:
/// what the contract checker needs to see a plugin's own behaviour (the adapter,
/// `PluginVectorStore`, validates vectors and maps statuses before the plugin sees them).
///
/// `@unchecked Sendable`: the threads case calls one instance from many threads on purpose,
/// as the plugin's STRATA_INSTANCE_THREAD_SAFE flag promises it may.
final class RawVectorStore: @unchecked Sendable {
    let vtable: strata_vector_store_vtable
    /// The vtable's declared size: functions beyond it are treated as NULL.
    let declaredSize: Int
    let instance: UnsafeMutableRawPointer?
    let dimension: Int
    private var destroyed = false

    /// Calls create_with_host (when filled) or create with `config`, as the host does.
    static func create(_ factory: PluginFactory, config: String, dimension: Int) -> (RawOutcome, RawVectorStore?) {
        let (v, size) = RawVTable.read(factory, as: strata_vector_store_vtable.self)
        let (outcome, out) = RawVTable.create(config: config, create: v.create, createWithHost: v.create_with_host)
        guard outcome.ok else { return (outcome, nil) }
        return (outcome, RawVectorStore(vtable: v, declaredSize: size, instance: out, dimension: dimension))
    }

    private init(vtable: strata_vector_store_vtable, declaredSize: Int, instance: UnsafeMutableRawPointer?, dimension: Int) {
        self.vtable = vtable
        self.declaredSize = declaredSize
        self.instance = instance
        self.dimension = dimension
    }

    deinit { destroy() }

    func destroy() {
        guard !destroyed else { return }
        destroyed = true
        vtable.destroy?(instance)
    }

    var isThreadSafe: Bool { vtable.flags & UInt32(STRATA_INSTANCE_THREAD_SAFE) != 0 }

    /// The capability bits, or nil when `capabilities` is NULL.
    var capabilities: UInt32? { vtable.capabilities.map { $0(instance) } }

    /// Upserts `records`; `padding` extra bytes after each strata_record (a longer struct, as a
    /// newer host would pass) test that the plugin strides by struct_size.
    func upsert(_ records: [RawRecord], padding: Int = 0, dimensions: [Int]? = nil) -> RawOutcome {
        withRecords(records, padding: padding, dimensions: dimensions) { p, n in
            RawOutcome.of { vtable.upsert?(instance, p, n) ?? Int32(STRATA_ERR_UNSUPPORTED) }
        }
    }

    func remove(_ ids: [String]) -> (RawOutcome, Int) {
        let strings = ids.map { strdup($0) }
        defer { strings.forEach { free($0) } }
        var removed = 0
        let outcome = strings.map { UnsafePointer($0) }.withUnsafeBufferPointer { p in
            RawOutcome.of { vtable.remove?(instance, p.baseAddress, ids.count, &removed) ?? Int32(STRATA_ERR_UNSUPPORTED) }
        }
        return (outcome, removed)
    }

    func get(_ id: String) -> (RawOutcome, RawCollector) {
        let c = RawCollector()
        let outcome = withExtendedLifetime(c) {
            RawOutcome.of { id.withCString { vtable.get?(instance, $0, rawRecordFn, c.context) ?? Int32(STRATA_ERR_UNSUPPORTED) } }
        }
        return (outcome, c)
    }

    func search(_ query: [Float], k: Int, filter: Filter? = nil, dimension: Int? = nil, stopAfter: Int = .max)
        throws(StrataError) -> (RawOutcome, RawCollector)
    {
        let c = RawCollector(stopAfter: stopAfter)
        let outcome = try PluginHost.withFilter(filter) { f in
            withExtendedLifetime(c) {
                query.withUnsafeBufferPointer { q in
                    var request = strata_search_request(
                        struct_size: UInt32(MemoryLayout<strata_search_request>.size), query: q.baseAddress,
                        dimension: dimension ?? query.count, k: k, filter: f)
                    return RawOutcome.of { vtable.search?(instance, &request, rawHitFn, c.context) ?? Int32(STRATA_ERR_UNSUPPORTED) }
                }
            }
        }
        return (outcome, c)
    }

    func scan(filter: Filter? = nil, stopAfter: Int = .max) throws(StrataError) -> (RawOutcome, RawCollector) {
        let c = RawCollector(stopAfter: stopAfter)
        let outcome = try PluginHost.withFilter(filter) { f in
            withExtendedLifetime(c) { RawOutcome.of { vtable.scan?(instance, f, rawRecordFn, c.context) ?? Int32(STRATA_ERR_UNSUPPORTED) } }
        }
        return (outcome, c)
    }

    func count() -> (RawOutcome, Int) {
        var n: UInt64 = 0
        let outcome = RawOutcome.of { vtable.count?(instance, &n) ?? Int32(STRATA_ERR_UNSUPPORTED) }
        return (outcome, Int(n))
    }

    /// Commits upserts, removals and history rows (JSON text and memory id each).
    /// - Parameter withoutHistoryIDs: send the change as an ABI 1.4 host would, its struct
    ///   ending before `history_ids`.
    func commit(upserts: [RawRecord] = [], removals: [String] = [], history: [(json: String, id: String)] = [],
                withoutHistoryIDs: Bool = false) -> RawOutcome {
        guard let commitFunction = vtable.commit else { return RawOutcome(status: Int32(STRATA_ERR_UNSUPPORTED), message: "commit is NULL") }
        let strings = (removals + history.map(\.json) + history.map(\.id)).map { strdup($0) }
        defer { strings.forEach { free($0) } }
        let pointers = strings.map { UnsafePointer($0) }
        let removalPointers = Array(pointers[0..<removals.count])
        let historyPointers = Array(pointers[removals.count..<removals.count + history.count])
        let idPointers = Array(pointers[(removals.count + history.count)...])
        return withRecords(upserts, padding: 0, dimensions: nil) { p, n in
            removalPointers.withUnsafeBufferPointer { rp in
                historyPointers.withUnsafeBufferPointer { hp in
                    idPointers.withUnsafeBufferPointer { ip in
                        var change = strata_change(
                            struct_size: UInt32(withoutHistoryIDs ? MemoryLayout<strata_change>.offset(of: \.history_ids)! : MemoryLayout<strata_change>.size), upserts: n == 0 ? nil : p, upsert_count: n,
                            removals: rp.count == 0 ? nil : rp.baseAddress, removal_count: rp.count,
                            history: hp.count == 0 ? nil : hp.baseAddress, history_count: hp.count,
                            history_ids: ip.count == 0 || withoutHistoryIDs ? nil : ip.baseAddress)
                        return RawOutcome.of { commitFunction(instance, &change) }
                    }
                }
            }
        }
    }

    func history(_ id: String, stopAfter: Int = .max) -> (RawOutcome, RawCollector) {
        let c = RawCollector(stopAfter: stopAfter)
        guard let historyFunction = vtable.history else {
            return (RawOutcome(status: Int32(STRATA_ERR_UNSUPPORTED), message: "history is NULL"), c)
        }
        let outcome = withExtendedLifetime(c) { RawOutcome.of { id.withCString { historyFunction(instance, $0, rawTextFn, c.context) } } }
        return (outcome, c)
    }

    /// Calls history_tail (ABI 1.9): its outcome, the rows passed and the total it set (nil when
    /// it set none); nil when the function is NULL or beyond the vtable's struct_size.
    /// `nullTotal` passes out_total NULL.
    func historyTail(_ id: String, limit: Int, nullTotal: Bool = false) -> (RawOutcome, RawCollector, total: Int?)? {
        guard let tailFunction = vtable.history_tail else { return nil }
        let c = RawCollector()
        let unset = Int.max
        let total = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        defer { total.deallocate() }
        total.initialize(to: unset)
        let outcome = withExtendedLifetime(c) {
            RawOutcome.of { id.withCString { tailFunction(instance, $0, limit, rawTextFn, c.context, nullTotal ? nil : total) } }
        }
        return (outcome, c, total.pointee == unset ? nil : total.pointee)
    }

    /// Calls index_report (ABI 1.8) with a callback that counts every call; nil when the
    /// function is NULL or beyond the vtable's struct_size. `nullCallback` passes fn NULL.
    func indexReport(nullCallback: Bool = false) -> (RawOutcome, RawCollector)? {
        guard let reportFunction = vtable.index_report else { return nil }
        let c = RawCollector()
        let outcome = withExtendedLifetime(c) { RawOutcome.of { reportFunction(instance, nullCallback ? nil : rawTextFn, c.context) } }
        return (outcome, c)
    }

    /// Lays `records` out as C structs (each `padding` bytes longer than strata_record, its
    /// struct_size saying so) and runs `body` with them.
    private func withRecords<T>(_ records: [RawRecord], padding: Int, dimensions: [Int]?,
                                _ body: (UnsafePointer<strata_record>, Int) -> T) -> T {
        let stride = MemoryLayout<strata_record>.size + padding
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: max(1, records.count) * stride,
                                                      alignment: MemoryLayout<strata_record>.alignment)
        // Poison the padding so a plugin that reads it as the next record sees garbage, not zeros.
        buffer.initializeMemory(as: UInt8.self, repeating: 0xA5, count: max(1, records.count) * stride)
        var strings: [UnsafeMutablePointer<CChar>] = []
        var vectors: [UnsafeMutableBufferPointer<Float>] = []
        defer {
            strings.forEach { free($0) }
            vectors.forEach { $0.deallocate() }
            buffer.deallocate()
        }
        for (i, r) in records.enumerated() {
            let id = strdup(r.id)!, json = strdup(r.json)!
            strings += [id, json]
            let v = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(1, r.vector.count))
            _ = v.initialize(from: r.vector)
            vectors.append(v)
            let record = strata_record(struct_size: UInt32(stride), id: UnsafePointer(id), json: UnsafePointer(json),
                                       vector: UnsafePointer(v.baseAddress), dimension: dimensions?[i] ?? r.vector.count)
            buffer.advanced(by: i * stride).storeBytes(of: record, as: strata_record.self)
        }
        return body(buffer.assumingMemoryBound(to: strata_record.self), records.count)
    }
}
