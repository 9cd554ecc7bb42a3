import StrataCore

/// What the tensor kernels share: seed 003's four logs, the initial state written row by row,
/// done-mask and keep-mask resets, weights from `KernelParameters`, and the batch split over
/// cores.
public protocol TensorKernel: MemoryKernel {
    var parameters: KernelParameters { get }
    /// Threads for the batch (from the `threads` option; 0: every core).
    var threads: Int { get }
    /// Writes the initial state of one batch row (`stateSize` floats).
    func initialRow(_ row: UnsafeMutablePointer<Float>)
}

/// Seed 003's logs, per batch row, in this order.
public let tensorKernelLogs = ["write_strength", "read_entropy", "overwrite_conflict", "usage_mean"]

extension TensorKernel {
    public var logNames: [String] { tensorKernelLogs }
    public var parameterCount: Int { parameters.count }

    public func initialState(batch: Int, into state: UnsafeMutableBufferPointer<Float>) throws(StrataError) {
        guard batch > 0, state.count == batch * stateSize else {
            throw StrataError(.dimension, "state has \(state.count) floats, expected \(batch) x \(stateSize)")
        }
        for b in 0..<batch { initialRow(state.baseAddress! + b * stateSize) }
    }

    public func reset(batch: Int, state: UnsafeMutableBufferPointer<Float>, keepMask: UnsafeBufferPointer<Float>) throws(StrataError) {
        guard batch > 0, state.count == batch * stateSize, keepMask.count == batch else {
            throw StrataError(.dimension, "reset needs \(batch) x \(stateSize) state floats and \(batch) mask values")
        }
        for b in 0..<batch where keepMask[b] == 0 { initialRow(state.baseAddress! + b * stateSize) }
    }

    /// Resets the rows whose done mask is non-zero, before a step.
    func resetDone(batch: Int, state: UnsafeMutableBufferPointer<Float>, doneMask: UnsafeBufferPointer<Float>?) {
        guard let doneMask else { return }
        for b in 0..<batch where doneMask[b] != 0 { initialRow(state.baseAddress! + b * stateSize) }
    }

    public func writeWeights(to path: String) throws(StrataError) { try parameters.write(to: path) }

    /// Runs `job.run(row)` for every batch row, split into contiguous chunks over the cores.
    ///
    /// `work` is about how many floats one row reads; when the whole batch reads fewer than
    /// `tensorParallelThreshold`, the rows run on the calling thread: handing them out would cost
    /// more than it saves. nil: always split.
    func forEachRow<Job: RowJob>(_ batch: Int, work: Int? = nil, _ job: Job) {
        var workers = min(batch, threads > 0 ? threads : ProcessInfoCores.count)
        if let work, batch * work < tensorParallelThreshold { workers = 1 }
        guard workers > 1 else {
            for b in 0..<batch { job.run(b) }
            return
        }
        RowWorkers.shared.run(workers, RowChunks(job: job, rows: batch, parts: workers))
    }
}

/// Ring's and KV's logs for one row: every step writes (strength 1), the entropy of the read's
/// weights, the given conflict, and the share of valid slots.
func writeBufferLogs(
    _ logs: UnsafeMutablePointer<Float>, row b: Int, weights: UnsafePointer<Float>, valid: UnsafePointer<Float>, slots n: Int,
    conflict: Float
) {
    var used: Float = 0
    for i in 0..<n { used += valid[i] }
    let l = logs + b * 4
    l[0] = 1
    l[1] = TensorMath.entropy(weights, count: n)
    l[2] = conflict
    l[3] = used / Float(n)
}

/// Below this many floats read by a batch's per-row work, `forEachRow(_:work:_:)` stays on the
/// calling thread (about a microsecond of work on one core here: the row workers spin between
/// jobs, so handing out one costs well under a microsecond). Measured on fractal at batch 32,
/// D 256, whose many short row passes run between products: 2,795–2,850 steps/s at 2^15,
/// 2,986–3,053 at 2^11 to 2^12, no better at 0; the other kernels' row passes are larger and
/// were already split.
let tensorParallelThreshold = 1 << 12

extension TensorKernel {
    /// y = x · Wᵀ + b through `layer` (see `PackedLinear.apply`), split over the cores when the
    /// product is large enough to pay for the hand-off: by blocks of 8 rows (the AVX-512 tile's
    /// height) when there are enough, so every part runs the full-width tiles, else by columns.
    /// Each element comes out the same whatever the split.
    func apply(
        _ layer: PackedLinear, _ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>,
        accumulate: Bool = false, inputStride: Int? = nil, outputStride: Int? = nil
    ) {
        let cores = threads > 0 ? threads : ProcessInfoCores.count
        let ldx = inputStride ?? layer.inputs, ldy = outputStride ?? layer.outputs
        guard cores > 1, rows * layer.inputs * layer.outputs >= tensorSplitProductThreshold else {
            layer.apply(x, rows: rows, into: y, accumulate: accumulate, inputStride: ldx, outputStride: ldy)
            return
        }
        let blocks = (rows + 7) / 8, panels = (layer.outputs + PackedLinear.panelWidth - 1) / PackedLinear.panelWidth
        let byRows = blocks >= cores, parts = byRows ? cores : min(panels, cores)
        let product = ProductParts(layer: layer, x: x, rows: rows, y: y, accumulate: accumulate, ldx: ldx, ldy: ldy,
                                   byRows: byRows, units: byRows ? blocks : panels, parts: parts)
        guard parts > 1 else { return product.runPart(0) }
        RowWorkers.shared.run(parts, product)
    }
}

/// One product cut into parts: blocks of 8 rows, or panels of columns.
struct ProductParts: PartJob {
    let layer: PackedLinear, x: UnsafePointer<Float>, rows: Int, y: UnsafeMutablePointer<Float>
    let accumulate: Bool, ldx: Int, ldy: Int, byRows: Bool, units: Int, parts: Int

    func runPart(_ part: Int) {
        let from = units * part / parts, to = units * (part + 1) / parts
        if byRows {
            let lo = 8 * from, hi = min(rows, 8 * to)
            layer.apply(x + lo * ldx, rows: hi - lo, into: y + lo * ldy, accumulate: accumulate, inputStride: ldx, outputStride: ldy)
        } else {
            let width = PackedLinear.panelWidth
            layer.apply(x, rows: rows, into: y, accumulate: accumulate, columns: (from * width)..<min(layer.outputs, to * width),
                        inputStride: ldx, outputStride: ldy)
        }
    }
}

/// Products of fewer multiply-adds than this run on the calling thread (about 2 µs of work).
let tensorSplitProductThreshold = 1 << 17


/// The number of cores this process may run on.
enum ProcessInfoCores {
    static let count: Int = {
        let n = Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))
        return max(1, n)
    }()
}

#if canImport(Glibc)
import Glibc
#endif
