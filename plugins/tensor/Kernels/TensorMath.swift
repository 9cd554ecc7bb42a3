import CStrataSIMD
import Glibc
import StrataCore

/// The few vector operations the kernels are built from besides their matrix products
/// (`PackedLinear`): most are CStrataSIMD's loops, built for AVX-512, AVX2 and baseline x86-64.
public enum TensorMath {
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
