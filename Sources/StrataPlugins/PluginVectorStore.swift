#if canImport(Glibc)
import Glibc
#endif
import CStrata
import StrataCore

/// Collects what a plugin hands to a C callback during one call. Passed as the callback's
/// context pointer; alive for the duration of the call.
final class RecordCollector {
    var records: [ScoredRecord] = []
    var error: StrataError?
    let plugin: String
    let dimension: Int
    let limit: Int
    var visitor: ((StoredRecord) throws(StrataError) -> Bool)?

    init(plugin: String, dimension: Int, limit: Int = .max) {
        self.plugin = plugin
        self.dimension = dimension
        self.limit = limit
    }

    /// Copies one record out of C memory; a malformed record stops the call with an error.
    func take(_ r: UnsafePointer<strata_record>?, score: Float) -> Int32 {
        do {
            guard let r, let json = r.pointee.json, let vector = r.pointee.vector else {
                throw StrataError(.backend, "plugin \(plugin) returned a record with NULL json or vector")
            }
            guard r.pointee.dimension == dimension else {
                throw StrataError(.backend, "plugin \(plugin) returned a vector of dimension \(r.pointee.dimension), expected \(dimension)")
            }
            let length = strlen(json)
            let memory = try json.withMemoryRebound(to: UInt8.self, capacity: length) { (b) throws(StrataError) -> Memory in
                try Memory.decodeRecord(UnsafeBufferPointer(start: b, count: length), what: "record from plugin \(plugin)")
            }
            let record = StoredRecord(
                memory: memory,
                vector: Array(UnsafeBufferPointer(start: vector, count: dimension)))
            if let visitor {
                return try visitor(record) ? 0 : 1
            }
            records.append(ScoredRecord(record: record, score: score))
            return records.count >= limit ? 1 : 0
        } catch let e as StrataError {
            error = e
            return 1
        } catch {
            self.error = StrataError(.internal, "\(error)")
            return 1
        }
    }

    static func from(_ context: UnsafeMutableRawPointer?) -> RecordCollector {
        Unmanaged<RecordCollector>.fromOpaque(context!).takeUnretainedValue()
    }
}

/// Collects the JSON texts a plugin hands to a `strata_text_fn` during one call.
final class TextCollector {
    var texts: [String] = []
}

private let textCallback: strata_history_fn = { context, json in
    guard let json else { return 0 }
    Unmanaged<TextCollector>.fromOpaque(context!).takeUnretainedValue().texts.append(String(cString: json))
    return 0
}

/// C strings that live as long as this object: for building request structs.
final class CStrings {
    private var owned: [UnsafeMutablePointer<CChar>] = []

    func add(_ s: String) -> UnsafePointer<CChar> {
        let p = strdup(s)!
        owned.append(p)
        return UnsafePointer(p)
    }

    deinit { owned.forEach { free($0) } }
}

private let recordCallback: strata_record_fn = { context, record in
    RecordCollector.from(context).take(record, score: 0)
}

private let hitCallback: strata_hit_fn = { context, record, score in
    RecordCollector.from(context).take(record, score: score)
}

/// A vector store served by a plugin through `strata_vector_store_vtable`.
///
/// `@unchecked Sendable`: `instance` is only used through the vtable, and calls are serialised
/// by `lock` unless the plugin declares STRATA_INSTANCE_THREAD_SAFE.
public final class PluginVectorStore: VectorStore, @unchecked Sendable {
    public let dimension: Int
    public let metric: Metric
    public let name: String
    public let providesKeywordSearch: Bool
    public let keepsHistory: Bool
    public let providesSnapshots: Bool
    public let persists: Bool

    private let vtable: strata_vector_store_vtable
    private let instance: UnsafeMutableRawPointer?
    private let lock: InstanceLock
    private let pluginName: String

