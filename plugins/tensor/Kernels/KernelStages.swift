import StrataCore

/// A tensor kernel's step in three stages, so `sequence` can batch over time what does not
/// depend on the state:
///
/// 1. `project`: the products of `hidden` alone (queries, keys, values, gates, addresses), for
///    any number of rows at once. In a sequence they run for T·B rows in one matrix product,
///    which runs much closer to sgemm's bound than T products of B rows.
/// 2. `advance`: one time step's state work for B rows, from the projections of those rows.
///    It writes `mixed`, what the output stage needs (the attention read before its output
///    projection), and the logs it knows.
/// 3. `output`: products of `mixed` alone (the output projection, the decoders), again for
///    any number of rows at once.
///
/// `step` and `sequence` come from this protocol's extension; a sequence is bit-for-bit the same
/// as its steps one at a time (the products give each row the same result whatever the number of
/// rows).
public protocol StagedKernel: TensorKernel {
    /// Floats per row of each stage's buffers.
    var stageWidths: StageWidths { get }
    /// Scratch buffers the stages use, reused from call to call.
    var scratch: ScratchPool { get }
    /// Writes the projections of `rows` rows of hidden into `planes`: one plane per projection,
    /// each `rows` x its width, one after the other (see `StepContext.plane`).
    func project(_ hidden: UnsafePointer<Float>, rows: Int, into planes: UnsafeMutablePointer<Float>)
    /// One step of the state for `context.batch` rows.
    func advance(_ context: StepContext)
    /// Turns `rows` rows of mixed into `read` (rows x D), and completes `logs` if given.
    func output(
        _ mixed: UnsafeMutablePointer<Float>, rows: Int, scratch: UnsafeMutablePointer<Float>,
        read: UnsafeMutablePointer<Float>, logs: UnsafeMutablePointer<Float>?)
}

/// Floats per row of a `StagedKernel`'s buffers.
public struct StageWidths: Sendable {
    /// All projection planes side by side.
    public var projection: Int
    /// What `advance` hands `output`.
    public var mixed: Int
    /// `advance`'s own scratch (per row of one step).
    public var step: Int = 0
    /// `output`'s own scratch.
    public var output: Int = 0
}

/// What one `advance` call works on: one time step's rows inside a block of projected rows.
public struct StepContext {
    public let batch: Int
    public let state: UnsafeMutablePointer<Float>
    /// This step's hidden rows [batch x D].
    public let hidden: UnsafePointer<Float>
    /// The block's planes, `rows` rows each; this step's rows start at row `first`.
    let planes: UnsafeMutablePointer<Float>
    let rows: Int
    let first: Int
    /// `batch` x `StageWidths.step` floats.
    public let scratch: UnsafeMutablePointer<Float>
    /// This step's rows of mixed and of the logs.
    public let mixed: UnsafeMutablePointer<Float>
    public let logs: UnsafeMutablePointer<Float>?

    /// This step's rows of the plane that starts `offset` floats into a projection row and is
    /// `width` floats wide.
    public func plane(_ offset: Int, width: Int) -> UnsafeMutablePointer<Float> {
        planes + rows * offset + first * width
    }
}

/// The most floats a sequence's projection and output buffers take before it is run in blocks of
/// time steps (32 MiB).
let sequenceBlockFloats = 1 << 23

extension StagedKernel {
    public func step(
        batch: Int, state: UnsafeMutableBufferPointer<Float>, hidden: UnsafeBufferPointer<Float>,
        doneMask: UnsafeBufferPointer<Float>?, read: UnsafeMutableBufferPointer<Float>, logs: UnsafeMutableBufferPointer<Float>?
    ) throws(StrataError) {
        try checkStep(batch: batch, state: state.count, hidden: hidden.count, doneMask: doneMask?.count, read: read.count, logs: logs?.count)
        try run(steps: 1, batch: batch, state: state, hidden: hidden, doneMasks: doneMask, read: read, logs: logs,
                blockFloats: sequenceBlockFloats)
    }

