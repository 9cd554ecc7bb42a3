import CStrataSIMD

/// A linear layer, y = x · weightᵀ + bias, whose weights are packed once for
/// `strata_gemm_packed` (Sources/CStrataSIMD/include/strata_gemm.h) instead of being
/// repacked by `cblas_sgemm` on every call.
///
/// `weight` is [outputs x inputs] row-major, PyTorch's layout, as `TensorMath.linear` takes it.
/// The layer keeps its own packed copy and its own copy of the bias, so the arrays it was made
/// from may change or go away afterwards; to use new weights, make a new `PackedLinear`. (Or it
/// borrows weights packed before, from a file say: `init(packed:outputs:inputs:bias:keeping:)`.)
///
/// Every output element is summed in one fixed order whatever the rows and `columns` of the call
/// and whatever the CPU (AVX-512, AVX2 or plain C path), so a product split over threads by
/// column ranges gives the same bits as one call. `apply` allocates nothing and runs on the
/// calling thread only.
///
/// Immutable after `init`, so one layer may be applied from several threads at once (into
/// different outputs or disjoint columns of one).
public final class PackedLinear: @unchecked Sendable {
    /// Rows of the weight matrix: the columns of y.
    public let outputs: Int
    /// Columns of the weight matrix: the columns of x.
    public let inputs: Int
    /// The bias (`outputs` floats), or nil.
    public let bias: [Float]?
    /// Column ranges given to `apply` should start and end at multiples of this (the last one
    /// ending at `outputs`); other cuts are correct but make two calls compute the shared panel.
    public static let panelWidth = Int(strata_gemm_panel_width())

    /// The packed weights: `strata_gemm_packed_floats(outputs, inputs)` floats, 64-byte aligned.
    private let packed: UnsafePointer<Float>
    /// What keeps borrowed packed weights alive (`init(packed:...)`); nil when the layer owns them.
    private let owner: AnyObject?

    /// Floats the packed weights of a layer of this shape take (`strata_gemm_packed_floats`).
    public static func packedCount(outputs: Int, inputs: Int) -> Int { strata_gemm_packed_floats(outputs, inputs) }

    /// The packed weights, `strata_gemm_packed_floats(outputs, inputs)` floats (to save them:
    /// `init(packed:...)` takes them back).
    public var packedWeights: UnsafeBufferPointer<Float> {
        UnsafeBufferPointer(start: packed, count: strata_gemm_packed_floats(outputs, inputs))
    }

    /// Packs `weight` [outputs x inputs] row-major and copies `bias` (`outputs` floats, or nil).
    public convenience init(weight: UnsafePointer<Float>, outputs: Int, inputs: Int, bias: UnsafePointer<Float>? = nil) {
        self.init(packing: weight, outputs: outputs, inputs: inputs,
                  bias: bias.map { Array(UnsafeBufferPointer(start: $0, count: outputs)) })
    }

    /// The same from arrays: `weight` holds outputs x inputs floats, `bias` nil or `outputs`.
    public convenience init(weight: [Float], outputs: Int, inputs: Int, bias: [Float]? = nil) {
        precondition(weight.count == outputs * inputs, "PackedLinear: weight must hold outputs x inputs floats")
        precondition(bias.map { $0.count == outputs } ?? true, "PackedLinear: bias must hold outputs floats")
        self.init(packing: weight, outputs: outputs, inputs: inputs, bias: bias)
    }

    private init(packing weight: UnsafePointer<Float>, outputs: Int, inputs: Int, bias: [Float]?) {
        precondition(outputs > 0 && inputs > 0, "PackedLinear: outputs and inputs must be positive")
        self.outputs = outputs
        self.inputs = inputs
        self.bias = bias
        let count = strata_gemm_packed_floats(outputs, inputs)
        let mine = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<Float>.stride, alignment: 64)
            .bindMemory(to: Float.self, capacity: count)
        strata_gemm_pack(weight, outputs, inputs, mine)
        packed = UnsafePointer(mine)
        owner = nil
    }

    /// A layer over weights packed before (`packedWeights` of a layer of the same shape on a CPU
    /// of the same panel width), borrowed, not copied: `owner` (a mapped file, say) is kept
    /// alive as long as the layer. `packed` must hold `strata_gemm_packed_floats(outputs, inputs)`
    /// floats, 64-byte aligned for the best speed.
    public init(packed: UnsafePointer<Float>, outputs: Int, inputs: Int, bias: [Float]?, keeping owner: AnyObject) {
        precondition(outputs > 0 && inputs > 0, "PackedLinear: outputs and inputs must be positive")
        precondition(bias.map { $0.count == outputs } ?? true, "PackedLinear: bias must hold outputs floats")
        self.outputs = outputs
        self.inputs = inputs
        self.bias = bias
        self.packed = packed
        self.owner = owner
    }

    deinit { if owner == nil { UnsafeMutablePointer(mutating: packed).deallocate() } }

    /// y[r][j] = x[r] · weight[j] + bias[j] for rows r < `rows` and columns j in `columns` (all
    /// `outputs` when nil); with `accumulate`, y[r][j] += that instead. x is [rows x inputs] with
    /// rows `inputStride` floats apart (`inputs` when nil), y [rows x outputs] with rows
    /// `outputStride` apart (`outputs` when nil); y's other columns are not touched. x must not
    /// overlap y.
    public func apply(
        _ x: UnsafePointer<Float>, rows: Int, into y: UnsafeMutablePointer<Float>, accumulate: Bool = false,
        columns: Range<Int>? = nil, inputStride: Int? = nil, outputStride: Int? = nil
    ) {
        let cols = columns ?? 0..<outputs
        let ldx = inputStride ?? inputs, ldy = outputStride ?? outputs
        precondition(rows >= 0 && cols.lowerBound >= 0 && cols.upperBound <= outputs && ldx >= inputs && ldy >= outputs,
                     "PackedLinear.apply: out of range")
        if rows == 0 || cols.isEmpty { return }
        if let bias {
            bias.withUnsafeBufferPointer {
                strata_gemm_packed(x, rows, inputs, ldx, packed, outputs, $0.baseAddress, y, ldy,
                                   cols.lowerBound, cols.upperBound, accumulate ? 1 : 0)
            }
        } else {
            strata_gemm_packed(x, rows, inputs, ldx, packed, outputs, nil, y, ldy,
                               cols.lowerBound, cols.upperBound, accumulate ? 1 : 0)
        }
    }
}