    /// Creates a store with the plugin's factory.
    /// - Parameter options: the backend's options; "dimension" and "metric" are set by the host.
    public init(plugin: LoadedPlugin, factory: PluginFactory, dimension: Int, options: JSONValue) throws(StrataError) {
        let table = factory.vtable.assumingMemoryBound(to: strata_vector_store_vtable.self)
        let v = try readVTable(table, size: table.pointee.struct_size,
                               minimum: MemoryLayout<strata_vector_store_vtable>.offset(of: \.commit)!,
                               seam: "vector store", plugin: plugin)
        guard v.create != nil || v.create_with_host != nil, v.destroy != nil, v.upsert != nil, v.remove != nil, v.get != nil, v.search != nil,
            v.scan != nil, v.count != nil
        else {
            throw StrataError(.plugin, "plugin \(plugin.name) (\(plugin.path)): vector store \"\(factory.name)\" leaves a required function NULL")
        }
        vtable = v
        pluginName = plugin.name
        name = "plugin:\(plugin.name)/\(factory.name)"
        self.dimension = dimension
        let metricName = options.objectValue?["metric"]?.stringValue ?? "cosine"
        guard let m = Metric(rawValue: metricName) else {
            throw StrataError(.invalidConfig, "metric must be cosine, dot or l2, got \"\(metricName)\"")
        }
        metric = m
        lock = InstanceLock(flags: v.flags)
        let config = JSONWriter.string(options.setting("dimension", .number(Double(dimension))).setting("metric", .string(m.rawValue)))
        let out = try createInstance(v.create, v.create_with_host, config: config, plugin: plugin, factory: factory.name)
        instance = out
        let declared = v.capabilities.map { $0(out) }
        providesKeywordSearch = v.keyword_search != nil
            && (declared.map { $0 & UInt32(STRATA_STORE_KEYWORD_SEARCH) != 0 } ?? true)
        let history = declared.map { $0 & UInt32(STRATA_STORE_HISTORY) != 0 } ?? (v.commit != nil && v.history != nil)
        if history && (v.commit == nil || v.history == nil) {
            v.destroy(out)
            throw StrataError(.plugin, "plugin \(plugin.name) (\(plugin.path)): vector store \"\(factory.name)\" reports history but leaves commit or history NULL")
        }
        keepsHistory = history
        // ABI 1.2 appended the snapshot functions. A vtable that ends before them (ABI 1.1 or
        // older) has none, whatever its capabilities say; one that has room for them must
        // fill the three it reports.
        let snapshotFunctions = v.snapshot != nil && v.snapshots != nil && v.rollback != nil
        let snapshotsCovered = Int(table.pointee.struct_size) > MemoryLayout<strata_vector_store_vtable>.offset(of: \.snapshot)!
        let snapshots = snapshotsCovered && (declared.map { $0 & UInt32(STRATA_STORE_SNAPSHOTS) != 0 } ?? snapshotFunctions)
        if snapshots && !snapshotFunctions {
            v.destroy(out)
            throw StrataError(.plugin, "plugin \(plugin.name) (\(plugin.path)): vector store \"\(factory.name)\" reports snapshots but leaves snapshot, snapshots or rollback NULL")
        }
        providesSnapshots = snapshots
        persists = declared.map { $0 & UInt32(STRATA_STORE_PERSISTENT) != 0 } ?? false
    }

    deinit { vtable.destroy(instance) }

    private func locked<T>(_ body: () -> T) -> T { lock.run(body) }

    /// Runs a callback-driven plugin call and returns what the callback collected.
    private func collect(limit: Int = .max, visitor: ((StoredRecord) throws(StrataError) -> Bool)? = nil, _ operation: String,
                         _ call: (UnsafeMutableRawPointer) -> Int32) throws(StrataError) -> [ScoredRecord] {
        let box = RecordCollector(plugin: pluginName, dimension: dimension, limit: limit)
        box.visitor = visitor
        let status = withExtendedLifetime(box) { call(Unmanaged.passUnretained(box).toOpaque()) }
        if let error = box.error { throw error }
        try pluginCheck(status, pluginName, operation)
        return box.records
    }

    public func upsert(_ records: [StoredRecord]) throws(StrataError) {
        guard !records.isEmpty else { return }
        for (i, r) in records.enumerated() {
            try Vectors.validate(r.vector, dimension: dimension, what: "record \(i) (\(r.memory.id))")
        }
        let ids = records.map { strdup($0.memory.id)! }
        let jsons = records.map { strdup($0.memory.jsonText)! }
        defer { ids.forEach { free($0) }; jsons.forEach { free($0) } }
        let flat = records.flatMap(\.vector)
        let status = flat.withUnsafeBufferPointer { vp in
            let cRecords = (0..<records.count).map { i in
                strata_record(struct_size: UInt32(MemoryLayout<strata_record>.size), id: UnsafePointer(ids[i]),
                              json: UnsafePointer(jsons[i]), vector: vp.baseAddress! + i * dimension, dimension: dimension)
            }
            return locked { cRecords.withUnsafeBufferPointer { vtable.upsert(instance, $0.baseAddress, records.count) } }
        }
        try pluginCheck(status, pluginName, "upsert")
    }

