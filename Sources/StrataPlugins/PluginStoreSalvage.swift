#if canImport(Glibc)
import Glibc
#endif
import CStrata
import StrataCore

/// Calls a plugin store's `salvage` (vector_store.h, ABI 1.4): `strata doctor` and
/// `strata salvage` on stores whose files the engine cannot open.
enum PluginStoreSalvage {
    /// What one call collects: findings as they come, records handed on to the visitor.
    private final class Sink {
        let records: RecordCollector
        var findings: [DamageFinding] = []
        var error: StrataError?
        let plugin: String

        init(plugin: String, dimension: Int, visitor: ((StoredRecord) throws(StrataError) -> Void)?) {
            self.plugin = plugin
            records = RecordCollector(plugin: plugin, dimension: dimension)
            if let visitor {
                records.visitor = { (r: StoredRecord) throws(StrataError) -> Bool in try visitor(r); return true }
            }
        }
    }

    private static let recordCallback: strata_record_fn = { context, record in
        let sink = Unmanaged<Sink>.fromOpaque(context!).takeUnretainedValue()
        return sink.records.take(record, score: 0)
    }

    private static let findingCallback: strata_finding_fn = { context, json in
        let sink = Unmanaged<Sink>.fromOpaque(context!).takeUnretainedValue()
        guard let json else { return 0 }
        let what = "finding from plugin \(sink.plugin)"
        do throws(StrataError) {
            sink.findings.append(try DamageFinding(json: try JSONParser.parse(String(cString: json), what: what), what: what))
            return 0
        } catch {
            sink.error = StrataError(.backend, error.message)
            return 1
        }
    }

    /// Runs the plugin's salvage on the store `options` describe.
    /// - Parameter record: receives each readable record; nil for a check that copies nothing.
    /// - Returns: the findings, in the order the store reported them.
    /// - Throws: `.unsupported` when the plugin has no salvage (built for ABI 1.3 or older, or
    ///   a store with nothing on disk); what the plugin's salvage or `record` throws.
    static func run(
        plugin: LoadedPlugin, factory: PluginFactory, dimension: Int, options: JSONValue,
        record: ((StoredRecord) throws(StrataError) -> Void)?
    ) throws(StrataError) -> [DamageFinding] {
        let table = factory.vtable.assumingMemoryBound(to: strata_vector_store_vtable.self)
        let v = try readVTable(table, size: table.pointee.struct_size,
                               minimum: MemoryLayout<strata_vector_store_vtable>.offset(of: \.commit)!,
                               seam: "vector store", plugin: plugin)
        guard let salvage = v.salvage else {
            throw StrataError(.unsupported, "plugin \(plugin.name) (\(plugin.path)): vector store \"\(factory.name)\" offers no salvage (it needs ABI 1.4)")
        }
        let metric = options.objectValue?["metric"]?.stringValue ?? "cosine"
        // The same rule as PluginVectorStore: the plugin never sees a metric the ABI does not name.
        guard Metric(rawValue: metric) != nil else { throw StrataError(.invalidConfig, "metric must be cosine, dot or l2, got \"\(metric)\"") }
        let config = JSONWriter.string(options.setting("dimension", .number(Double(dimension))).setting("metric", .string(metric)))
        let sink = Sink(plugin: plugin.name, dimension: dimension, visitor: record)
        let status = withExtendedLifetime(sink) {
            config.withCString { c in
                salvage(c, record == nil ? nil : recordCallback, findingCallback, Unmanaged.passUnretained(sink).toOpaque())
            }
        }
        if let e = sink.records.error ?? sink.error { throw e }
        try pluginCheck(status, plugin.name, "salvage")
        return sink.findings
    }
}

extension PluginBackends {
    /// Reads the store a configuration choice names for `strata doctor` / `strata salvage`,
    /// without opening it for use and without changing its files.
    /// - Returns: the damaged parts found.
    /// - Throws: `.unsupported` for a built-in store (nothing on disk) or a plugin without
    ///   salvage; `.io` / `.corrupt` from the store when nothing can be read.
    public func salvageVectorStore(
        _ choice: BackendChoice, dimension: Int, path: String, record: ((StoredRecord) throws(StrataError) -> Void)?
    ) throws(StrataError) -> [DamageFinding] {
        guard let name = choice.plugin else {
            throw StrataError(.unsupported, "\(path): the built-in \(choice.backend) store keeps nothing on disk, so there is nothing to check or salvage")
        }
        let plugin: LoadedPlugin
        let factory: PluginFactory
        do {
            plugin = try loader.load(name)
            factory = try plugin.factory(STRATA_SEAM_VECTOR_STORE, named: choice.backend)
        } catch {
            throw error.prefixed("\(path).plugin")
        }
        return try PluginStoreSalvage.run(plugin: plugin, factory: factory, dimension: dimension, options: choice.options, record: record)
    }
}
