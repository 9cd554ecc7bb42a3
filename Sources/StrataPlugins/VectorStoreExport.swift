#if canImport(Glibc)
import Glibc
#endif
import CStrata
import StrataCore

/// The C vtable of a Swift `VectorStore` in a plugin (see `PluginExport`).
enum VectorStoreExport {
    nonisolated(unsafe) static var factory: PluginExport.Factory<any VectorStore>?
    /// The store's salvage (`strata doctor`, `strata salvage`), when it has one.
    nonisolated(unsafe) static var salvage: StoreSalvage?

    /// The host's callbacks for one salvage call, and whether one of them asked to stop.
    private final class SalvageCallbacks {
        let recordFn: strata_record_fn?
        let findingFn: strata_finding_fn?
        let context: UnsafeMutableRawPointer?
        var stopped = false

        init(_ recordFn: strata_record_fn?, _ findingFn: strata_finding_fn?, _ context: UnsafeMutableRawPointer?) {
            self.recordFn = recordFn
            self.findingFn = findingFn
            self.context = context
        }

        static let stop = StrataError(.internal, "salvage stopped by the host's callback")

        func record(_ r: StoredRecord) throws(StrataError) {
            guard !stopped, let fn = recordFn else { throw Self.stop }
            let context = self.context
            if emit(r, score: 0, { c, _ in fn(context, c) }) != 0 {
                stopped = true
                throw Self.stop
            }
        }

        func finding(_ f: DamageFinding) {
            guard !stopped, let fn = findingFn else { return }
            let context = self.context
            if JSONWriter.string(f.json).withCString({ fn(context, $0) }) != 0 { stopped = true }
        }
    }

    /// Calls a Swift salvage for the C `salvage` entry: findings and records out through the
    /// host's callbacks; a callback's non-zero answer stops the salvage, which still succeeds.
    private static func runSalvage(
        _ salvage: StoreSalvage, config: UnsafePointer<CChar>?, recordFn: strata_record_fn?, findingFn: strata_finding_fn?,
        context: UnsafeMutableRawPointer?
    ) throws(StrataError) {
        let callbacks = SalvageCallbacks(recordFn, findingFn, context)
        let options = try PluginExport.json(config, what: "config")
        do {
            if recordFn != nil {
                try salvage(options, callbacks.record, callbacks.finding)
            } else {
                try salvage(options, nil, callbacks.finding)
            }
        } catch {
            if !callbacks.stopped { throw error }
        }
    }

    /// Calls `fn` with a record, keeping its C strings alive for the call.
    private static func emit(_ r: StoredRecord, score: Float, _ body: (UnsafePointer<strata_record>, Float) -> Int32) -> Int32 {
        // The record JSON written straight into NUL-terminated bytes (Memory.writeJSON): no
        // dictionary, no String, no second copy for withCString.
        var json: [UInt8] = []
        json.reserveCapacity(320 + r.memory.content.utf8.count + r.memory.id.utf8.count)
        r.memory.writeJSON(into: &json)
        json.append(0)
        return r.memory.id.withCString { id in
            json.withUnsafeBufferPointer { text in
                text.withMemoryRebound(to: CChar.self) { text in
                    r.vector.withUnsafeBufferPointer { v in
                        var c = strata_record(struct_size: UInt32(MemoryLayout<strata_record>.size), id: id, json: text.baseAddress,
                                              vector: v.baseAddress, dimension: v.count)
                        return body(&c, score)
                    }
                }
            }
        }
    }

    /// Copies C records into Swift ones, checking each.
    private static func decodeRecords(_ records: UnsafePointer<strata_record>?, count: Int, dimension: Int) throws(StrataError) -> [StoredRecord] {
        guard count == 0 || records != nil else { throw StrataError(.invalidArgument, "records is NULL") }
        var out: [StoredRecord] = []
        out.reserveCapacity(count)
        // Strided by the first record's struct_size (vector_store.h, STRATA_RECORD_AT): a newer
        // host may pass longer records than this plugin knows.
        let stride = count == 0 ? 0 : Int(records!.pointee.struct_size)
        guard count == 0 || stride >= MemoryLayout<strata_record>.offset(of: \.dimension)! + MemoryLayout<Int>.size else {
            throw StrataError(.invalidArgument, "records[0].struct_size is \(stride), smaller than a strata_record")
        }
        for i in 0..<count {
            let r = UnsafeRawPointer(records!).advanced(by: i * stride).assumingMemoryBound(to: strata_record.self).pointee
            guard let json = r.json, let vector = r.vector else { throw StrataError(.invalidArgument, "record \(i) has NULL json or vector") }
            guard r.dimension == dimension else {
                throw StrataError(.dimension, "record \(i) has dimension \(r.dimension), the store's dimension is \(dimension)")
            }
            let memory = try json.withMemoryRebound(to: UInt8.self, capacity: 1) { (text) throws(StrataError) -> Memory in
                try Memory.decodeRecord(UnsafeBufferPointer(start: text, count: strlen(json)), what: "record \(i)")
            }
            out.append(StoredRecord(memory: memory, vector: Array(UnsafeBufferPointer(start: vector, count: r.dimension))))
        }
        return out
    }