    public func commit(_ change: StoreChange) throws(StrataError) {
        guard let commitFunction = vtable.commit else {
            if !change.upserts.isEmpty { try upsert(change.upserts) }
            if !change.removals.isEmpty { _ = try remove(ids: change.removals) }
            return
        }
        guard !change.isEmpty else { return }
        for (i, r) in change.upserts.enumerated() {
            try Vectors.validate(r.vector, dimension: dimension, what: "record \(i) (\(r.memory.id))")
        }
        let strings = CStrings()
        let ids = change.upserts.map { strings.add($0.memory.id) }
        let jsons = change.upserts.map { strings.add($0.memory.jsonText) }
        let removals: [UnsafePointer<CChar>?] = change.removals.map { strings.add($0) }
        let history: [UnsafePointer<CChar>?] = keepsHistory ? change.history.map { strings.add(JSONWriter.string($0.json)) } : []
        let historyIDs: [UnsafePointer<CChar>?] = keepsHistory ? change.history.map { strings.add($0.memoryID) } : []
        let flat = change.upserts.flatMap(\.vector)
        let status = withExtendedLifetime(strings) {
            flat.withUnsafeBufferPointer { vp in
                let records = (0..<change.upserts.count).map { i in
                    strata_record(struct_size: UInt32(MemoryLayout<strata_record>.size), id: ids[i], json: jsons[i],
                                  vector: vp.baseAddress! + i * dimension, dimension: dimension)
                }
                return records.withUnsafeBufferPointer { rp in
                    removals.withUnsafeBufferPointer { remp in
                        history.withUnsafeBufferPointer { hp in
                            historyIDs.withUnsafeBufferPointer { ip in
                                var c = strata_change(
                                    struct_size: UInt32(MemoryLayout<strata_change>.size), upserts: rp.baseAddress,
                                    upsert_count: rp.count, removals: remp.baseAddress, removal_count: remp.count,
                                    history: hp.baseAddress, history_count: hp.count, history_ids: ip.baseAddress)
                                return locked { commitFunction(instance, &c) }
                            }
                        }
                    }
                }
            }
        }
        try pluginCheck(status, pluginName, "commit")
    }

    public func history(id: String) throws(StrataError) -> [HistoryEntry] {
        guard keepsHistory, let historyFunction = vtable.history else {
            throw StrataError(.unsupported, "\(name) keeps no history")
        }
        let box = TextCollector()
        let status = withExtendedLifetime(box) {
            locked { id.withCString { historyFunction(instance, $0, textCallback, Unmanaged.passUnretained(box).toOpaque()) } }
        }
        try pluginCheck(status, pluginName, "history \(id)")
        return try historyRows(box.texts, of: id)
    }

    /// Calls `strata_vector_store_vtable.history_tail` (ABI 1.9); a plugin whose vtable ends
    /// before it, or leaves it NULL, has its whole history read and the tail kept.
    /// - Throws: `.backend` naming the plugin when it passes more rows than asked, or says the
    ///   memory has fewer rows than it passed.
    public func historyTail(id: String, limit: Int) throws(StrataError) -> (rows: [HistoryEntry], total: Int) {
        guard keepsHistory, vtable.history != nil else { throw StrataError(.unsupported, "\(name) keeps no history") }
        // readVTable zeroed what the plugin's struct_size does not cover.
        guard let tailFunction = vtable.history_tail else {
            let rows = try history(id: id)
            return (Array(rows.suffix(max(0, limit))), rows.count)
        }
        let box = TextCollector()
        var total = 0
        let status = withExtendedLifetime(box) {
            locked {
                id.withCString { tailFunction(instance, $0, max(0, limit), textCallback, Unmanaged.passUnretained(box).toOpaque(), &total) }
            }
        }
        try pluginCheck(status, pluginName, "history_tail \(id)")
        guard box.texts.count <= max(0, limit), box.texts.count <= total else {
            throw StrataError(.backend, "plugin \(pluginName): history_tail of \(id) passed \(box.texts.count) rows for a limit of \(limit) "
                + "and a total of \(total)")
        }
        return (try historyRows(box.texts, of: id), total)
    }

