#if canImport(Glibc)
import Glibc
#endif
import CStrata
import StrataCore

/// An embedder served by a plugin through `strata_embedder_vtable`.
///
/// `@unchecked Sendable`: `instance` is only used through the vtable under `lock`.
public final class PluginEmbedder: Embedder, @unchecked Sendable {
    public let dimension: Int
    public let modelID: String
    private let vtable: strata_embedder_vtable
    private let instance: UnsafeMutableRawPointer?
    private let lock: InstanceLock
    private let pluginName: String

    public init(plugin: LoadedPlugin, factory: PluginFactory, options: JSONValue) throws(StrataError) {
        let table = factory.vtable.assumingMemoryBound(to: strata_embedder_vtable.self)
        // Plugins built before ABI 1.5 end before `create_with_host`: read what they declare.
        let v = try readVTable(table, size: table.pointee.struct_size,
                               minimum: MemoryLayout<strata_embedder_vtable>.offset(of: \.create_with_host)!,
                               seam: "embedder", plugin: plugin)
        guard v.create != nil || v.create_with_host != nil, v.destroy != nil, let dim = v.dimension, let model = v.model_id, v.embed != nil else {
            throw StrataError(.plugin, "plugin \(plugin.name) (\(plugin.path)): embedder \"\(factory.name)\" leaves a required function NULL")
        }
        vtable = v
        pluginName = plugin.name
        lock = InstanceLock(flags: v.flags)
        let out = try createInstance(v.create, v.create_with_host, config: JSONWriter.string(options), plugin: plugin, factory: factory.name)
        instance = out
        dimension = dim(out)
        guard dimension >= 1, dimension <= 1 << 16 else {
            v.destroy(out)
            throw StrataError(.plugin, "plugin \(plugin.name): embedder dimension \(dimension) is outside 1...65536")
        }
        modelID = model(out).map { String(cString: $0) } ?? "plugin:\(plugin.name)/\(factory.name)"
    }

    deinit { vtable.destroy(instance) }

    public func embed(_ texts: [String]) throws(StrataError) -> [[Float]] {
        guard !texts.isEmpty else { return [] }
        let cTexts = texts.map { UnsafePointer(strdup($0)!) }
        defer { cTexts.forEach { free(UnsafeMutablePointer(mutating: $0)) } }
        var out = [Float](repeating: .nan, count: texts.count * dimension)
        let status = out.withUnsafeMutableBufferPointer { o in
            cTexts.map { Optional($0) }.withUnsafeBufferPointer { t in
                lock.run { vtable.embed(instance, t.baseAddress, texts.count, o.baseAddress) }
            }
        }
        try pluginCheck(status, pluginName, "embed")
        return (0..<texts.count).map { Array(out[$0 * dimension..<($0 + 1) * dimension]) }
    }
}
