/// How a vector store measures closeness. Scores are always "higher is closer".
public enum Metric: String, Sendable, CaseIterable {
    /// Cosine similarity; stores normalise vectors on the way in.
    case cosine
    /// Inner product.
    case dot
    /// Euclidean; the score is minus the squared distance.
    case l2
}

/// Checks and small kernels on `[Float]` vectors.
public enum Vectors {
    /// Throws `.dimension` or `.invalidVector` naming `what` and the first bad position.
    public static func validate(_ v: UnsafeBufferPointer<Float>, dimension: Int, what: String) throws(StrataError) {
        guard v.count == dimension else {
            throw StrataError(.dimension, "\(what) has dimension \(v.count), the store's dimension is \(dimension)")
        }
        var squared = 0.0
        for i in 0..<v.count {
            guard v[i].isFinite else {
                throw StrataError(.invalidVector, "\(what) holds \(v[i]) at position \(i): vectors must be finite")
            }
            squared += Double(v[i]) * Double(v[i])
        }
        // Finite floats can still overflow every score: near 3e38 the squared norm is infinite
        // in float32, and cosine, dot and L2 all become 0, inf or NaN. Below this bound a dot
        // product (|a||b|) and a squared L2 distance ((|a| + |b|)^2) both stay finite.
        guard squared <= maximumSquaredNorm else {
            throw StrataError(.invalidVector, "\(what) has a squared norm of \(squared), above \(maximumSquaredNorm): scores of vectors that long overflow float32; scale it down")
        }
    }

    /// The largest squared L2 norm a stored or query vector may have: a quarter of the largest
    /// float32, so that every score between two vectors stays finite.
    public static let maximumSquaredNorm = Double(Float.greatestFiniteMagnitude) / 4

    public static func validate(_ v: [Float], dimension: Int, what: String) throws(StrataError) {
        try v.withUnsafeBufferPointer { p throws(StrataError) in try validate(p, dimension: dimension, what: what) }
    }

    /// Inner product, SIMD with 4 independent accumulators.
    @inlinable
    public static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, count: Int) -> Float {
        var s0 = SIMD16<Float>(), s1 = SIMD16<Float>()
        var i = 0
        while i + 32 <= count {
            let a0 = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self)
            let b0 = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self)
            let a1 = UnsafeRawPointer(a + i + 16).loadUnaligned(as: SIMD16<Float>.self)
            let b1 = UnsafeRawPointer(b + i + 16).loadUnaligned(as: SIMD16<Float>.self)
            s0 = a0 * b0 + s0
            s1 = a1 * b1 + s1
            i += 32
        }
        while i + 16 <= count {
            let a0 = UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self)
            let b0 = UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self)
            s0 = a0 * b0 + s0
            i += 16
        }
        var s = (s0 + s1).sum()
        while i < count {
            s += a[i] * b[i]
            i += 1
        }
        return s
    }

    public static func dot(_ a: [Float], _ b: [Float]) -> Float {
        precondition(a.count == b.count, "dot of vectors of different lengths")
        return a.withUnsafeBufferPointer { pa in b.withUnsafeBufferPointer { pb in dot(pa.baseAddress!, pb.baseAddress!, count: a.count) } }
    }

    /// Squared Euclidean norm.
    public static func squaredNorm(_ a: [Float]) -> Float { dot(a, a) }

    /// `a` scaled to unit length; a zero vector stays zero, and a vector already of unit length
    /// (`isUnit`) stays as it is, bit for bit.
    ///
    /// Why the second rule: scaling a unit vector by 1/|a| computed in float changes its last
    /// bits, so normalising twice would not give what normalising once gave. A store keeps
    /// vectors normalised and answers them that way; an update that writes back the vector it was
    /// given (an access count) must find the same bits, or the row looks re-embedded.
    public static func normalized(_ a: [Float]) -> [Float] {
        let squared = squaredNorm(a)
        guard squared > 0, !isUnit(squared: squared, dimension: a.count) else { return a }
        let inv = 1 / squared.squareRoot()
        return a.map { $0 * inv }
    }

    /// Whether a vector whose squared norm is `squared` counts as unit length: within the
    /// rounding one normalisation in float leaves (4·d ulps, at least 1e-5; the cosine it
    /// shifts is below that).
    @inline(__always)
    public static func isUnit(squared: Float, dimension: Int) -> Bool {
        abs(squared - 1) <= max(1e-5, 4 * Float(dimension) * .ulpOfOne)
    }

    /// Cosine similarity; 0 when either vector is zero.
    public static func cosine(_ a: [Float], _ b: [Float]) -> Float {
        let na = squaredNorm(a), nb = squaredNorm(b)
        guard na > 0, nb > 0 else { return 0 }
        return dot(a, b) / (na.squareRoot() * nb.squareRoot())
    }
}
