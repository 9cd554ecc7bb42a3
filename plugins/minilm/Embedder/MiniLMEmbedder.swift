import CStrataMiniLM
import StrataCore
import StrataPlugins
import StrataTensor
import Synchronization

/// The `minilm` embedder: all-MiniLM-L6-v2 run natively, 384 floats per text, L2-normalised.
///
///     {"model_dir": "/path/to/all-MiniLM-L6-v2", "threads": 2}
///
/// Options (all optional): `model_dir`, the folder scripts/install-model fills (default
/// `MiniLMModel.defaultDirectory()`: `$STRATA_MINILM_DIR`, else the user's data folder);
/// `threads`, the cores one call may use (0, the default: all of them). Any other key is
/// `.invalidConfig`. Nothing is downloaded: a missing model is an error naming the folder and
/// the command that installs it.
///
/// Threading: `embed` may be called from any thread; calls on one instance take turns (they
/// share the instance's working buffers, behind `workspace`'s lock), and each spreads its work
/// over the cores.
public final class MiniLMEmbedder: CStringEmbedder, Sendable {
    public let model: MiniLMModel
    public let threads: Int
    public var dimension: Int { model.hidden }
    /// `minilm:sentence-transformers/all-MiniLM-L6-v2@crc32c:XXXXXXXX`, the weights' digest
    /// (`MiniLMModel.weightsDigest`) in hex: the identity a store records of its embedding space.
    public var modelID: String { "minilm:sentence-transformers/all-MiniLM-L6-v2@crc32c:" + Self.hex(model.weightsDigest) }

    static func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 8 - s.count) + s
    }

    /// Tokens run through the encoder at once: a batch of more is cut into chunks of whole texts,
    /// so the working buffers stay near 14 MB (the intermediate activations, 1,536 floats a token)
    /// however large the batch.
    static let chunkTokens = 2048

    private let workspace: Mutex<Workspace>

    public convenience init(options: JSONValue) throws(StrataError) {
        var r = try JSONObjectReader(options, path: "minilm options", code: .invalidConfig)
        let directory = try r.optionalString("model_dir") ?? MiniLMModel.defaultDirectory()
        let threads = try r.optionalInt("threads", in: 0...1024) ?? 0
        _ = r.optionalValue("dimension")  // the host's key for every seam; checked below
        try r.finish()
        try self.init(model: MiniLMModel(directory: directory), threads: threads)
        if case .number(let d)? = options.objectValue?["dimension"], Int(d) != dimension {
            throw StrataError(.dimension, "minilm embeds into \(dimension) dimensions; the configuration asks for \(Int(d))")
        }
    }

    public init(model: MiniLMModel, threads: Int = 0) {
        self.model = model
        let cores = RowWorkers.shared.threads + 1
        self.threads = threads > 0 ? min(threads, cores) : cores
        workspace = Mutex(Workspace(hidden: model.hidden, intermediate: model.intermediate, parts: self.threads))
    }

    public func embed(_ texts: [String]) throws(StrataError) -> [[Float]] {
        guard !texts.isEmpty else { return [] }
        var flat = [Float](repeating: 0, count: texts.count * dimension)
        flat.withUnsafeMutableBufferPointer { embed(texts, into: $0.baseAddress!) }
        return (0..<texts.count).map { Array(flat[$0 * dimension..<($0 + 1) * dimension]) }
    }

    /// Writes the vectors of `texts` to `out` (texts.count x dimension floats, row-major).
    /// Allocates nothing once the instance has seen a batch as large (tokens) and a text as long.
    public func embed(_ texts: [String], into out: UnsafeMutablePointer<Float>) {
        run(texts.count, into: out) { i, ids, scratch in
            model.tokenizer.encode(texts[i], maxTokens: MiniLMModel.maxTokens, into: &ids, scratch: &scratch)
        }
    }

    /// The same for the C ABI's texts, read in place (see `CStringEmbedder`): the exported
    /// vtable's `embed` allocates nothing once warm.
    public func embed(cStrings: UnsafePointer<UnsafePointer<CChar>?>, count: Int, into out: UnsafeMutablePointer<Float>) {
        run(count, into: out) { i, ids, scratch in
            model.tokenizer.encode(cString: cStrings[i]!, maxTokens: MiniLMModel.maxTokens, into: &ids, scratch: &scratch)
        }
    }

    /// Tokenizes text i with `tokenize(i, &ids, &scratch)` (appending to ids) for i < count and
    /// runs the encoder over chunks of whole texts.
    private func run(_ count: Int, into out: UnsafeMutablePointer<Float>,
                     _ tokenize: (Int, inout [Int32], inout BertTokenizer.Scratch) -> Void) {
        workspace.withLock { ws in
            var next = 0
            while next < count {
                // Whole texts until the chunk is full (one text always fits: at most 256 tokens).
                ws.ids.removeAll(keepingCapacity: true)
                ws.starts.removeAll(keepingCapacity: true)
                ws.starts.append(0)
                let first = next
                while next < count {
                    let before = ws.ids.count
                    tokenize(next, &ws.ids, &ws.tokenizer)
                    if ws.ids.count > Self.chunkTokens, next > first {
                        ws.ids.removeSubrange(before...)
                        break
                    }
                    ws.starts.append(ws.ids.count)
                    next += 1
                }
                ws.reserve(tokens: ws.ids.count)
                MiniLMEncoder(model: model, ws: ws, parts: threads).run(out: out + first * dimension)
            }
        }
    }
}

