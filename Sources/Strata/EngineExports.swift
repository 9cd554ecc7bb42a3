import CStrata
import StrataCore
import StrataEngine
import StrataPlugins
import StrataWire

/// What a `strata_engine *` points to: a retained box around the Swift engine.
final class EngineHandle: Sendable {
    let engine: Engine
    init(_ engine: Engine) { self.engine = engine }

    static func from(_ pointer: OpaquePointer?) throws(StrataError) -> Engine {
        guard let pointer else { throw StrataError(.invalidArgument, "engine is NULL") }
        return Unmanaged<EngineHandle>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue().engine
    }
}

@implementation @c public func strata_engine_open(
    _ out: UnsafeMutablePointer<OpaquePointer?>!, _ config_json: UnsafePointer<CChar>!
) -> strata_status {
    out?.pointee = nil
    return cCall { () throws(StrataError) in
        guard let out else { throw StrataError(.invalidArgument, "out is NULL") }
        let text = try cString(config_json, what: "config") ?? ""
        let configuration = try EngineConfiguration(text: text, source: "config")
        let engine = try Engine(configuration: configuration, backends: PluginBackends(pluginDirectories: configuration.pluginDirectories))
        out.pointee = OpaquePointer(Unmanaged.passRetained(EngineHandle(engine)).toOpaque())
    }
}

@implementation @c public func strata_engine_open_file(
    _ out: UnsafeMutablePointer<OpaquePointer?>!, _ config_path: UnsafePointer<CChar>!
) -> strata_status {
    out?.pointee = nil
    return cCall { () throws(StrataError) in
        guard let out else { throw StrataError(.invalidArgument, "out is NULL") }
        guard let path = try cString(config_path, what: "config_path"), !path.isEmpty else {
            throw StrataError(.invalidArgument, "config_path is NULL or empty")
        }
        let configuration = try EngineConfiguration(contentsOfFile: path)
        // As the CLI's store folders (git's safe.directory): a file another user owns or others
        // can write could name any plugin or file; it is refused before anything it names opens.
        for checked in [PluginTrust.folderOf(path), path] {
            if let why = PluginTrust.unsafeOwnership(checked) {
                throw StrataError(.invalidConfig, "refusing the configuration file \(path): \(why); make it yours and private (chown, chmod go-w) if you trust it")
            }
        }
        // The file's plugin_dirs and plugin paths count only where they are trusted folders already.
        let backends = PluginBackends(pluginDirectories: configuration.pluginDirectories, configurationFile: path)
        let engine = try Engine(configuration: configuration, backends: backends)
        out.pointee = OpaquePointer(Unmanaged.passRetained(EngineHandle(engine)).toOpaque())
    }
}

@implementation @c public func strata_engine_close(_ engine: OpaquePointer!) {
    guard let engine else { return }
    Unmanaged<EngineHandle>.fromOpaque(UnsafeRawPointer(engine)).release()
}

/// One JSON verb: parse the request, run it, hand back the answer as a malloc'ed string.
private func jsonVerb(
    _ engine: OpaquePointer?, _ request: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    what: String, _ verb: (Engine, JSONValue) throws(StrataError) -> JSONValue
) -> strata_status {
    out?.pointee = nil
    return cCall { () throws(StrataError) in
        guard let out else { throw StrataError(.invalidArgument, "out_json is NULL") }
        let e = try EngineHandle.from(engine)
        let answer = try verb(e, try cJSON(request, what: what))
        out.pointee = mallocString(Wire.text(answer))
    }
}

/// One verb whose answer is written as JSON text directly (recall: see `RecallAnswerWriter`).
private func textVerb(
    _ engine: OpaquePointer?, _ request: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?,
    what: String, _ verb: (Engine, JSONValue) throws(StrataError) -> [UInt8]
) -> strata_status {
    out?.pointee = nil
    return cCall { () throws(StrataError) in
        guard let out else { throw StrataError(.invalidArgument, "out_json is NULL") }
        let e = try EngineHandle.from(engine)
        out.pointee = mallocString(bytes: try verb(e, try cJSON(request, what: what)))
    }
}