    /// History rows as a plugin passed them, decoded; `.backend` naming the row and the plugin.
    private func historyRows(_ texts: [String], of id: String) throws(StrataError) -> [HistoryEntry] {
        var out: [HistoryEntry] = []
        for (i, text) in texts.enumerated() {
            let what = "history row \(i) of \(id) from plugin \(pluginName)"
            do {
                out.append(try HistoryEntry(json: try JSONParser.parse(text, what: what), what: what))
            } catch {
                throw StrataError(.backend, error.message)
            }
        }
        return out
    }

    // MARK: - Snapshots (ABI 1.2)

    /// Calls `strata_vector_store_vtable.snapshot` and decodes the description it hands back.
    public func snapshot(name: String, at: Timestamp) throws(StrataError) -> SnapshotInfo {
        try SnapshotName.validate(name)
        guard providesSnapshots, let snapshotFunction = vtable.snapshot else { throw noSnapshots }
        let texts = try collectTexts("snapshot \(name)") { fn, context in
            name.withCString { n in at.iso8601.withCString { a in snapshotFunction(instance, n, a, fn, context) } }
        }
        if let text = texts.first { return try decodeSnapshot(text) }
        // The callback is optional for the plugin: find the new snapshot in the list instead.
        guard let info = try snapshots().first(where: { $0.name == name }) else {
            throw StrataError(.backend, "plugin \(pluginName): snapshot \(name) succeeded, but snapshots does not list it")
        }
        return info
    }

    /// Calls `strata_vector_store_vtable.snapshots`; oldest first.
    public func snapshots() throws(StrataError) -> [SnapshotInfo] {
        guard providesSnapshots, let snapshotsFunction = vtable.snapshots else { throw noSnapshots }
        var out: [SnapshotInfo] = []
        for text in try collectTexts("snapshots", { fn, context in snapshotsFunction(instance, fn, context) }) {
            out.append(try decodeSnapshot(text))
        }
        return out.sorted { ($0.createdAt, $0.name) < ($1.createdAt, $1.name) }
    }

    /// Calls `strata_vector_store_vtable.rollback` and decodes the history rows it hands back.
    public func rollback(name: String, at: Timestamp) throws(StrataError) -> RollbackReport {
        try SnapshotName.validate(name)
        guard providesSnapshots, let rollbackFunction = vtable.rollback else { throw noSnapshots }
        let texts = try collectTexts("rollback to \(name)") { fn, context in
            name.withCString { n in at.iso8601.withCString { a in rollbackFunction(instance, n, a, fn, context) } }
        }
        var rows: [HistoryEntry] = []
        for (i, text) in texts.enumerated() {
            let what = "rollback row \(i) from plugin \(pluginName)"
            do {
                rows.append(try HistoryEntry(json: try JSONParser.parse(text, what: what), what: what))
            } catch {
                throw StrataError(.backend, "\(error.message) (the rollback to \(name) was made)")
            }
        }
        return RollbackReport(snapshot: name, history: rows)
    }

    /// Calls `strata_vector_store_vtable.delete_snapshot`.
    public func deleteSnapshot(name: String) throws(StrataError) {
        try SnapshotName.validate(name)
        guard providesSnapshots else { throw noSnapshots }
        guard let deleteFunction = vtable.delete_snapshot else {
            throw StrataError(.unsupported, "\(self.name) cannot delete snapshots (its delete_snapshot is NULL)")
        }
        try pluginCheck(locked { name.withCString { deleteFunction(instance, $0) } }, pluginName, "delete snapshot \(name)")
    }

    /// Runs a plugin call that hands back JSON texts through a `strata_snapshot_fn` or
    /// `strata_history_fn` (one C type), and returns them.
    private func collectTexts(_ operation: String, _ call: (strata_snapshot_fn, UnsafeMutableRawPointer) -> Int32) throws(StrataError) -> [String] {
        let box = TextCollector()
        let status = withExtendedLifetime(box) { locked { call(textCallback, Unmanaged.passUnretained(box).toOpaque()) } }
        try pluginCheck(status, pluginName, operation)
        return box.texts
    }

    private func decodeSnapshot(_ text: String) throws(StrataError) -> SnapshotInfo {
        let what = "snapshot description from plugin \(pluginName)"
        do {
            return try SnapshotInfo(json: try JSONParser.parse(text, what: what), what: what)
        } catch {
            throw StrataError(.backend, error.message)
        }
    }

