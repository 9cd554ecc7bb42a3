import Glibc
import StrataCore

/// Seed 000's fractal memory: L levels of shrinking width, each encoding the level above's memory
/// (level 0 encodes hidden), running an LSTM cell on it and blending the cell's output into its
/// memory through a learned persistence gate; the read is the mean of the levels' decoded memories.
///
/// Level i has width wᵢ = max(1, ⌊D · ratioⁱ⌋). Per batch row, the state is, level by level,
/// the LSTM's h [wᵢ] and c [wᵢ] and the memory m [wᵢ] (3 Σ wᵢ floats). One step, for hidden x₀:
///
///     eᵢ = tanh(xᵢ · Weᵢᵀ + beᵢ)
///     z = eᵢ · W_ihᵀ + b_ih + hᵢ · W_hhᵀ + b_hh = [zi, zf, zg, zo]
///     cᵢ = σ(zf) cᵢ + σ(zi) tanh(zg);  hᵢ = σ(zo) tanh(cᵢ)
///     πᵢ = σ(pᵢ);  mᵢ = mᵢ πᵢ + hᵢ (1 − πᵢ);  xᵢ₊₁ = mᵢ
///     rᵢ = mᵢ · Wdᵢᵀ + bdᵢ
///     read = (1/L) Σ rᵢ
///
/// Logs: write_strength the mean over levels of mean(1 − πᵢ); read_entropy the entropy of the
/// levels' shares ‖rᵢ‖ / Σ‖rⱼ‖ of the read; overwrite_conflict the mean over levels of
/// mean |Δmᵢ| / 2 (m and h lie in (−1, 1), so it lies in [0, 1)); usage_mean the mean over levels
/// of mean |mᵢ|. Tensors per level i: `fractal.<i>.encoder.*`, `fractal.<i>.lstm.weight_ih`
/// [4wᵢ, wᵢ], `.weight_hh` [4wᵢ, wᵢ], `.bias_ih`, `.bias_hh` [4wᵢ], `fractal.<i>.decoder.*`
/// [D, wᵢ] and [D], `fractal.<i>.persistence` [wᵢ] (0 when seeded).
public final class FractalKernel: TensorKernel {
    public let dimension: Int
    /// wᵢ, level by level.
    public let widths: [Int]
    public let parameters: KernelParameters
    public let threads: Int
    public let stateSize: Int
    /// The widest level's width, for sizing the scratch (computed once: a step computes nothing
    /// that allocates, even in a debug build).
    private let widestLevel: Int
    /// Each level's tensors, looked up once so a step builds no names.
    private let levels: [Level]
    private let writeStrength: Float
    private let scratch = ScratchPool()

    public init(_ o: inout KernelOptions) throws(StrataError) {
        dimension = o.memoryDim
        let levelCount = try o.int("num_levels", default: 3, in: 1...32)
        let ratio = try o.double("compression_ratio", default: 0.5, in: 0...1)
        guard ratio > 0 else {
            throw StrataError(.invalidConfig, "kernel config.compression_ratio must be above 0 (level widths are memory_dim * ratio^i), got 0")
        }
        threads = o.threads
        try o.finish()
        let d = dimension
        widths = (0..<levelCount).map { max(1, Int((Double(d) * pow(ratio, Double($0))).rounded(.down))) }
        var specs: [KernelParameters.Spec] = []
        for (i, w) in widths.enumerated() {
            let input = i == 0 ? d : widths[i - 1], p = "fractal.\(i)."
            specs += [
                .init(p + "encoder.weight", [w, input]), .init(p + "encoder.bias", [w]),
                .init(p + "lstm.weight_ih", [4 * w, w]), .init(p + "lstm.weight_hh", [4 * w, w]),
                .init(p + "lstm.bias_ih", [4 * w]), .init(p + "lstm.bias_hh", [4 * w]),
                .init(p + "decoder.weight", [d, w]), .init(p + "decoder.bias", [d]),
                .init(p + "persistence", [w], .constant(0)),
            ]
        }
        let parameters = try KernelParameters(specs, seed: o.seed, weightsPath: o.weightsPath, kernel: "fractal")
        self.parameters = parameters
        var built: [Level] = [], offset = 0, strength = 0.0
        for (i, w) in widths.enumerated() {
            let level = Level(i, width: w, input: i == 0 ? d : widths[i - 1], offset: offset, parameters)
            strength += level.persistence.reduce(0) { $0 + (1 - $1) } / Double(w)
            built.append(level)
            offset += 3 * w
        }
        self.levels = built
        stateSize = offset
        widestLevel = widths.max() ?? 1
        writeStrength = Float(strength / Double(levelCount))
    }

    /// One level's widths, place in the state row and tensors.
    private struct Level {
        let width: Int, input: Int, offset: Int
        let encoderWeight: [Float], encoderBias: [Float]
        let inputWeight: [Float], hiddenWeight: [Float], inputBias: [Float], hiddenBias: [Float]
        let decoderWeight: [Float], decoderBias: [Float]
        /// σ(pᵢ) in double precision; `keep` is it in float.
        let persistence: [Double]
        let keep: [Float]

        init(_ i: Int, width: Int, input: Int, offset: Int, _ parameters: KernelParameters) {
            let p = "fractal.\(i)."
            self.width = width
            self.input = input
            self.offset = offset
            encoderWeight = parameters[p + "encoder.weight"]
            encoderBias = parameters[p + "encoder.bias"]
            inputWeight = parameters[p + "lstm.weight_ih"]
            hiddenWeight = parameters[p + "lstm.weight_hh"]
            inputBias = parameters[p + "lstm.bias_ih"]
            hiddenBias = parameters[p + "lstm.bias_hh"]
            decoderWeight = parameters[p + "decoder.weight"]
            decoderBias = parameters[p + "decoder.bias"]
            persistence = parameters[p + "persistence"].map { 1 / (1 + exp(-Double($0))) }
            keep = persistence.map { Float($0) }
        }
    }

