import CStrataSIMD
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
public final class FractalKernel: StagedKernel {
    public let dimension: Int
    /// wᵢ, level by level.
    public let widths: [Int]
    public let parameters: KernelParameters
    public let threads: Int
    public let stateSize: Int
    /// The widest level's width, for sizing the scratch (computed once: a step computes nothing
    /// that allocates, even in a debug build).
    private let widestLevel: Int
    /// Σ wᵢ, the width of every level's memory side by side.
    private let memoryWidth: Int
    /// Each level's tensors, looked up once so a step builds no names.
    private let levels: [Level]
    private let writeStrength: Float
    public let scratch = ScratchPool()

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
        var built: [Level] = [], offset = 0, mixedOffset = 0, strength = 0.0
        for (i, w) in widths.enumerated() {
            let level = Level(i, width: w, input: i == 0 ? d : widths[i - 1], offset: offset, mixedOffset: mixedOffset, parameters)
            strength += level.persistence.reduce(0) { $0 + (1 - $1) } / Double(w)
            built.append(level)
            offset += 3 * w
            mixedOffset += w
        }
        memoryWidth = mixedOffset
        self.levels = built
        stateSize = offset
        widestLevel = widths.max() ?? 1
        writeStrength = Float(strength / Double(levelCount))
    }

    /// One level's widths, place in the state row and tensors.
    private struct Level {
        /// offset: the level's place in a state row; mixedOffset: in a row of mixed.
        let width: Int, input: Int, offset: Int, mixedOffset: Int
        let encoder: PackedLinear, decoder: PackedLinear
        let lstm: LSTMProducts
        /// σ(pᵢ) in double precision; `keep` is it in float.
        let persistence: [Double]
        let keep: [Float]

        init(_ i: Int, width: Int, input: Int, offset: Int, mixedOffset: Int, _ parameters: KernelParameters) {
            let p = "fractal.\(i)."
            self.width = width
            self.input = input
            self.offset = offset
            self.mixedOffset = mixedOffset
            encoder = parameters.linear(p + "encoder")
            decoder = parameters.linear(p + "decoder")
            let ih = parameters[p + "lstm.weight_ih"], hh = parameters[p + "lstm.weight_hh"]
            let bih = parameters[p + "lstm.bias_ih"], bhh = parameters[p + "lstm.bias_hh"]
            if i == 0 {
                lstm = .split(input: PackedLinear(weight: ih, outputs: 4 * width, inputs: width, bias: bih),
                              hidden: PackedLinear(weight: hh, outputs: 4 * width, inputs: width, bias: bhh))
            } else {
                var both = [Float](repeating: 0, count: 8 * width * width)
                for j in 0..<(4 * width) {
                    for k in 0..<width {
                        both[j * 2 * width + k] = ih[j * width + k]
                        both[j * 2 * width + width + k] = hh[j * width + k]
                    }
                }
                lstm = .fused(PackedLinear(weight: both, outputs: 4 * width, inputs: 2 * width, bias: zip(bih, bhh).map { $0 + $1 }))
            }
            persistence = parameters[p + "persistence"].map { 1 / (1 + exp(-Double($0))) }
            keep = persistence.map { Float($0) }
        }
    }

    /// A level's LSTM products. Level 0's input product depends on hidden alone, so it is a
    /// projection (batched over time in a sequence) and the hidden product is added to it; above
    /// level 0 both run as one product over [e, h] (2w inputs, bias b_ih + b_hh).
    private enum LSTMProducts {
        case split(input: PackedLinear, hidden: PackedLinear)
        case fused(PackedLinear)
    }

    public func initialRow(_ row: UnsafeMutablePointer<Float>) { row.update(repeating: 0, count: stateSize) }

    /// Planes: level 0's encoding [w₀] and its LSTM input product z_ih [4w₀] (both from hidden
    /// alone). Mixed: every level's new memory m′ᵢ side by side [Σ wᵢ]. Step scratch: the
    /// encoding and h side by side and the gates [6 · widest], each level's change and
    /// magnitude [2L]. Output scratch: a level's decoded read [D] and the levels' norms [L].
    public var stageWidths: StageWidths {
        let first = widths[0], count = levels.count
        return StageWidths(projection: 5 * first, mixed: memoryWidth, step: 6 * widestLevel + 2 * count, output: dimension + count)
    }

    /// Level 0's encoder and its LSTM's input product: e₀ = tanh(x₀ · We₀ᵀ + be₀), e₀ · W_ihᵀ + b_ih.
    public func project(_ hidden: UnsafePointer<Float>, rows: Int, into planes: UnsafeMutablePointer<Float>) {
        let level = levels[0], w = level.width
        let enc = planes, zIH = planes + rows * w
        apply(level.encoder, hidden, rows: rows, into: enc)
        forEachRow(rows, work: w, EncodeRows(enc: enc, width: w, stride: w, state: nil, stateSize: 0, offset: 0))
        guard case .split(let input, _) = level.lstm else { preconditionFailure("level 0's LSTM products are split") }
        apply(input, enc, rows: rows, into: zIH)
    }

    /// The levels in order: encoder (above level 0), LSTM cell, persistence gate; each level's
    /// new memory goes to mixed, where the next level reads it.
    public func advance(_ context: StepContext) {
        let batch = context.batch, size = stateSize, count = levels.count, wide = widestLevel, total = memoryWidth
        let state = context.state, mixed = context.mixed
        let enc = context.scratch, gates = enc + 2 * batch * wide
        let changes = gates + 4 * batch * wide, magnitudes = changes + batch * count
        for index in 0..<count {
            let level = levels[index]
            let w = level.width, offset = level.offset
            // z = e · W_ihᵀ + b_ih + h · W_hhᵀ + b_hh.
            let z: UnsafeMutablePointer<Float>
            if index == 0 {
                // The first half is a projection; the second is summed into it, reading h where
                // it lies in the state rows.
                z = context.plane(w, width: 4 * w)
                guard case .split(_, let hidden) = level.lstm else { preconditionFailure("level 0's LSTM products are split") }
                apply(hidden, state + offset, rows: batch, into: z, accumulate: true, inputStride: size)
            } else {
                // e and h side by side in one buffer, then one product for both halves.
                z = gates
                apply(level.encoder, mixed + levels[index - 1].mixedOffset, rows: batch, into: enc, inputStride: total,
                      outputStride: 2 * w)
                forEachRow(batch, work: 2 * w, EncodeRows(enc: enc, width: w, stride: 2 * w, state: state, stateSize: size, offset: offset))
                guard case .fused(let both) = level.lstm else { preconditionFailure("upper levels' LSTM products are fused") }
                apply(both, enc, rows: batch, into: z)
            }
            level.keep.withUnsafeBufferPointer { pi in
                forEachRow(batch, work: 8 * w, BlendRows(
                    state: state, stateSize: size, offset: offset, width: w, gates: z, keep: pi.baseAddress!,
                    mixed: mixed + level.mixedOffset, mixedStride: total, changes: changes + index, magnitudes: magnitudes + index,
                    stride: count))
            }
        }
        guard let logs = context.logs else { return }
        let inverse = 1 / Float(count)
        for b in 0..<batch {
            var conflict: Float = 0, usage: Float = 0
            for i in 0..<count {
                conflict += changes[b * count + i]
                usage += magnitudes[b * count + i]
            }
            let l = logs + b * 4
            l[0] = writeStrength
            l[2] = conflict * inverse
            l[3] = usage * inverse
        }
    }

    /// The decoders, read = (1/L) Σ rᵢ, and read_entropy from the levels' norms.
    public func output(
        _ mixed: UnsafeMutablePointer<Float>, rows: Int, scratch: UnsafeMutablePointer<Float>,
        read: UnsafeMutablePointer<Float>, logs: UnsafeMutablePointer<Float>?
    ) {
        let d = dimension, count = levels.count
        let decoded = scratch, norms = scratch + rows * d
        read.update(repeating: 0, count: rows * d)
        for index in 0..<count {
            let level = levels[index]
            apply(level.decoder, mixed + level.mixedOffset, rows: rows, into: decoded, inputStride: memoryWidth)
            forEachRow(rows, work: 2 * d, DecodedRows(decoded: decoded, read: read, width: d, norms: norms + index, stride: count))
        }
        forEachRow(rows, work: d, FinishRows(read: read, width: d, norms: norms, levels: count, logs: logs))
    }
}