    public func sequence(
        steps: Int, batch: Int, state: UnsafeMutableBufferPointer<Float>, hidden: UnsafeBufferPointer<Float>,
        doneMasks: UnsafeBufferPointer<Float>?, read: UnsafeMutableBufferPointer<Float>,
        logs: UnsafeMutableBufferPointer<Float>?
    ) throws(StrataError) {
        try checkSequence(steps: steps, batch: batch, state: state.count, hidden: hidden.count, doneMasks: doneMasks?.count,
                          read: read.count, logs: logs?.count)
        try run(steps: steps, batch: batch, state: state, hidden: hidden, doneMasks: doneMasks, read: read, logs: logs,
                blockFloats: sequenceBlockFloats)
    }

    /// Runs `steps` steps in blocks of time steps whose stage buffers take at most `blockFloats`
    /// floats (at least one step each): project the block, advance step by step (resetting done
    /// rows first), then the block's output. Sizes are the caller's to check.
    func run(
        steps: Int, batch: Int, state: UnsafeMutableBufferPointer<Float>, hidden: UnsafeBufferPointer<Float>,
        doneMasks: UnsafeBufferPointer<Float>?, read: UnsafeMutableBufferPointer<Float>, logs: UnsafeMutableBufferPointer<Float>?,
        blockFloats: Int
    ) throws(StrataError) {
        let widths = stageWidths, d = dimension, l = logNames.count
        let perRow = max(1, widths.projection + widths.mixed + widths.output)
        let block = max(1, min(steps, blockFloats / (batch * perRow)))
        try scratch.with(block * batch * perRow + batch * widths.step) { (work: UnsafeMutablePointer<Float>) throws(StrataError) in
            let s = state.baseAddress!, h = hidden.baseAddress!, r = read.baseAddress!
            var t0 = 0
            while t0 < steps {
                let count = min(block, steps - t0), rows = count * batch
                let planes = work, mixed = planes + rows * widths.projection
                let outputScratch = mixed + rows * widths.mixed, stepScratch = work + block * batch * perRow
                let blockLogs = logs.map { $0.baseAddress! + t0 * batch * l }
                project(h + t0 * batch * d, rows: rows, into: planes)
                for t in 0..<count {
                    if let doneMasks {
                        resetDone(batch: batch, state: state, doneMask: UnsafeBufferPointer(rebasing: doneMasks[((t0 + t) * batch)..<((t0 + t + 1) * batch)]))
                    }
                    advance(StepContext(
                        batch: batch, state: s, hidden: h + (t0 + t) * batch * d, planes: planes, rows: rows, first: t * batch,
                        scratch: stepScratch, mixed: mixed + t * batch * widths.mixed, logs: blockLogs.map { $0 + t * batch * l }))
                }
                output(mixed, rows: rows, scratch: outputScratch, read: r + t0 * batch * d, logs: blockLogs)
                t0 += count
            }
        }
    }
}

/// A staged kernel whose state work is the same for every row, independent of the others (its
/// `advance` runs `advanceRow` for each row, the rows split over the cores), and whose output is
/// one linear layer of mixed.
public protocol RowStagedKernel: StagedKernel {
    /// One row's state work for one step (see `StagedKernel.advance`).
    func advanceRow(_ context: StepContext, _ row: Int)
    /// About how many floats one `advanceRow` reads (for `forEachRow`).
    var rowWork: Int { get }
    /// The output projection: read = mixed · Woᵀ + bo.
    var outputLayer: PackedLinear { get }
}

extension RowStagedKernel {
    public func advance(_ context: StepContext) {
        forEachRow(context.batch, work: rowWork, AdvanceRows(kernel: self, context: context))
    }

    /// read = mixed · Woᵀ + bo.
    public func output(
        _ mixed: UnsafeMutablePointer<Float>, rows: Int, scratch: UnsafeMutablePointer<Float>,
        read: UnsafeMutablePointer<Float>, logs: UnsafeMutablePointer<Float>?
    ) {
        apply(outputLayer, mixed, rows: rows, into: read)
    }
}

/// `RowStagedKernel.advance`'s rows as a `RowJob`.
struct AdvanceRows<Kernel: RowStagedKernel>: RowJob {
    let kernel: Kernel, context: StepContext

    func run(_ row: Int) { kernel.advanceRow(context, row) }
}
