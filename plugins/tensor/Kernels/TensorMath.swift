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

    /// σ of `count` values in place, eight at a time (`exp8`; within a few ulp of 1 / (1 + expf(−x))).
    public static func sigmoid(_ v: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let x = load8(v + i)
            store8(1 / (1 + exp8(-x)), v + i)
            i += 8
        }
        while i < count {
            v[i] = sigmoid(v[i])
            i += 1
        }
    }

    /// tanh of `count` values in place, eight at a time: Cephes' odd polynomial below |x| 0.625
    /// (full relative precision near 0), 1 − 2 / (e^{2|x|} + 1) with the sign of x above.
    public static func tanh(_ v: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 8 <= count {
            let x = load8(v + i)
            let a = x.replacing(with: -x, where: x .< 0)
            let z = x * x
            var p: SIMD8<Float> = SIMD8(repeating: -5.70498872745e-3)
            p = p * z + 2.06390887954e-2
            p = p * z - 5.37397155531e-2
            p = p * z + 1.33314422036e-1
            p = p * z - 3.33332819422e-1
            let small = p * z * x + x
            var large = 1 - 2 / (exp8(2 * a) + 1)
            large.replace(with: -large, where: x .< 0)
            store8(small.replacing(with: large, where: a .>= 0.625), v + i)
            i += 8
        }
        while i < count {
            v[i] = tanhf(v[i])
            i += 1
        }
    }

    /// e^x on eight lanes: Cephes' single-precision expf (x = n ln 2 + r, a degree-6 polynomial
    /// in r, times 2ⁿ built in the exponent bits), x clamped to [−87.3, 88.3] so 2ⁿ stays a normal
    /// float. Only arithmetic and bit moves, so it compiles to vector instructions.
    @inline(__always)
    static func exp8(_ x: SIMD8<Float>) -> SIMD8<Float> {
        let x = x.clamped(lowerBound: SIMD8(repeating: -87.3), upperBound: SIMD8(repeating: 88.3))
        // Round x·log2(e) to the nearest integer by adding 1.5·2²³: the sum's low mantissa bits are n.
        let magic: Float = 12_582_912
        let t = x * 1.44269504088896341 + magic
        let n = t - magic
        var r = x - n * 0.693359375
        r = r - n * -2.12194440e-4
        var p: SIMD8<Float> = SIMD8(repeating: 1.9875691500e-4)
        p = p * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        p = p * (r * r) + r + 1
        let bits = unsafeBitCast(t, to: SIMD8<Int32>.self) &- unsafeBitCast(SIMD8<Float>(repeating: magic), to: SIMD8<Int32>.self)
        let scale = unsafeBitCast((bits &+ 127) &<< 23, to: SIMD8<Float>.self)
        return p * scale
    }

    @inline(__always)
    static func load8(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always)
    static func store8(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
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