extension JSONValue {
    var objectValue: [String: JSONValue]? {
        if case .object(let o) = self { return o }
        return nil
    }
}

/// One instance's working buffers, grown to the largest chunk seen and kept.
///
/// `@unchecked Sendable`: only touched inside `MiniLMEmbedder.workspace`'s lock (the row
/// workers write disjoint parts of its buffers within one call, under that lock).
final class Workspace: @unchecked Sendable {
    let hidden: Int, intermediate: Int, parts: Int
    var ids: [Int32] = []
    /// Where each text of the chunk starts in `ids`, plus the end.
    var starts: [Int] = []
    var tokenizer = BertTokenizer.Scratch()
    private(set) var capacity = 0
    private(set) var x: UnsafeMutablePointer<Float>
    private(set) var qkv: UnsafeMutablePointer<Float>
    private(set) var context: UnsafeMutablePointer<Float>
    private(set) var projected: UnsafeMutablePointer<Float>
    private(set) var inner: UnsafeMutablePointer<Float>
    /// Per part, for `minilm_attention`: the scores of one head (256 x 256) and its keys and
    /// values, plain and packed (2 x 256 x head width floats; `hidden` x 256 is more than enough).
    let attention: UnsafeMutablePointer<Float>
    let attentionStride: Int

    init(hidden: Int, intermediate: Int, parts: Int) {
        self.hidden = hidden
        self.intermediate = intermediate
        self.parts = parts
        x = .allocate(capacity: 1)
        qkv = .allocate(capacity: 1)
        context = .allocate(capacity: 1)
        projected = .allocate(capacity: 1)
        inner = .allocate(capacity: 1)
        let n = MiniLMModel.maxTokens
        attentionStride = n * n + hidden * n
        attention = .allocate(capacity: attentionStride * parts)
        ids.reserveCapacity(MiniLMEmbedder.chunkTokens + MiniLMModel.maxTokens)
    }

    deinit {
        for p in [x, qkv, context, projected, inner, attention] { p.deallocate() }
    }

