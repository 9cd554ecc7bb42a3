import COpenBLAS
import CStrataSIMD
import Glibc
import StrataCore

/// The few dense operations the kernels are built from: matrix products on OpenBLAS, the rest
/// written out (the compiler vectorises these loops; the rows are short).
public enum TensorMath {
    /// y[rows x outputs] = x[rows x inputs] · weightᵀ + bias, weight [outputs x inputs] (PyTorch's
    /// layout), on OpenBLAS sgemm.
    /// With `accumulate`, y += x · weightᵀ + bias instead (two linear layers summed into one
    /// buffer, as an LSTM cell's input and hidden products are). `inputStride`: floats from one
    /// row of x to the next (`inputs` if nil).
    public static func linear(
        _ x: UnsafePointer<Float>, rows: Int, inputs: Int, inputStride: Int? = nil, weight: UnsafePointer<Float>,
        bias: UnsafePointer<Float>?, outputs: Int, into y: UnsafeMutablePointer<Float>, accumulate: Bool = false
    ) {
        if let bias {
            for r in 0..<rows {
                let yr = y + r * outputs
                if accumulate {
                    for j in 0..<outputs { yr[j] += bias[j] }
                } else {
                    yr.update(from: bias, count: outputs)
                }
            }
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outputs), Int32(inputs), 1,
                    x, Int32(inputStride ?? inputs), weight, Int32(inputs), bias == nil && !accumulate ? 0 : 1, y, Int32(outputs))
    }

    /// y[rows x outputs] (row stride `outputStride`) = x[rows x inputs] (row stride `rowStride`) ·
    /// matrix[inputs x outputs] (rows of `outputs` floats), on OpenBLAS sgemm: a product with a
    /// matrix as it lies, not transposed (PMM's per-head key-side queries).
    public static func product(
        _ x: UnsafePointer<Float>, rows: Int, inputs: Int, rowStride: Int, matrix: UnsafePointer<Float>, outputs: Int,
        into y: UnsafeMutablePointer<Float>, outputStride: Int
    ) {
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(outputs), Int32(inputs), 1,
                    x, Int32(rowStride), matrix, Int32(outputs), 0, y, Int32(outputStride))
    }

    /// Softmax of `count` values in place (max-subtracted, so large scores do not overflow).
    public static func softmax(_ v: UnsafeMutablePointer<Float>, count: Int) {
        var m = -Float.infinity
        for i in 0..<count { m = max(m, v[i]) }
        var sum: Float = 0
        for i in 0..<count {
            let e = expf(v[i] - m)
            v[i] = e
            sum += e
        }
        let inv = 1 / sum
        for i in 0..<count { v[i] *= inv }
    }

    /// -Σ p log p over `count` probabilities (0 log 0 = 0).
    public static func entropy(_ p: UnsafePointer<Float>, count: Int) -> Float {
        var h: Float = 0
        for i in 0..<count where p[i] > 0 { h -= p[i] * logf(p[i]) }
        return h
    }

    public static func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

    /// σ of `count` values in place (CStrataSIMD's vector loop; within a few ulp of 1 / (1 + expf(−x))).
    public static func sigmoid(_ v: UnsafeMutablePointer<Float>, count: Int) {
        strata_simd_sigmoid(v, count)
    }

    /// tanh of `count` values in place (CStrataSIMD: Cephes' polynomial below |x| 0.625,
    /// 1 − 2 / (e^{2|x|} + 1) above; within a few ulp of libm). Each value's result does not
    /// depend on its place in the buffer.
    public static func tanh(_ v: UnsafeMutablePointer<Float>, count: Int) {
        strata_simd_tanh(v, count)
    }

    /// Σ a·b over `count` floats (AVX-512, AVX2 or SSE, as the CPU has: CStrataSIMD).
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        strata_simd_dot(a, b, count)
    }

    /// out[width] = Σᵢ weights[i] · rows[i], over `count` rows of `width` floats (an attention
    /// read); rows of weight 0 (masked slots) are skipped.
    public static func weightedSum(
        _ weights: UnsafePointer<Float>, rows: UnsafePointer<Float>, count: Int, width: Int, into out: UnsafeMutablePointer<Float>
    ) {
        out.update(repeating: 0, count: width)
        for i in 0..<count where weights[i] != 0 { strata_simd_axpy(weights[i], rows + i * width, out, width) }
    }

    /// y += alpha · x over `count` floats.
    public static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        strata_simd_axpy(alpha, x, y, count)
    }

    /// x *= alpha over `count` floats.
    public static func scale(_ alpha: Float, _ x: UnsafeMutablePointer<Float>, count: Int) {
        strata_simd_scale(alpha, x, count)
    }

    /// out += weight · y, then y = (1 − t) · y + t · x, over `count` floats in one pass.
    public static func readLerp(
        _ weight: Float, _ t: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>,
        into out: UnsafeMutablePointer<Float>, count: Int
    ) {
        strata_simd_read_lerp(weight, t, x, y, out, count)
    }

    /// y = (1 − t) · y + t · x over `count` floats.
    public static func lerp(_ t: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, count: Int) {
        strata_simd_lerp(t, x, y, count)
    }
}

/// Reusable scratch buffers, so a step allocates nothing once the pool is warm. Concurrent calls
/// (different states, one kernel) each take their own buffer.
public final class ScratchPool: @unchecked Sendable {
    private var free: [UnsafeMutablePointer<Float>: Int] = [:]
    private let lock = ReadWriteLock()

    public init() {}

    /// Runs `body` with a buffer of at least `count` floats (contents undefined).
    public func with<R>(_ count: Int, _ body: (UnsafeMutablePointer<Float>) throws(StrataError) -> R) throws(StrataError) -> R {
        let buffer: UnsafeMutablePointer<Float> = lock.withWriteLock {
            if let (p, _) = free.first(where: { $0.value >= count }) {
                free[p] = nil
                return p
            }
            return UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        }
        defer { lock.withWriteLock { free[buffer] = max(count, 1) } }
        return try body(buffer)
    }

    deinit { for (p, _) in free { p.deallocate() } }
}
