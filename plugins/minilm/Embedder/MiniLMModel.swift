#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import StrataTensor

/// all-MiniLM-L6-v2 (sentence-transformers; a 6-layer BERT, hidden 384, 12 heads, intermediate
/// 1536) read from a model folder: `model.safetensors` (F32), `vocab.txt`, `config.json`, as
/// scripts/install-model puts them there. The weights of each product are packed once for
/// `strata_gemm_packed` and kept beside the model (`PackedWeightsCache`), so later processes map
/// them; the query, key and value projections are one product of 3 x 384 outputs.
///
/// Immutable after `init`: any number of threads may read it (`@unchecked` for `word`, a
/// pointer into the read-only mapping `weights` keeps alive).
public final class MiniLMModel: @unchecked Sendable {
    /// The model's files and their sizes (the installed wheel's, checked by scripts/install-model).
    public static let safetensorsBytes = 90_868_376
    public static let name = "all-MiniLM-L6-v2"
    /// Tokens per text, [CLS] and [SEP] included (sentence-transformers' max_seq_length).
    public static let maxTokens = 256

    public let hidden: Int
    public let heads: Int
    public let intermediate: Int
    public let layerNormEps: Float
    public let tokenizer: BertTokenizer
    public let directory: String
    /// CRC-32C of every weight the encoder reads, tensor by tensor in name order (their F32 values
    /// as stored): part of the embedder's `modelID`, so a store records which weights made its
    /// vectors and another copy of the model (fine-tuned, damaged in a way the shapes miss) is
    /// another embedding space. One hardware CRC-32C pass over the 91 MB at load.
    public let weightsDigest: UInt32

    /// Whether the products were mapped from `PackedWeightsCache`'s file rather than packed.
    public let packedFromCache: Bool

    /// The mapped model file: the word table is read in place from it.
    let weights: Safetensors.Mapped
    /// [vocabulary x hidden], in place in `weights` (47 MB of which a text touches a few rows).
    let word: UnsafeBufferPointer<Float>
    let position: [Float]
    let type0: [Float]
    let embeddingGamma: [Float]
    let embeddingBeta: [Float]
    let layers: [EncoderLayer]

    /// One BERT layer: its products packed, its LayerNorms as read.
    struct EncoderLayer: Sendable {
        let qkv: PackedLinear, attentionOutput: PackedLinear, intermediate: PackedLinear, output: PackedLinear
        let attentionGamma: [Float], attentionBeta: [Float], outputGamma: [Float], outputBeta: [Float]
    }

    /// The folder read when the configuration names none: `$STRATA_MINILM_DIR`, else
    /// `${XDG_DATA_HOME:-~/.local/share}/strata/models/all-MiniLM-L6-v2` (where scripts/setup
    /// installs it).
    public static func defaultDirectory() -> String {
        if let env = getenv("STRATA_MINILM_DIR"), env.pointee != 0 { return String(cString: env) }
        if let data = getenv("XDG_DATA_HOME"), data.pointee != 0 { return String(cString: data) + "/strata/models/\(name)" }
        let home = getenv("HOME").map { String(cString: $0) } ?? ""
        return home + "/.local/share/strata/models/\(name)"
    }

    /// What to run to install the model into `directory`.
    public static func installCommand(_ directory: String) -> String {
        "scripts/install-model '\(directory)' (in the Strata repository; scripts/setup runs it for the default folder)"
    }

