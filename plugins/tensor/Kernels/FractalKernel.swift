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
    /// Each level's offset in a state row.
    private let offsets: [Int]
    /// σ(pᵢ), level by level: fixed with the weights.
    private let persistence: [[Float]]
    private let writeStrength: Float
    private let scratch = ScratchPool()

    public init(_ o: inout KernelOptions) throws(StrataError) {
        dimension = o.memoryDim
        let levels = try o.int("num_levels", default: 3, in: 1...32)
        let ratio = try o.double("compression_ratio", default: 0.5, in: 0...1)
        guard ratio > 0 else {
            throw StrataError(.invalidConfig, "kernel config.compression_ratio must be above 0 (level widths are memory_dim * ratio^i), got 0")
        }
        threads = o.threads
        try o.finish()
        let d = dimension
        widths = (0..<levels).map { max(1, Int((Double(d) * pow(ratio, Double($0))).rounded(.down))) }
        var offsets: [Int] = [], total = 0
        for w in widths {
            offsets.append(total)
            total += 3 * w
        }
        self.offsets = offsets
        stateSize = total
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
        parameters = try KernelParameters(specs, seed: o.seed, weightsPath: o.weightsPath, kernel: "fractal")
        var gates: [[Float]] = [], strength = 0.0
        for i in 0..<levels {
            let g = parameters["fractal.\(i).persistence"].map { 1 / (1 + exp(-Double($0))) }
            strength += g.reduce(0) { $0 + (1 - $1) } / Double(g.count)
            gates.append(g.map { Float($0) })
        }
        persistence = gates
        writeStrength = Float(strength / Double(levels))
    }

    public func initialRow(_ row: UnsafeMutablePointer<Float>) { row.update(repeating: 0, count: stateSize) }

    public func step(
        batch: Int, state: UnsafeMutableBufferPointer<Float>, hidden: UnsafeBufferPointer<Float>,
        doneMask: UnsafeBufferPointer<Float>?, read: UnsafeMutableBufferPointer<Float>, logs: UnsafeMutableBufferPointer<Float>?
    ) throws(StrataError) {
        try checkStep(batch: batch, state: state.count, hidden: hidden.count, doneMask: doneMask?.count, read: read.count, logs: logs?.count)
        resetDone(batch: batch, state: state, doneMask: doneMask)
        let d = dimension, size = stateSize, levels = widths.count, wide = widths.max()!
        // Per row: the encoding, the previous h, two gate blocks, the memory in and out, the
        // level's decoded read, and per level its read norm, change and magnitude.
        try scratch.with(batch * (12 * wide + d + 3 * levels)) { (work: UnsafeMutablePointer<Float>) throws(StrataError) in
            let enc = work, hPrev = enc + batch * wide, zIH = hPrev + batch * wide, zHH = zIH + 4 * batch * wide
            var mIn = zHH + 4 * batch * wide, mOut = mIn + batch * wide
            let decoded = mOut + batch * wide, norms = decoded + batch * d
            let changes = norms + batch * levels, magnitudes = changes + batch * levels
            let out = read.baseAddress!
            out.update(repeating: 0, count: batch * d)
            for (level, w) in widths.enumerated() {
                let p = "fractal.\(level).", offset = offsets[level], gate = persistence[level]
                let x = level == 0 ? hidden.baseAddress! : UnsafePointer(mIn), input = level == 0 ? d : widths[level - 1]
                TensorMath.linear(x, rows: batch, inputs: input, weight: parameters[p + "encoder.weight"],
                                  bias: parameters[p + "encoder.bias"], outputs: w, into: enc)
                forEachRow(batch) { b in
                    let e = enc + b * w
                    for j in 0..<w { e[j] = tanhf(e[j]) }
                    (hPrev + b * w).update(from: state.baseAddress! + b * size + offset, count: w)
                }
                TensorMath.linear(enc, rows: batch, inputs: w, weight: parameters[p + "lstm.weight_ih"],
                                  bias: parameters[p + "lstm.bias_ih"], outputs: 4 * w, into: zIH)
                TensorMath.linear(hPrev, rows: batch, inputs: w, weight: parameters[p + "lstm.weight_hh"],
                                  bias: parameters[p + "lstm.bias_hh"], outputs: 4 * w, into: zHH)
                let mNew = mOut
                gate.withUnsafeBufferPointer { pi in
                    forEachRow(batch) { b in
                        let row = state.baseAddress! + b * size + offset
                        let h = row, c = row + w, m = row + 2 * w
                        let z1 = zIH + b * 4 * w, z2 = zHH + b * 4 * w, mb = mNew + b * w
                        var change: Float = 0, magnitude: Float = 0
                        for j in 0..<w {
                            let i = TensorMath.sigmoid(z1[j] + z2[j])
                            let f = TensorMath.sigmoid(z1[w + j] + z2[w + j])
                            let g = tanhf(z1[2 * w + j] + z2[2 * w + j])
                            let o = TensorMath.sigmoid(z1[3 * w + j] + z2[3 * w + j])
                            c[j] = f * c[j] + i * g
                            h[j] = o * tanhf(c[j])
                            let blended = m[j] * pi[j] + h[j] * (1 - pi[j])
                            change += abs(blended - m[j])
                            magnitude += abs(blended)
                            m[j] = blended
                            mb[j] = blended
                        }
                        changes[b * levels + level] = change / Float(2 * w)
                        magnitudes[b * levels + level] = magnitude / Float(w)
                    }
                }
                TensorMath.linear(mNew, rows: batch, inputs: w, weight: parameters[p + "decoder.weight"],
                                  bias: parameters[p + "decoder.bias"], outputs: d, into: decoded)
                forEachRow(batch) { b in
                    let r = decoded + b * d, o = out + b * d
                    var squares: Float = 0
                    for j in 0..<d {
                        squares += r[j] * r[j]
                        o[j] += r[j]
                    }
                    norms[b * levels + level] = squares.squareRoot()
                }
                swap(&mIn, &mOut)
            }
            let inverse = 1 / Float(levels)
            forEachRow(batch) { b in
                let o = out + b * d
                for j in 0..<d { o[j] *= inverse }
                guard let logs else { return }
                let n = norms + b * levels
                var total: Float = 0, conflict: Float = 0, usage: Float = 0
                for i in 0..<levels {
                    total += n[i]
                    conflict += changes[b * levels + i]
                    usage += magnitudes[b * levels + i]
                }
                var entropy: Float = 0
                if total > 0 {
                    for i in 0..<levels where n[i] > 0 {
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