@implementation @c public func strata_engine_store(
    _ engine: OpaquePointer!, _ request_json: UnsafePointer<CChar>!, _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!
) -> strata_status {
    jsonVerb(engine, request_json, out_json, what: "store request") { (e, r) throws(StrataError) in try e.storeJSON(r) }
}

@implementation @c public func strata_engine_recall(
    _ engine: OpaquePointer!, _ request_json: UnsafePointer<CChar>!, _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!
) -> strata_status {
    textVerb(engine, request_json, out_json, what: "recall request") { (e, r) throws(StrataError) in try e.recallAnswerText(r) }
}

@implementation @c public func strata_engine_get(
    _ engine: OpaquePointer!, _ request_json: UnsafePointer<CChar>!, _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!
) -> strata_status {
    jsonVerb(engine, request_json, out_json, what: "get request") { (e, r) throws(StrataError) in try e.getJSON(r) }
}

@implementation @c public func strata_engine_list(
    _ engine: OpaquePointer!, _ request_json: UnsafePointer<CChar>!, _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!
) -> strata_status {
    jsonVerb(engine, request_json, out_json, what: "list request") { (e, r) throws(StrataError) in try e.listJSON(r) }
}

@implementation @c public func strata_engine_update(
    _ engine: OpaquePointer!, _ request_json: UnsafePointer<CChar>!, _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!
) -> strata_status {
    jsonVerb(engine, request_json, out_json, what: "update request") { (e, r) throws(StrataError) in try e.updateJSON(r) }
}

@implementation @c public func strata_engine_forget(
    _ engine: OpaquePointer!, _ request_json: UnsafePointer<CChar>!, _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!
) -> strata_status {
    jsonVerb(engine, request_json, out_json, what: "forget request") { (e, r) throws(StrataError) in try e.forgetJSON(r) }
}

@implementation @c public func strata_engine_history(
    _ engine: OpaquePointer!, _ request_json: UnsafePointer<CChar>!, _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!
) -> strata_status {
    jsonVerb(engine, request_json, out_json, what: "history request") { (e, r) throws(StrataError) in try e.historyJSON(r) }
}

@implementation @c public func strata_engine_stats(
    _ engine: OpaquePointer!, _ request_json: UnsafePointer<CChar>!, _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!
) -> strata_status {
    jsonVerb(engine, request_json, out_json, what: "stats request") { (e, r) throws(StrataError) in try e.statsJSON(r) }
}

@implementation @c public func strata_engine_metabolize(
    _ engine: OpaquePointer!, _ request_json: UnsafePointer<CChar>!, _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!
) -> strata_status {
    jsonVerb(engine, request_json, out_json, what: "metabolize request") { (e, r) throws(StrataError) in try e.metabolizeJSON(r) }
}

@implementation @c public func strata_engine_snapshot(
    _ engine: OpaquePointer!, _ request_json: UnsafePointer<CChar>!, _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!
) -> strata_status {
    jsonVerb(engine, request_json, out_json, what: "snapshot request") { (e, r) throws(StrataError) in try e.snapshotJSON(r) }
}

@implementation @c public func strata_engine_snapshots(
    _ engine: OpaquePointer!, _ request_json: UnsafePointer<CChar>!, _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!
) -> strata_status {
    jsonVerb(engine, request_json, out_json, what: "snapshots request") { (e, r) throws(StrataError) in try e.snapshotsJSON(r) }
}

@implementation @c public func strata_engine_rollback(
    _ engine: OpaquePointer!, _ request_json: UnsafePointer<CChar>!, _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!
) -> strata_status {
    jsonVerb(engine, request_json, out_json, what: "rollback request") { (e, r) throws(StrataError) in try e.rollbackJSON(r) }
}

@implementation @c public func strata_engine_delete_snapshot(
    _ engine: OpaquePointer!, _ request_json: UnsafePointer<CChar>!, _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!
) -> strata_status {
    jsonVerb(engine, request_json, out_json, what: "delete snapshot request") { (e, r) throws(StrataError) in try e.deleteSnapshotJSON(r) }
}

