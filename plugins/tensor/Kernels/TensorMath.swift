import COpenBLAS
import Glibc
import StrataCore

/// The few dense operations the kernels are built from: matrix products on OpenBLAS, the rest
/// written out (the compiler vectorises these loops; the rows are short).
public enum TensorMath {
    /// y[rows x outputs] = x[rows x inputs] · weightᵀ + bias, weight [outputs x inputs] (PyTorch's
    /// layout), on OpenBLAS sgemm.
    public static func linear(
        _ x: UnsafePointer<Float>, rows: Int, inputs: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
        outputs: Int, into y: UnsafeMutablePointer<Float>
    ) {
        if let bias {
            for r in 0..<rows { (y + r * outputs).update(from: bias, count: outputs) }
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outputs), Int32(inputs), 1,
                    x, Int32(inputs), weight, Int32(inputs), bias == nil ? 0 : 1, y, Int32(outputs))
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

    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        Vectors.dot(a, b, count: count)
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