/// Fractal's encoder activation, row by row: e = tanh(e) in place (`width` floats every
/// `stride`), and with a state, the level's h copied beside it (so one product reads [e, h]).
private struct EncodeRows: RowJob {
    let enc: UnsafeMutablePointer<Float>, width: Int, stride: Int
    let state: UnsafeMutablePointer<Float>?, stateSize: Int, offset: Int

    func run(_ b: Int) {
        TensorMath.tanh(enc + b * stride, count: width)
        if let state { (enc + b * stride + width).update(from: state + b * stateSize + offset, count: width) }
    }
}

/// One level's LSTM cell and persistence blend, row by row; the change and magnitude sums go to
/// `changes[b · stride]` and `magnitudes[b · stride]`.
private struct BlendRows: RowJob {
    let state: UnsafeMutablePointer<Float>, stateSize: Int, offset: Int, width: Int
    let gates: UnsafeMutablePointer<Float>, keep: UnsafePointer<Float>
    let mixed: UnsafeMutablePointer<Float>, mixedStride: Int
    let changes: UnsafeMutablePointer<Float>, magnitudes: UnsafeMutablePointer<Float>, stride: Int

    func run(_ b: Int) {
        let w = width, row = state + b * stateSize + offset
        var change: Float = 0, magnitude: Float = 0
        strata_lstm_blend(gates + b * 4 * w, row + w, row, row + 2 * w, keep, mixed + b * mixedStride, w, &change, &magnitude)
        changes[b * stride] = change / Float(2 * w)
        magnitudes[b * stride] = magnitude / Float(w)
    }
}

/// A level's decoded read added to the read, and its norm kept (`norms[r · stride]`).
private struct DecodedRows: RowJob {
    let decoded: UnsafeMutablePointer<Float>, read: UnsafeMutablePointer<Float>, width: Int
    let norms: UnsafeMutablePointer<Float>, stride: Int

    func run(_ r: Int) {
        let dr = decoded + r * width, o = read + r * width
        var squares: Float = 0
        for j in 0..<width {
            squares += dr[j] * dr[j]
            o[j] += dr[j]
        }
        norms[r * stride] = squares.squareRoot()
    }
}

/// The read divided by the number of levels, and read_entropy from the levels' norms.
private struct FinishRows: RowJob {
    let read: UnsafeMutablePointer<Float>, width: Int, norms: UnsafeMutablePointer<Float>, levels: Int
    let logs: UnsafeMutablePointer<Float>?

    func run(_ r: Int) {
        let inverse = 1 / Float(levels), o = read + r * width
        for j in 0..<width { o[j] *= inverse }
        guard let logs else { return }
        let n = norms + r * levels
        var total: Float = 0
        for i in 0..<levels { total += n[i] }
        var entropy: Float = 0
        if total > 0 {
            for i in 0..<levels where n[i] > 0 {
                let share = n[i] / total
                entropy -= share * logf(share)
            }
        }
        logs[r * 4 + 1] = entropy
    }
}
