import CStrata
import StrataCore

/// The C vtable of a Swift `Embedder` in a plugin (see `PluginExport`).
enum EmbedderExport {
    nonisolated(unsafe) static var factory: PluginExport.Factory<any Embedder>?

    /// Holds the embedder and its model id as a C string that lives as long as the instance.
    final class Instance {
        let embedder: any Embedder
        /// The embedder again when it takes C strings itself (no Strings or arrays per call).
        let direct: (any CStringEmbedder)?
        let modelID: UnsafeMutablePointer<CChar>
        init(_ e: any Embedder) {
            embedder = e
            direct = e as? any CStringEmbedder
            modelID = strdup(e.modelID)
        }
        deinit { free(modelID) }
    }

    nonisolated(unsafe) static let vtable: UnsafePointer<strata_embedder_vtable> = {
        let p = UnsafeMutablePointer<strata_embedder_vtable>.allocate(capacity: 1)
        p.initialize(to: strata_embedder_vtable(
            struct_size: UInt32(MemoryLayout<strata_embedder_vtable>.size),
            flags: UInt32(STRATA_INSTANCE_THREAD_SAFE),
            create: { config, out in
                PluginExport.run { () throws(StrataError) in
                    guard let out else { throw StrataError(.invalidArgument, "out_self is NULL") }
                    guard let factory else { throw StrataError(.internal, "no embedder factory registered") }
                    out.pointee = PluginExport.retain(Instance(try factory.make(try PluginExport.json(config, what: "config"))))
                }
            },
            destroy: { PluginExport.release($0) },
            dimension: { PluginExport.object($0, as: Instance.self).embedder.dimension },
            model_id: { UnsafePointer(PluginExport.object($0, as: Instance.self).modelID) },
            embed: { me, texts, count, out in
                PluginExport.run { () throws(StrataError) in
                    let instance = PluginExport.object(me, as: Instance.self), e = instance.embedder
                    guard count == 0 || (texts != nil && out != nil) else { throw StrataError(.invalidArgument, "texts or out is NULL") }
                    if let direct = instance.direct {
                        for i in 0..<count where texts![i] == nil { throw StrataError(.invalidArgument, "text \(i) is NULL") }
                        if count > 0 { try direct.embed(cStrings: texts!, count: count, into: out!) }
                        return
                    }
                    var list: [String] = []
                    for i in 0..<count {
                        guard let t = texts![i] else { throw StrataError(.invalidArgument, "text \(i) is NULL") }
                        list.append(String(cString: t))
                    }
                    let vectors = try e.embed(list)
                    for (i, v) in vectors.enumerated() {
                        for j in 0..<e.dimension { out![i * e.dimension + j] = v[j] }
                    }
                }
            }, create_with_host: nil))
        return UnsafePointer(p)
    }()
}

#if canImport(Glibc)
import Glibc
#endif

/// An embedder that reads the C ABI's texts and writes its vectors in place: the exported vtable
/// calls it with the caller's pointers instead of building a `[String]` and reading back a
/// `[[Float]]`, so an embed call through the C ABI need allocate nothing.
public protocol CStringEmbedder: Embedder {
    /// Embeds `count` NUL-terminated UTF-8 texts (none NULL) into `out`, count x dimension
    /// floats, row-major: the vectors `embed(_:)` gives for `String(cString:)` of each text
    /// (which reads invalid UTF-8 as U+FFFD).
    func embed(cStrings: UnsafePointer<UnsafePointer<CChar>?>, count: Int, into out: UnsafeMutablePointer<Float>) throws(StrataError)
}