    func reserve(tokens: Int) {
        guard tokens > capacity else { return }
        for p in [x, qkv, context, projected, inner] { p.deallocate() }
        // 64-byte aligned, as the packed products like their rows.
        func make(_ floats: Int) -> UnsafeMutablePointer<Float> {
            UnsafeMutableRawPointer.allocate(byteCount: floats * 4, alignment: 64).bindMemory(to: Float.self, capacity: floats)
        }
        x = make(tokens * hidden)
        qkv = make(tokens * 3 * hidden)
        context = make(tokens * hidden)
        projected = make(tokens * hidden)
        inner = make(tokens * intermediate)
        capacity = tokens
    }
}

/// The encoder run over one chunk: `ws.ids` holds the texts' tokens back to back, `ws.starts`
/// where each begins; every product runs over all the chunk's tokens at once (no padding), and
/// attention and pooling per text.
struct MiniLMEncoder {
    let model: MiniLMModel
    let ws: Workspace
    let parts: Int

    func run(out: UnsafeMutablePointer<Float>) {
        let tokens = ws.ids.count, texts = ws.starts.count - 1, h = model.hidden
        guard texts > 0 else { return }
        ws.starts.withUnsafeBufferPointer { startsBuffer in
            let starts = startsBuffer.baseAddress!
            embeddings(starts: starts, texts: texts)
            // By index: a debug build iterates an array of structs through the generic
            // IndexingIterator, which allocates on every step (minilm_allocations.c counts).
            for l in 0..<model.layers.count {
                let layer = model.layers[l]
                product(layer.qkv, ws.x, rows: tokens, into: ws.qkv)
                split(AttentionJob(qkv: ws.qkv, context: ws.context, starts: starts, texts: texts, heads: model.heads,
                                   hidden: h, scratch: ws.attention, scratchStride: ws.attentionStride),
                      units: texts * model.heads, work: tokens * h)
                product(layer.attentionOutput, ws.context, rows: tokens, into: ws.projected)
                addLayerNorm(ws.projected, layer.attentionGamma, layer.attentionBeta, rows: tokens)
                product(layer.intermediate, ws.x, rows: tokens, into: ws.inner)
                split(GELUJob(x: ws.inner, width: model.intermediate), units: tokens, work: tokens * model.intermediate)
                product(layer.output, ws.inner, rows: tokens, into: ws.projected)
                addLayerNorm(ws.projected, layer.outputGamma, layer.outputBeta, rows: tokens)
            }
            for t in 0..<texts {
                minilm_mean_pool_normalize(ws.x + starts[t] * h, starts[t + 1] - starts[t], h, out + t * h)
            }
        }
    }

