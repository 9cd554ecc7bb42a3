#if canImport(Glibc)
import Glibc
#endif
import CStrata
import StrataCore

/// Builds the descriptor a Swift plugin returns from `strata_plugin_entry`, with vtables that
/// forward to Swift implementations of the seam protocols: Swift plugins are as easy to write
/// as C ones.
///
///     @c public func strata_plugin_entry(_ host: UnsafePointer<strata_host_api>?)
///         -> UnsafePointer<strata_plugin_descriptor>? {
///         PluginExport.descriptor(host: host, name: "memory", version: "1.0.0",
///                                 vectorStore: .init(name: "memory") { options throws(StrataError) in ... })
///     }
///
/// A plugin image provides at most one backend per seam: C function pointers cannot capture,
/// so each seam's factory lives in a global of the plugin's own copy of this module.
public enum PluginExport {
    /// The host table handed to `strata_plugin_entry`, kept for `fail` and the filter functions.
    nonisolated(unsafe) static var host: UnsafePointer<strata_host_api>?
    nonisolated(unsafe) private static var built: UnsafePointer<strata_plugin_descriptor>?

    /// A named factory for one seam.
    public struct Factory<Made>: Sendable {
        public let name: String
        public let make: @Sendable (JSONValue) throws(StrataError) -> Made
        public init(name: String, make: @escaping @Sendable (JSONValue) throws(StrataError) -> Made) {
            self.name = name
            self.make = make
        }
    }

    /// The descriptor, built on the first call and returned as is afterwards. Returns NULL when the
    /// host's ABI major differs, so an old host never calls vtables laid out for another major.
    public static func descriptor(
        host: UnsafePointer<strata_host_api>?, name: String, version: String, description: String,
        vectorStore: Factory<any VectorStore>? = nil, salvage: StoreSalvage? = nil, embedder: Factory<any Embedder>? = nil,
        summarizer: Factory<any Summarizer>? = nil, memoryKernel: Factory<any MemoryKernel>? = nil
    ) -> UnsafePointer<strata_plugin_descriptor>? {
        if let built { return built }
        guard let host, host.pointee.abi_version >> 16 == PluginABI.hostVersion >> 16 else { return nil }
        self.host = host
        var factories: [strata_factory] = []
        func add(_ kind: strata_seam_kind, _ name: String, _ vtable: UnsafeRawPointer) {
            factories.append(strata_factory(struct_size: UInt32(MemoryLayout<strata_factory>.size), kind: kind.rawValue,
                                            name: UnsafePointer(strdup(name)), vtable: vtable))
        }
        if let vectorStore {
            VectorStoreExport.factory = vectorStore
            VectorStoreExport.salvage = salvage
            add(STRATA_SEAM_VECTOR_STORE, vectorStore.name, UnsafeRawPointer(VectorStoreExport.vtable))
        }
        if let embedder {
            EmbedderExport.factory = embedder
            add(STRATA_SEAM_EMBEDDER, embedder.name, UnsafeRawPointer(EmbedderExport.vtable))
        }
        if let summarizer {
            SummarizerExport.factory = summarizer
            add(STRATA_SEAM_SUMMARIZER, summarizer.name, UnsafeRawPointer(SummarizerExport.vtable))
        }
        if let memoryKernel {
            MemoryKernelExport.factory = memoryKernel
            add(STRATA_SEAM_MEMORY_KERNEL, memoryKernel.name, UnsafeRawPointer(MemoryKernelExport.vtable))
        }
        // Process-lifetime allocations: the host keeps these pointers until exit.
        let list = UnsafeMutablePointer<strata_factory>.allocate(capacity: max(1, factories.count))
        list.initialize(from: factories, count: factories.count)
        let d = UnsafeMutablePointer<strata_plugin_descriptor>.allocate(capacity: 1)
        d.initialize(to: strata_plugin_descriptor(
            struct_size: UInt32(MemoryLayout<strata_plugin_descriptor>.size), abi_version: PluginABI.hostVersion,
            name: UnsafePointer(strdup(name)), version: UnsafePointer(strdup(version)),
            description: UnsafePointer(strdup(description)), factory_count: factories.count, factories: list))
        built = UnsafePointer(d)
        return built
    }

    /// Reports an error to the host and returns its status.
    static func fail(_ error: StrataError) -> Int32 {
        guard let host, let fail = host.pointee.fail else { return error.code.rawValue }
        return error.message.withCString { fail(error.code.rawValue, $0) }
    }

    /// Runs a vtable function body, mapping a thrown error to `host->fail`.
    static func run(_ body: () throws(StrataError) -> Void) -> Int32 {
        do {
            try body()
            return 0
        } catch {
            return fail(error)
        }
    }

    /// The host's filter as a `Filter` (parsed from its canonical JSON), or nil for NULL.
    static func filter(_ f: OpaquePointer?) throws(StrataError) -> Filter? {
        guard let f else { return nil }
        guard let host, let json = host.pointee.filter_json?(f) else {
            throw StrataError(.internal, "host gave a filter but no filter_json")
        }
        return try Filter.parse(try JSONParser.parse(String(cString: json), what: "filter"), what: "filter")
    }

    static func json(_ p: UnsafePointer<CChar>?, what: String) throws(StrataError) -> JSONValue {
        guard let p else { return .object([:]) }
        return try JSONParser.parse(String(cString: p), what: what)
    }

    /// A retained box for `out_self`, and its way back.
    static func retain(_ object: AnyObject) -> UnsafeMutableRawPointer { Unmanaged.passRetained(object).toOpaque() }
    static func object<T>(_ p: UnsafeMutableRawPointer?, as: T.Type) -> T {
        Unmanaged<AnyObject>.fromOpaque(p!).takeUnretainedValue() as! T
    }
    static func release(_ p: UnsafeMutableRawPointer?) {
        guard let p else { return }
        Unmanaged<AnyObject>.fromOpaque(p).release()
    }
}