@implementation @c public func strata_engine_anomalies(
    _ engine: OpaquePointer!, _ request_json: UnsafePointer<CChar>!, _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!
) -> strata_status {
    jsonVerb(engine, request_json, out_json, what: "anomalies request") { (e, r) throws(StrataError) in try e.anomaliesJSON(r) }
}

/// Copies `count` rows of `dimension` floats, checking the sizes before touching memory: a bad
/// size from C must be an error, never a trap that kills the host.
private func vectors(_ p: UnsafePointer<Float>?, count: Int, dimension: Int, engineDimension: Int) throws(StrataError) -> [[Float]] {
    guard let p else { throw StrataError(.invalidArgument, "vectors is NULL") }
    guard count >= 1, count <= 1 << 26 else { throw StrataError(.invalidArgument, "count must be in 1...\(1 << 26), got \(count)") }
    guard dimension == engineDimension else {
        throw StrataError(.dimension, "vectors have dimension \(dimension), the engine's dimension is \(engineDimension)")
    }
    return (0..<count).map { i in Array(UnsafeBufferPointer(start: p + i * dimension, count: dimension)) }
}

@implementation @c public func strata_engine_store_vectors(
    _ engine: OpaquePointer!, _ request_json: UnsafePointer<CChar>!, _ vectors_: UnsafePointer<Float>!, _ count: Int,
    _ dimension: Int, _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!
) -> strata_status {
    textVerb(engine, nil, out_json, what: "store request") { (e, _) throws(StrataError) in
        let rows = try vectors(vectors_, count: count, dimension: dimension, engineDimension: e.dimension)
        let request = try cJSON(request_json, what: "store request")
        if request_json == nil || request == .object([:]) { return try e.storeVectorsAnswerText(rows) }
        guard let items = request.objectValue?["items"]?.arrayValue else {
            throw StrataError(.invalidJSON, "store request for vectors must be {\"items\": [...]}")
        }
        guard items.count == count else {
            throw StrataError(.invalidArgument, "store request has \(items.count) items but count is \(count)")
        }
        return Array(Wire.text(try e.storeJSON(request, vectors: rows)).utf8)
    }
}

@implementation @c public func strata_engine_recall_vector(
    _ engine: OpaquePointer!, _ request_json: UnsafePointer<CChar>!, _ query: UnsafePointer<Float>!, _ dimension: Int,
    _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!
) -> strata_status {
    textVerb(engine, request_json, out_json, what: "recall request") { (e, r) throws(StrataError) in
        let q = try vectors(query, count: 1, dimension: dimension, engineDimension: e.dimension)[0]
        return try e.recallAnswerText(r, vector: q)
    }
}

/// A C callback and its user data. `@unchecked Sendable`: the header makes the caller
/// responsible for the callback being callable from any thread and user_data staying alive.
private struct CEventCallback: @unchecked Sendable {
    let function: strata_event_fn
    let userData: UnsafeMutableRawPointer?
}

@implementation @c public func strata_engine_subscribe(
    _ engine: OpaquePointer!, _ callback: strata_event_fn!, _ user_data: UnsafeMutableRawPointer!,
    _ out_subscription: UnsafeMutablePointer<UInt64>!
) -> strata_status {
    cCall { () throws(StrataError) in
        let e = try EngineHandle.from(engine)
        guard let callback else { throw StrataError(.invalidArgument, "callback is NULL") }
        guard let out_subscription else { throw StrataError(.invalidArgument, "out_subscription is NULL") }
        let c = CEventCallback(function: callback, userData: user_data)
        out_subscription.pointee = e.subscribe { event in
            Wire.text(Answer.event(event)).withCString { c.function(c.userData, $0) }
        }
    }
}

@implementation @c public func strata_engine_unsubscribe(_ engine: OpaquePointer!, _ subscription: UInt64) -> strata_status {
    cCall { () throws(StrataError) in
        let e = try EngineHandle.from(engine)
        guard e.unsubscribe(subscription) else { throw StrataError(.notFound, "no subscription \(subscription)") }
    }
}
