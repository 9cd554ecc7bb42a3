#if canImport(Glibc)
import Glibc
#endif
import CStrata
import StrataCore
import StrataPlugins

/// Calls a plugin's embedder vtable directly, with nothing checked or repaired on the way: the
/// adapter (`PluginEmbedder`) never passes an empty batch, always sizes the output itself and
/// turns a plugin's status into an error, so the contract checker needs to see what the plugin
/// itself does.
///
/// `@unchecked Sendable`: the threads case calls one instance from many threads on purpose,
/// as the plugin's STRATA_INSTANCE_THREAD_SAFE flag promises it may.
final class RawEmbedder: RawInstance, @unchecked Sendable {
    let vtable: strata_embedder_vtable
    /// The vtable's declared size: functions beyond it are treated as NULL.
    let declaredSize: Int
    let instance: UnsafeMutableRawPointer?
    private var destroyed = false

    static func create(_ factory: PluginFactory, config: String) -> (RawOutcome, RawEmbedder?) {
        let (v, size) = RawVTable.read(factory, as: strata_embedder_vtable.self)
        let (outcome, out) = RawVTable.create(config: config, create: v.create, createWithHost: v.create_with_host)
        guard outcome.ok else { return (outcome, nil) }
        return (outcome, RawEmbedder(vtable: v, declaredSize: size, instance: out))
    }

    private init(vtable: strata_embedder_vtable, declaredSize: Int, instance: UnsafeMutableRawPointer?) {
        self.vtable = vtable
        self.declaredSize = declaredSize
        self.instance = instance
    }

    deinit { destroy() }

    func destroy() {
        guard !destroyed else { return }
        destroyed = true
        vtable.destroy?(instance)
    }

    var isThreadSafe: Bool { vtable.flags & UInt32(STRATA_INSTANCE_THREAD_SAFE) != 0 }

    /// dimension(), 0 when the function is NULL.
    var dimension: Int { vtable.dimension.map { $0(instance) } ?? 0 }

    /// model_id(), nil when the function is NULL or answers NULL.
    var modelID: String? { vtable.model_id.flatMap { $0(instance) }.map { String(cString: $0) } }

    /// Embeds `texts` (nil passes a NULL entry) into a guarded buffer of `rows` x dimension floats
    /// that starts "unwritten" (or holds `fillBits`).
    /// - Parameters:
    ///   - count: the count passed (default: texts.count); the texts array is never NULL.
    ///   - rows: rows of room in `out` (default: the count).
    func embed(_ texts: [String?], count: Int? = nil, rows: Int? = nil,
               fillBits: UInt32 = GuardedFloats.unwrittenBits) -> (RawOutcome, GuardedFloats) {
        let n = count ?? texts.count
        let out = GuardedFloats(count: (rows ?? n) * dimension, fillBits: fillBits)
        guard let embed = vtable.embed else {
            return (RawOutcome(status: Int32(STRATA_ERR_UNSUPPORTED), message: "embed is NULL"), out)
        }
        let strings: [UnsafeMutablePointer<CChar>?] = texts.map { $0.map { strdup($0)! } }
        defer { strings.forEach { free($0) } }
        // One extra NULL entry, so an array of zero texts still has an address.
        let pointers = strings.map { $0.map { UnsafePointer($0) } } + [nil]
        let outcome = pointers.withUnsafeBufferPointer { t in
            RawOutcome.of { embed(instance, t.baseAddress, n, out.pointer) }
        }
        return (outcome, out)
    }

    /// The vectors of `texts` from one call, checked: the call succeeded, wrote only inside its
    /// buffer, and every float is finite (rule `embedder.dimension` unless `rule` says another).
    func vectors(_ texts: [String], _ what: String, rule: String? = nil) throws -> [[Float]] {
        let (outcome, out) = embed(texts)
        try expectOK(outcome, what)
        try out.expectGuards(what, rule: "embedder.dimension")
        try out.expectFinite(what, rule: rule ?? "embedder.dimension")
        return out.rows(dimension)
    }
}