    /// x = LayerNorm(word + position + type 0) for every token, positions counted per text.
    private func embeddings(starts: UnsafePointer<Int>, texts: Int) {
        let h = model.hidden
        ws.ids.withUnsafeBufferPointer { ids in
            do {
                let word = model.word
                model.position.withUnsafeBufferPointer { position in
                    model.type0.withUnsafeBufferPointer { type0 in
                        model.embeddingGamma.withUnsafeBufferPointer { gamma in
                            model.embeddingBeta.withUnsafeBufferPointer { beta in
                                for t in 0..<texts {
                                    let from = starts[t]
                                    minilm_embed(ids.baseAddress! + from, starts[t + 1] - from, word.baseAddress!, position.baseAddress!,
                                                 type0.baseAddress!, gamma.baseAddress!, beta.baseAddress!, model.layerNormEps, h,
                                                 ws.x + from * h)
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// x = LayerNorm(x + y), row by row, over the cores.
    private func addLayerNorm(_ y: UnsafeMutablePointer<Float>, _ gamma: [Float], _ beta: [Float], rows: Int) {
        gamma.withUnsafeBufferPointer { g in
            beta.withUnsafeBufferPointer { b in
                split(LayerNormJob(x: ws.x, y: y, width: model.hidden, gamma: g.baseAddress!, beta: b.baseAddress!, eps: model.layerNormEps),
                      units: rows, work: rows * model.hidden)
            }
        }
    }

    /// `units` units of `job` over the cores, or on this thread when the work (floats touched)
    /// is too small to pay for the hand-off.
    private func split<Job: UnitJob>(_ job: Job, units: Int, work: Int) {
        let n = work < 1 << 13 ? 1 : min(parts, units)
        if n <= 1 { return job.run(0..<units, part: 0) }
        RowWorkers.shared.run(n, UnitChunks(job: job, units: units, parts: n))
    }

    /// y = x · Wᵀ + b over the cores: by blocks of 8 rows (the AVX-512 tile) when each core gets
    /// several, else by panels of 16 columns, so each core reads only its share of the weights.
    /// Every element comes out the same whatever the split (strata_gemm.h).
    private func product(_ layer: PackedLinear, _ x: UnsafeMutablePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>) {
        let blocks = (rows + 7) / 8, panels = (layer.outputs + PackedLinear.panelWidth - 1) / PackedLinear.panelWidth
        let byRows = blocks >= 4 * parts
        let n = rows * layer.inputs * layer.outputs < 1 << 17 ? 1 : min(parts, byRows ? blocks : panels)
        let job = ProductJob(layer: layer, x: x, rows: rows, y: y, byRows: byRows, units: byRows ? blocks : panels, parts: n)
        if n <= 1 { return layer.apply(x, rows: rows, into: y) }
        RowWorkers.shared.run(n, job)
    }
}

/// Work in numbered units; `part` tells a unit which per-part scratch it may use.
protocol UnitJob {
    func run(_ units: Range<Int>, part: Int)
}

/// A `UnitJob`'s units cut into `parts` contiguous chunks.
struct UnitChunks<Job: UnitJob>: PartJob {
    let job: Job, units: Int, parts: Int
    func runPart(_ part: Int) { job.run((units * part / parts)..<(units * (part + 1) / parts), part: part) }
}

struct ProductJob: PartJob {
    let layer: PackedLinear, x: UnsafeMutablePointer<Float>, rows: Int, y: UnsafeMutablePointer<Float>
    let byRows: Bool, units: Int, parts: Int

    func runPart(_ part: Int) {
        let from = units * part / parts, to = units * (part + 1) / parts
        if byRows {
            let lo = 8 * from, hi = min(rows, 8 * to)
            layer.apply(x + lo * layer.inputs, rows: hi - lo, into: y + lo * layer.outputs)
        } else {
            let w = PackedLinear.panelWidth
            layer.apply(x, rows: rows, into: y, columns: (from * w)..<min(layer.outputs, to * w))
        }
    }
}

/// Attention: unit u is head u % heads of text u / heads.
struct AttentionJob: UnitJob {
    let qkv: UnsafeMutablePointer<Float>, context: UnsafeMutablePointer<Float>, starts: UnsafePointer<Int>
    let texts: Int, heads: Int, hidden: Int, scratch: UnsafeMutablePointer<Float>, scratchStride: Int

    func run(_ units: Range<Int>, part: Int) {
        var u = units.lowerBound
        while u < units.upperBound {
            let text = u / heads, h0 = u % heads
            let h1 = min(heads, h0 + (units.upperBound - u))
            let from = starts[text], len = starts[text + 1] - from
            minilm_attention(qkv + from * 3 * hidden, len, 3 * hidden, heads, hidden / heads, h0, h1,
                             context + from * hidden, hidden, scratch + part * scratchStride)
            u += h1 - h0
        }
    }
}

struct LayerNormJob: UnitJob {
    let x: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>, width: Int
    let gamma: UnsafePointer<Float>, beta: UnsafePointer<Float>, eps: Float

    func run(_ units: Range<Int>, part: Int) {
        minilm_add_layernorm(x + units.lowerBound * width, y + units.lowerBound * width, units.count, width, gamma, beta, eps)
    }
}

struct GELUJob: UnitJob {
    let x: UnsafeMutablePointer<Float>, width: Int
    func run(_ units: Range<Int>, part: Int) { minilm_gelu(x + units.lowerBound * width, units.count * width) }
}