    /// Copies a C change into a Swift one, checking each part.
    private static func decode(_ c: strata_change, dimension: Int) throws(StrataError) -> StoreChange {
        guard c.removal_count == 0 || c.removals != nil, c.history_count == 0 || c.history != nil else {
            throw StrataError(.invalidArgument, "change has a count with a NULL array")
        }
        var change = StoreChange(upserts: try decodeRecords(c.upserts, count: c.upsert_count, dimension: dimension))
        for i in 0..<c.removal_count {
            guard let id = c.removals[i] else { throw StrataError(.invalidArgument, "change.removals[\(i)] is NULL") }
            change.removals.append(String(cString: id))
        }
        for i in 0..<c.history_count {
            guard let text = c.history[i] else { throw StrataError(.invalidArgument, "change.history[\(i)] is NULL") }
            let what = "change.history[\(i)]"
            change.history.append(try HistoryEntry(json: try JSONParser.parse(String(cString: text), what: what), what: what))
        }
        return change
    }

    /// An ISO-8601 time from the host.
    private static func time(_ p: UnsafePointer<CChar>?, what: String) throws(StrataError) -> Timestamp {
        guard let p else { throw StrataError(.invalidArgument, "\(what) is NULL") }
        let text = String(cString: p)
        guard let t = Timestamp(iso8601: text) else { throw StrataError(.invalidArgument, "\(what) is not an ISO-8601 time: \"\(text)\"") }
        return t
    }