    // MARK: - Index report (ABI 1.8)

    /// Calls `strata_vector_store_vtable.index_report` and decodes the report; nil when the
    /// plugin's vtable ends before it (ABI 1.7 or older), leaves it NULL, or calls back nothing.
    /// - Throws: `.backend` naming the plugin when it calls back more than once or hands back
    ///   JSON that is not a report (the key named); the plugin's own failure otherwise.
    public func indexReport() throws(StrataError) -> IndexReport? {
        // readVTable zeroed what the plugin's struct_size does not cover: a shorter vtable
        // reads as NULL here.
        guard let reportFunction = vtable.index_report else { return nil }
        let texts = try collectTexts("index report") { fn, context in reportFunction(instance, fn, context) }
        guard texts.count <= 1 else {
            throw StrataError(.backend, "plugin \(pluginName): index_report called its callback \(texts.count) times, at most once is allowed")
        }
        guard let text = texts.first else { return nil }
        let what = "index report from plugin \(pluginName)"
        do {
            return try IndexReport(json: try JSONParser.parse(text, what: what), what: what)
        } catch {
            throw StrataError(.backend, error.message)
        }
    }

    public func remove(ids: [String]) throws(StrataError) -> Int {
        guard !ids.isEmpty else { return 0 }
        let cIDs = ids.map { UnsafePointer(strdup($0)!) }
        defer { cIDs.forEach { free(UnsafeMutablePointer(mutating: $0)) } }
        var removed = 0
        let status = locked { cIDs.map { Optional($0) }.withUnsafeBufferPointer { vtable.remove(instance, $0.baseAddress, ids.count, &removed) } }
        try pluginCheck(status, pluginName, "remove")
        return removed
    }

    public func get(id: String) throws(StrataError) -> StoredRecord? {
        let box = RecordCollector(plugin: pluginName, dimension: dimension)
        let status = withExtendedLifetime(box) {
            locked { id.withCString { vtable.get(instance, $0, recordCallback, Unmanaged.passUnretained(box).toOpaque()) } }
        }
        if status == Int32(STRATA_ERR_NOT_FOUND) { pluginFailure.clear(); return nil }
        if let error = box.error { throw error }
        try pluginCheck(status, pluginName, "get \(id)")
        return box.records.first?.record
    }

    public func search(_ query: [Float], k: Int, filter: Filter?) throws(StrataError) -> [ScoredRecord] {
        try Vectors.validate(query, dimension: dimension, what: "query vector")
        guard k > 0 else { return [] }
        return try HostFilter.with(filter) { (f) throws(StrataError) -> [ScoredRecord] in
            try collect(limit: k, "search") { ctx in
                query.withUnsafeBufferPointer { q in
                    var request = strata_search_request(
                        struct_size: UInt32(MemoryLayout<strata_search_request>.size), query: q.baseAddress,
                        dimension: dimension, k: k, filter: f)
                    return locked { vtable.search(instance, &request, hitCallback, ctx) }
                }
            }
        }
    }

    public func keywordSearch(_ query: String, k: Int, filter: Filter?) throws(StrataError) -> [ScoredRecord] {
        guard let keyword = vtable.keyword_search else { throw StrataError(.unsupported, "\(name) has no keyword search") }
        guard k > 0 else { return [] }
        return try HostFilter.with(filter) { (f) throws(StrataError) -> [ScoredRecord] in
            try collect(limit: k, "keyword search") { ctx in
                query.withCString { q in locked { keyword(instance, q, k, f, hitCallback, ctx) } }
            }
        }
    }

    public func scan(filter: Filter?, _ body: (StoredRecord) throws(StrataError) -> Bool) throws(StrataError) {
        // Collect first, then call back outside the plugin call: the body may use the store.
        let all = try HostFilter.with(filter) { (f) throws(StrataError) -> [ScoredRecord] in
            try collect("scan") { ctx in locked { vtable.scan(instance, f, recordCallback, ctx) } }
        }
        for r in all where try !body(r.record) { return }
    }

    public func count() throws(StrataError) -> Int {
        var n: UInt64 = 0
        try pluginCheck(locked { vtable.count(instance, &n) }, pluginName, "count")
        return Int(n)
    }
}