    public func initialRow(_ row: UnsafeMutablePointer<Float>) { row.update(repeating: 0, count: stateSize) }

    public func step(
        batch: Int, state: UnsafeMutableBufferPointer<Float>, hidden: UnsafeBufferPointer<Float>,
        doneMask: UnsafeBufferPointer<Float>?, read: UnsafeMutableBufferPointer<Float>, logs: UnsafeMutableBufferPointer<Float>?
    ) throws(StrataError) {
        try checkStep(batch: batch, state: state.count, hidden: hidden.count, doneMask: doneMask?.count, read: read.count, logs: logs?.count)
        resetDone(batch: batch, state: state, doneMask: doneMask)
        let d = dimension, size = stateSize, count = levels.count, wide = widestLevel
        // Per row: the encoding, the previous h, two gate blocks, the memory in and out, the
        // level's decoded read, and per level its read norm, change and magnitude.
        try scratch.with(batch * (12 * wide + d + 3 * count)) { (work: UnsafeMutablePointer<Float>) throws(StrataError) in
            let enc = work, hPrev = enc + batch * wide, zIH = hPrev + batch * wide, zHH = zIH + 4 * batch * wide
            // Two memory buffers take turns: level i writes one and level i + 1 reads it. (Chosen
            // per level rather than swapped: a swapped `var` captured by the row closures would be
            // boxed on the heap each step in a debug build.)
            let memoryA = zHH + 4 * batch * wide, memoryB = memoryA + batch * wide
            let decoded = memoryB + batch * wide, norms = decoded + batch * d
            let changes = norms + batch * count, magnitudes = changes + batch * count
            let out = read.baseAddress!
            out.update(repeating: 0, count: batch * d)
            for index in 0..<count {
                let level = levels[index]
                let w = level.width, offset = level.offset
                let mIn = index % 2 == 0 ? memoryB : memoryA, mOut = index % 2 == 0 ? memoryA : memoryB
                let x = index == 0 ? hidden.baseAddress! : UnsafePointer(mIn)
                TensorMath.linear(x, rows: batch, inputs: level.input, weight: level.encoderWeight,
                                  bias: level.encoderBias, outputs: w, into: enc)
                forEachRow(batch, work: 2 * w) { b in
                    TensorMath.tanh(enc + b * w, count: w)
                    (hPrev + b * w).update(from: state.baseAddress! + b * size + offset, count: w)
                }
                // z = e · W_ihᵀ + b_ih + h · W_hhᵀ + b_hh, the second product summed into the first.
                TensorMath.linear(enc, rows: batch, inputs: w, weight: level.inputWeight,
                                  bias: level.inputBias, outputs: 4 * w, into: zIH)
                TensorMath.linear(hPrev, rows: batch, inputs: w, weight: level.hiddenWeight,
                                  bias: level.hiddenBias, outputs: 4 * w, into: zIH, accumulate: true)
                let mNew = mOut
                level.keep.withUnsafeBufferPointer { pi in
                    forEachRow(batch, work: 8 * w) { b in
                        let row = state.baseAddress! + b * size + offset
                        let h = row, c = row + w, m = row + 2 * w
                        let z = zIH + b * 4 * w, mb = mNew + b * w, tanhC = zHH + b * w
                        TensorMath.sigmoid(z, count: 2 * w)  // i, f
                        TensorMath.tanh(z + 2 * w, count: w)  // g
                        TensorMath.sigmoid(z + 3 * w, count: w)  // o
                        for j in 0..<w {
                            c[j] = z[w + j] * c[j] + z[j] * z[2 * w + j]
                            tanhC[j] = c[j]
                        }
                        TensorMath.tanh(tanhC, count: w)
                        var change: Float = 0, magnitude: Float = 0
                        for j in 0..<w {
                            h[j] = z[3 * w + j] * tanhC[j]
                            let blended = m[j] * pi[j] + h[j] * (1 - pi[j])
                            change += abs(blended - m[j])
                            magnitude += abs(blended)
                            m[j] = blended
                            mb[j] = blended
                        }
                        changes[b * count + index] = change / Float(2 * w)
                        magnitudes[b * count + index] = magnitude / Float(w)
                    }
                }
                TensorMath.linear(mNew, rows: batch, inputs: w, weight: level.decoderWeight,
                                  bias: level.decoderBias, outputs: d, into: decoded)
                forEachRow(batch, work: 2 * d) { b in
                    let r = decoded + b * d, o = out + b * d
                    var squares: Float = 0
                    for j in 0..<d {
                        squares += r[j] * r[j]
                        o[j] += r[j]
                    }
                    norms[b * count + index] = squares.squareRoot()
                }
            }
            let inverse = 1 / Float(count)
            forEachRow(batch, work: d) { b in
                let o = out + b * d
                for j in 0..<d { o[j] *= inverse }
                guard let logs else { return }
                let n = norms + b * count
                var total: Float = 0, conflict: Float = 0, usage: Float = 0
                for i in 0..<count {
                    total += n[i]
                    conflict += changes[b * count + i]
                    usage += magnitudes[b * count + i]
                }
                var entropy: Float = 0
                if total > 0 {
                    for i in 0..<count where n[i] > 0 {
                        let share = n[i] / total
                        entropy -= share * logf(share)
                    }
                }
                let l = logs.baseAddress! + b * 4
                l[0] = writeStrength
                l[1] = entropy
                l[2] = conflict * inverse
                l[3] = usage * inverse
            }
        }
    }
}