    nonisolated(unsafe) static let vtable: UnsafePointer<strata_vector_store_vtable> = {
        let p = UnsafeMutablePointer<strata_vector_store_vtable>.allocate(capacity: 1)
        p.initialize(to: strata_vector_store_vtable(
            struct_size: UInt32(MemoryLayout<strata_vector_store_vtable>.size),
            flags: UInt32(STRATA_INSTANCE_THREAD_SAFE),  // the VectorStore protocol requires thread safety
            create: { config, out in
                PluginExport.run { () throws(StrataError) in
                    guard let out else { throw StrataError(.invalidArgument, "out_self is NULL") }
                    guard let factory else { throw StrataError(.internal, "no vector store factory registered") }
                    out.pointee = PluginExport.retain(try factory.make(try PluginExport.json(config, what: "config")))
                }
            },
            destroy: { PluginExport.release($0) },
            upsert: { me, records, count in
                PluginExport.run { () throws(StrataError) in
                    let store = PluginExport.object(me, as: (any VectorStore).self)
                    guard count == 0 || records != nil else { throw StrataError(.invalidArgument, "records is NULL") }
                    try store.upsert(try decodeRecords(records, count: count, dimension: store.dimension))
                }
            },
            remove: { me, ids, count, removed in
                PluginExport.run { () throws(StrataError) in
                    let store = PluginExport.object(me, as: (any VectorStore).self)
                    guard let removed, count == 0 || ids != nil else { throw StrataError(.invalidArgument, "ids or out_removed is NULL") }
                    var list: [String] = []
                    for i in 0..<count {
                        guard let id = ids![i] else { throw StrataError(.invalidArgument, "ids[\(i)] is NULL") }
                        list.append(String(cString: id))
                    }
                    removed.pointee = try store.remove(ids: list)
                }
            },
            get: { me, id, fn, context in
                PluginExport.run { () throws(StrataError) in
                    let store = PluginExport.object(me, as: (any VectorStore).self)
                    guard let id, let fn else { throw StrataError(.invalidArgument, "id or callback is NULL") }
                    guard let r = try store.get(id: String(cString: id)) else {
                        throw StrataError(.notFound, "no record with id \"\(String(cString: id))\"")
                    }
                    _ = emit(r, score: 0) { c, _ in fn(context, c) }
                }
            },
            search: { me, request, fn, context in
                PluginExport.run { () throws(StrataError) in
                    let store = PluginExport.object(me, as: (any VectorStore).self)
                    guard let request, let fn, let q = request.pointee.query else { throw StrataError(.invalidArgument, "request, query or callback is NULL") }
                    guard request.pointee.dimension == store.dimension else {
                        throw StrataError(.dimension, "query has dimension \(request.pointee.dimension), the store's is \(store.dimension)")
                    }
                    let query = Array(UnsafeBufferPointer(start: q, count: request.pointee.dimension))
                    let hits = try store.search(query, k: request.pointee.k, filter: try PluginExport.filter(request.pointee.filter))
                    for h in hits where emit(h.record, score: h.score, { c, s in fn(context, c, s) }) != 0 { break }
                }
            },
            keyword_search: { me, query, k, filter, fn, context in
                PluginExport.run { () throws(StrataError) in
                    let store = PluginExport.object(me, as: (any VectorStore).self)
                    guard let query, let fn else { throw StrataError(.invalidArgument, "query or callback is NULL") }
                    let hits = try store.keywordSearch(String(cString: query), k: k, filter: try PluginExport.filter(filter))
                    for h in hits where emit(h.record, score: h.score, { c, s in fn(context, c, s) }) != 0 { break }
                }
            },
            scan: { me, filter, fn, context in
                PluginExport.run { () throws(StrataError) in
                    let store = PluginExport.object(me, as: (any VectorStore).self)
                    guard let fn else { throw StrataError(.invalidArgument, "callback is NULL") }
                    try store.scan(filter: try PluginExport.filter(filter)) { r in
                        emit(r, score: 0) { c, _ in fn(context, c) } == 0
                    }
                }
            },
            count: { me, out in
                PluginExport.run { () throws(StrataError) in
                    let store = PluginExport.object(me, as: (any VectorStore).self)
                    guard let out else { throw StrataError(.invalidArgument, "out_count is NULL") }
                    out.pointee = UInt64(try store.count())
                }
            },
            commit: { me, change in
                PluginExport.run { () throws(StrataError) in
                    let store = PluginExport.object(me, as: (any VectorStore).self)
                    guard let change else { throw StrataError(.invalidArgument, "change is NULL") }
                    try store.commit(try decode(change.pointee, dimension: store.dimension))
                }
            },
            history: { me, id, fn, context in
                PluginExport.run { () throws(StrataError) in
                    let store = PluginExport.object(me, as: (any VectorStore).self)
                    guard let id, let fn else { throw StrataError(.invalidArgument, "id or callback is NULL") }
                    for entry in try store.history(id: String(cString: id)) {
                        if JSONWriter.string(entry.json).withCString({ fn(context, $0) }) != 0 { break }
                    }
                }
            },
            capabilities: { me in
                let store = PluginExport.object(me, as: (any VectorStore).self)
                return (store.providesKeywordSearch ? UInt32(STRATA_STORE_KEYWORD_SEARCH) : 0)
                    | (store.keepsHistory ? UInt32(STRATA_STORE_HISTORY) : 0)
                    | (store.providesSnapshots ? UInt32(STRATA_STORE_SNAPSHOTS) : 0)
                    | (store.persists ? UInt32(STRATA_STORE_PERSISTENT) : 0)
            },
            snapshot: { me, name, createdAt, fn, context in
                PluginExport.run { () throws(StrataError) in
                    let store = PluginExport.object(me, as: (any VectorStore).self)
                    guard let name else { throw StrataError(.invalidArgument, "name is NULL") }
                    let info = try store.snapshot(name: String(cString: name), at: try time(createdAt, what: "created_at"))
                    if let fn { _ = JSONWriter.string(info.json).withCString { fn(context, $0) } }
                }
            },
            snapshots: { me, fn, context in
                PluginExport.run { () throws(StrataError) in
                    let store = PluginExport.object(me, as: (any VectorStore).self)
                    guard let fn else { throw StrataError(.invalidArgument, "callback is NULL") }
                    for info in try store.snapshots() where JSONWriter.string(info.json).withCString({ fn(context, $0) }) != 0 { break }
                }
            },
            rollback: { me, name, at, fn, context in
                PluginExport.run { () throws(StrataError) in
                    let store = PluginExport.object(me, as: (any VectorStore).self)
                    guard let name else { throw StrataError(.invalidArgument, "name is NULL") }
                    let report = try store.rollback(name: String(cString: name), at: try time(at, what: "at"))
                    guard let fn else { return }
                    for row in report.history where JSONWriter.string(row.json).withCString({ fn(context, $0) }) != 0 { break }
                }
            },
            delete_snapshot: { me, name in
                PluginExport.run { () throws(StrataError) in
                    let store = PluginExport.object(me, as: (any VectorStore).self)
                    guard let name else { throw StrataError(.invalidArgument, "name is NULL") }
                    try store.deleteSnapshot(name: String(cString: name))
                }
            },
            salvage: salvage == nil ? nil : { config, recordFn, findingFn, context in
                PluginExport.run { () throws(StrataError) in
                    guard let salvage else { throw StrataError(.unsupported, "no salvage registered") }
                    try runSalvage(salvage, config: config, recordFn: recordFn, findingFn: findingFn, context: context)
                }
            }, create_with_host: nil,
            index_report: { me, fn, context in
                PluginExport.run { () throws(StrataError) in
                    let store = PluginExport.object(me, as: (any VectorStore).self)
                    guard let fn else { throw StrataError(.invalidArgument, "callback is NULL") }
                    guard let report = try store.indexReport() else { return }
                    _ = JSONWriter.string(report.json).withCString { fn(context, $0) }
                }
            },
            history_tail: { me, id, limit, fn, context, outTotal in
                PluginExport.run { () throws(StrataError) in
                    let store = PluginExport.object(me, as: (any VectorStore).self)
                    guard let id, let fn, let outTotal else { throw StrataError(.invalidArgument, "id, callback or out_total is NULL") }
                    let (rows, total) = try store.historyTail(id: String(cString: id), limit: Int(clamping: limit))
                    for entry in rows where JSONWriter.string(entry.json).withCString({ fn(context, $0) }) != 0 { break }
                    outTotal.pointee = total
                }
            }))
        return UnsafePointer(p)
    }()
}
