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

    /// Runs `body(row)` for every batch row, split into contiguous chunks over the cores.
    ///
    /// `work` is about how many floats one row's body reads; when the whole batch reads fewer
    /// than `tensorParallelThreshold`, the rows run on the calling thread: handing them out
    /// would cost more than it saves. nil: always split.
    func forEachRow(_ batch: Int, work: Int? = nil, _ body: (Int) -> Void) {
        var workers = min(batch, threads > 0 ? threads : ProcessInfoCores.count)
        if let work, batch * work < tensorParallelThreshold { workers = 1 }
        guard workers > 1 else {
            for b in 0..<batch { body(b) }
            return
        }
        RowWorkers.shared.run(workers) { w in
            let lo = batch * w / workers, hi = batch * (w + 1) / workers
            for b in lo..<hi { body(b) }
        }
    }
}

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
        guard cores > 1, rows * layer.inputs * layer.outputs >= tensorSplitProductThreshold else {
            layer.apply(x, rows: rows, into: y, accumulate: accumulate, inputStride: inputStride, outputStride: outputStride)
            return
        }
        let blocks = (rows + 7) / 8
        if blocks >= cores {
            let ldx = inputStride ?? layer.inputs, ldy = outputStride ?? layer.outputs
            RowWorkers.shared.run(cores) { p in
                let lo = 8 * (blocks * p / cores), hi = min(rows, 8 * (blocks * (p + 1) / cores))
                layer.apply(x + lo * ldx, rows: hi - lo, into: y + lo * ldy, accumulate: accumulate, inputStride: ldx,
                            outputStride: ldy)
            }
            return
        }
        let panels = (layer.outputs + PackedLinear.panelWidth - 1) / PackedLinear.panelWidth
        let parts = min(panels, cores)
        guard parts > 1 else {
            layer.apply(x, rows: rows, into: y, accumulate: accumulate, inputStride: inputStride, outputStride: outputStride)
            return
        }
        RowWorkers.shared.run(parts) { p in
            let lo = panels * p / parts * PackedLinear.panelWidth
            let hi = min(layer.outputs, panels * (p + 1) / parts * PackedLinear.panelWidth)
            layer.apply(x, rows: rows, into: y, accumulate: accumulate, columns: lo..<hi, inputStride: inputStride,
                        outputStride: outputStride)
        }
    }
}

/// Products of fewer multiply-adds than this run on the calling thread (about 2 µs of work).
let tensorSplitProductThreshold = 1 << 17

/// Below this many floats read by a batch's per-row work, `forEachRow(_:work:_:)` stays on the
/// calling thread (a few µs of work on one core here: the row workers spin between jobs, so
/// handing out one costs well under a microsecond).
let tensorParallelThreshold = 1 << 15

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
