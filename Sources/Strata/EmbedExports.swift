import CStrata
import StrataCore
import StrataEngine

// strata_engine_dimension and strata_engine_embed (engine.h, since ABI 1.6): the engine's
// embedder, reached through the engine so a C or Python caller embeds exactly as store and
// recall do.

@implementation @c public func strata_engine_dimension(_ engine: OpaquePointer!) -> Int {
    guard let engine else { return 0 }
    return Unmanaged<EngineHandle>.fromOpaque(UnsafeRawPointer(engine)).takeUnretainedValue().engine.dimension
}

@implementation @c public func strata_engine_embed(
    _ engine: OpaquePointer!, _ texts: UnsafePointer<UnsafePointer<CChar>?>!, _ count: Int, _ dimension: Int,
    _ out_vectors: UnsafeMutablePointer<Float>!
) -> strata_status {
    cCall { () throws(StrataError) in
        let e = try EngineHandle.from(engine)
        // size_t arrives as Int: a count past Int.max (a negative number here) is as wrong as
        // one past the limit, and both must be an error before anything is read.
        guard count >= 0, count <= Int(STRATA_EMBED_MAX_TEXTS) else {
            throw StrataError(.invalidArgument, "count must be in 0...\(STRATA_EMBED_MAX_TEXTS), got \(UInt(bitPattern: count)); embed a larger corpus in several calls")
        }
        guard count > 0 else { return }
        guard let texts else { throw StrataError(.invalidArgument, "texts is NULL") }
        guard let out_vectors else { throw StrataError(.invalidArgument, "out_vectors is NULL") }
        guard dimension == e.dimension else {
            throw StrataError(.dimension, "out_vectors has dimension \(UInt(bitPattern: dimension)), the engine's embedder \(e.embedder.modelID) makes \(e.dimension)")
        }
        var strings: [String] = []
        strings.reserveCapacity(count)
        for i in 0..<count {
            guard let text = try cString(texts[i], what: "text \(i)") else {
                throw StrataError(.invalidArgument, "text \(i) is NULL")
            }
            strings.append(text)
        }
        let rows = try e.embed(strings)
        for (i, row) in rows.enumerated() {
            row.withUnsafeBufferPointer { (out_vectors + i * dimension).update(from: $0.baseAddress!, count: dimension) }
        }
    }
}