    /// Reads and checks the model in `directory`.
    /// - Throws: `.io` when the folder or one of its files cannot be read; `.corrupt` when a file
    ///   is damaged (a safetensors file of the wrong size or with a bad header, a tensor missing
    ///   or of the wrong shape, a vocabulary without its special tokens, a config.json of another
    ///   architecture). The message names the folder and the command that installs the model.
    public init(directory: String) throws(StrataError) {
        self.directory = directory
        func fail(_ e: StrataError) -> StrataError {
            StrataError(e.code, "minilm model folder \(directory): \(e.message); install the model with \(Self.installCommand(directory))")
        }
        var info = stat()
        guard stat(directory, &info) == 0 else {
            throw fail(StrataError(.io, "cannot open the folder: \(String(cString: strerror(errno)))"))
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else { throw fail(StrataError(.io, "not a folder")) }

        let config: ModelConfig
        do { config = try ModelConfig(path: directory + "/config.json") } catch { throw fail(error) }
        hidden = config.hidden
        heads = config.heads
        intermediate = config.intermediate
        layerNormEps = config.layerNormEps

        do { tokenizer = try BertTokenizer(vocabPath: directory + "/vocab.txt") } catch { throw fail(error) }
        guard tokenizer.vocabularySize == config.vocabulary else {
            throw fail(StrataError(.corrupt, "vocab.txt has \(tokenizer.vocabularySize) tokens, config.json says \(config.vocabulary)"))
        }

        let path = directory + "/model.safetensors"
        guard stat(path, &info) == 0 else {
            throw fail(StrataError(.io, "cannot open model.safetensors: \(String(cString: strerror(errno)))"))
        }
        guard Int(info.st_size) == Self.safetensorsBytes else {
            throw fail(StrataError(.corrupt, "model.safetensors is \(info.st_size) bytes, expected \(Self.safetensorsBytes)"))
        }
        var wanted: [String: [Int]] = [
            "embeddings.word_embeddings.weight": [config.vocabulary, hidden],
            "embeddings.position_embeddings.weight": [config.positions, hidden],
            "embeddings.token_type_embeddings.weight": [config.types, hidden],
            "embeddings.LayerNorm.weight": [hidden], "embeddings.LayerNorm.bias": [hidden],
        ]
        for l in 0..<config.layers {
            let p = "encoder.layer.\(l)."
            for part in ["query", "key", "value"] {
                wanted[p + "attention.self.\(part).weight"] = [hidden, hidden]
                wanted[p + "attention.self.\(part).bias"] = [hidden]
            }
            wanted[p + "attention.output.dense.weight"] = [hidden, hidden]
            wanted[p + "intermediate.dense.weight"] = [intermediate, hidden]
            wanted[p + "output.dense.weight"] = [hidden, intermediate]
            wanted[p + "intermediate.dense.bias"] = [intermediate]
            for name in ["attention.output.dense.bias", "attention.output.LayerNorm.weight", "attention.output.LayerNorm.bias",
                         "output.dense.bias", "output.LayerNorm.weight", "output.LayerNorm.bias"] {
                wanted[p + name] = [hidden]
            }
        }
        let weights: Safetensors.Mapped
        do { weights = try Safetensors.Mapped(path, names: Set(wanted.keys)) } catch {
            throw fail(StrataError(error.code == .io ? .io : .corrupt, error.message))
        }
        for name in wanted.keys.sorted() {
            guard let t = weights.entries[name] else { throw fail(StrataError(.corrupt, "model.safetensors lacks the tensor \(name)")) }
            guard t.shape == wanted[name]! else {
                throw fail(StrataError(.corrupt, "model.safetensors: tensor \(name) has shape \(t.shape), expected \(wanted[name]!)"))
            }
        }
        // The file is mapped, not read: the digest pass hands each chunk back as it goes and the
        // packing pass each tensor once packed, so the process holds the packed products (43 MB)
        // and the few rows of the word table its texts use, not the 91 MB file on top of them.
        let file = weights.file
        // The digest of a file seen before is remembered with its identity (WeightsDigestCache).
        let identity = WeightsDigestCache.identity(path)
        if let identity, let known = WeightsDigestCache.remembered(in: directory, identity: identity) {
            weightsDigest = known
        } else {
            file.willNeed(0..<file.bytes.count)
            var digest: UInt32 = 0
            let chunk = 1 << 22
            for name in wanted.keys.sorted() {
                let range = weights.entries[name]!.bytes
                var at = range.lowerBound
                while at < range.upperBound {
                    let end = min(at + chunk, range.upperBound)
                    digest = CRC32C.checksum(UnsafeRawBufferPointer(rebasing: file.bytes[at..<end]), continuing: digest)
                    file.release(at..<end)
                    at = end
                }
            }
            weightsDigest = digest
            if let identity { WeightsDigestCache.remember(digest, in: directory, identity: identity) }
        }
        func take(_ name: String) -> [Float] {
            defer { file.release(weights.entries[name]!.bytes) }
            return Array(weights.floats(name))
        }
        func pack(_ weight: String, _ bias: String, outputs: Int, inputs: Int) -> PackedLinear {
            defer { file.release(weights.entries[weight]!.bytes) }
            return PackedLinear(weight: weights.floats(weight).baseAddress!, outputs: outputs, inputs: inputs,
                                bias: weights.floats(bias).baseAddress!)
        }

        // The products packed by an earlier process, when its file matches this model.
        let (h, i) = (config.hidden, config.intermediate)
        let shapes = (0..<config.layers).flatMap { _ in
            [(outputs: 3 * h, inputs: h), (outputs: h, inputs: h), (outputs: i, inputs: h), (outputs: h, inputs: i)]
        }
        var cached: PackedWeightsCache.Loaded?
        if let identity { cached = PackedWeightsCache.load(in: directory, identity: identity, digest: weightsDigest, shapes: shapes) }
        packedFromCache = cached != nil
        /// Product `index` (the order of `shapes`): mapped from the file, or made by `packing`.
        func product(_ index: Int, outputs: Int, inputs: Int, bias: @autoclosure () -> [Float],
                     packing: () -> PackedLinear) -> PackedLinear {
            guard let cached else { return packing() }
            return PackedLinear(packed: cached.products[index], outputs: outputs, inputs: inputs, bias: bias(), keeping: cached.file)
        }
        func linear(_ index: Int, _ weight: String, _ bias: String, outputs: Int, inputs: Int) -> PackedLinear {
            product(index, outputs: outputs, inputs: inputs, bias: take(bias)) { pack(weight, bias, outputs: outputs, inputs: inputs) }
        }

        self.weights = weights
        word = weights.floats("embeddings.word_embeddings.weight")
        position = take("embeddings.position_embeddings.weight")
        type0 = Array(take("embeddings.token_type_embeddings.weight")[0..<hidden])
        embeddingGamma = take("embeddings.LayerNorm.weight")
        embeddingBeta = take("embeddings.LayerNorm.bias")
        var layers: [EncoderLayer] = []
        for l in 0..<config.layers {
            let p = "encoder.layer.\(l)."
            let a = p + "attention.self."
            // One product for query, key and value: their weights stacked into one matrix.
            let qkvBias = take(a + "query.bias") + take(a + "key.bias") + take(a + "value.bias")
            let qkv = product(4 * l, outputs: 3 * h, inputs: h, bias: qkvBias) {
                let qkvWeight = take(a + "query.weight") + take(a + "key.weight") + take(a + "value.weight")
                return PackedLinear(weight: qkvWeight, outputs: 3 * h, inputs: h, bias: qkvBias)
            }
            layers.append(EncoderLayer(
                qkv: qkv,
                attentionOutput: linear(4 * l + 1, p + "attention.output.dense.weight", p + "attention.output.dense.bias", outputs: hidden, inputs: hidden),
                intermediate: linear(4 * l + 2, p + "intermediate.dense.weight", p + "intermediate.dense.bias", outputs: intermediate, inputs: hidden),
                output: linear(4 * l + 3, p + "output.dense.weight", p + "output.dense.bias", outputs: hidden, inputs: intermediate),
                attentionGamma: take(p + "attention.output.LayerNorm.weight"), attentionBeta: take(p + "attention.output.LayerNorm.bias"),
                outputGamma: take(p + "output.LayerNorm.weight"), outputBeta: take(p + "output.LayerNorm.bias")))
        }
        self.layers = layers
        if cached == nil, let identity {
            PackedWeightsCache.save(layers.flatMap { [$0.qkv, $0.attentionOutput, $0.intermediate, $0.output] },
                                    in: directory, identity: identity, digest: weightsDigest)
        }
        guard config.positions >= Self.maxTokens else {
            throw fail(StrataError(.corrupt, "config.json allows \(config.positions) positions, fewer than \(Self.maxTokens)"))
        }
    }
}

/// The parts of `config.json` (Hugging Face's BertConfig) the encoder depends on, checked
/// against what `MiniLMEncoder` computes: absolute positions, the exact GELU.
struct ModelConfig {
    let hidden: Int, heads: Int, layers: Int, intermediate: Int, vocabulary: Int, positions: Int, types: Int
    let layerNormEps: Float

    init(path: String) throws(StrataError) {
        let bytes = try WholeFile.read(path, what: "config.json")
        let json: JSONValue
        do {
            json = try bytes.withUnsafeBufferPointer { (b) throws(StrataError) in try JSONParser.parse(bytes: b, what: "config.json") }
        } catch { throw StrataError(.corrupt, "config.json does not parse: \(error.message)") }
        guard case .object(let o) = json else { throw StrataError(.corrupt, "config.json is not a JSON object") }
        func int(_ key: String) throws(StrataError) -> Int {
            guard case .number(let x)? = o[key], x >= 1, x <= 1e7, x == x.rounded() else {
                throw StrataError(.corrupt, "config.json: \(key) is missing or not a positive integer")
            }
            return Int(x)
        }
        func text(_ key: String, _ expected: String) throws(StrataError) {
            if let v = o[key], v != .string(expected) {
                throw StrataError(.corrupt, "config.json: \(key) is \(JSONWriter.string(v)); the minilm plugin computes \(expected)")
            }
        }
        hidden = try int("hidden_size")
        heads = try int("num_attention_heads")
        layers = try int("num_hidden_layers")
        intermediate = try int("intermediate_size")
        vocabulary = try int("vocab_size")
        positions = try int("max_position_embeddings")
        types = try int("type_vocab_size")
        guard hidden % heads == 0 else { throw StrataError(.corrupt, "config.json: hidden_size \(hidden) is not a multiple of num_attention_heads \(heads)") }
        guard case .number(let eps)? = o["layer_norm_eps"], eps > 0, eps < 1 else {
            throw StrataError(.corrupt, "config.json: layer_norm_eps is missing or out of range")
        }
        layerNormEps = Float(eps)
        try text("hidden_act", "gelu")
        try text("position_embedding_type", "absolute")
        try text("model_type", "bert")
    }
}
