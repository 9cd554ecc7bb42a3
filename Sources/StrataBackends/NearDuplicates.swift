import StrataCore

/// Groups of near-duplicate vectors: the connected components of the graph whose edges join
/// vectors at cosine `threshold` or more (DBSCAN with eps = 1 - threshold and min_samples 2
/// finds the same clusters), in expected O(n) comparisons instead of DBSCAN's O(n^2).
///
/// Candidate pairs come from random-hyperplane locality-sensitive hashing (Charikar 2002): a
/// hyperplane separates two vectors at angle t with probability t / pi, so two vectors share a
/// `bits`-bit signature with probability (1 - t/pi)^bits, and share at least one of `tables`
/// signatures with probability 1 - (1 - (1 - t/pi)^bits)^tables. With the defaults (12 bits,
/// 20 tables) a pair at cosine 0.85 is a candidate with probability 0.87, at 0.90 with 0.96, at
/// 0.95 with 0.998; each candidate is then checked exactly. Clusters are components, so a pair
/// missed by hashing is still joined through any other member both are close to.
///
/// Signatures are one matrix product (the packed sgemm, `PackedProduct`) of the vectors by the
/// hyperplanes.
public struct NearDuplicates {
    public var threshold: Float
    public var bits = 12
    public var tables = 20
    /// Buckets larger than this compare each member with its `window` successors in bucket
    /// order rather than with every other member, so a heap of identical vectors stays linear.
    public var fullBucket = 64
    public var window = 16
    public var seed: UInt64 = 0x5EED

    public init(threshold: Float) { self.threshold = threshold }

    /// The clusters (two or more members, indices into `vectors`, each sorted) among vectors that
    /// share a `group` and pass `accept(i, j)`.
    /// - Parameters:
    ///   - vectors: unit vectors, all of length `dimension`.
    ///   - groups: a group number per vector (scope and model); vectors of different groups never join.
    ///   - accept: a further check on a pair already at the threshold (word overlap).
    public func clusters(
        _ vectors: [[Float]], dimension: Int, groups: [Int], accept: (Int, Int) -> Bool = { _, _ in true }
    ) -> [[Int]] {
        let n = vectors.count
        guard n > 1 else { return [] }
        let planes = bits * tables
        let signatures = signatures(vectors, dimension: dimension, planes: planes)
        var components = UnionFind(n)
        var bucket: [UInt64: [Int]] = [:]
        for t in 0..<tables {
            bucket.removeAll(keepingCapacity: true)
            for i in 0..<n {
                var key = UInt64(truncatingIfNeeded: groups[i]) << 32
                for b in 0..<bits where signatures[i * planes + t * bits + b] { key |= 1 << UInt64(b) }
                bucket[key, default: []].append(i)
            }
            for members in bucket.values where members.count > 1 {
                let wide = members.count > fullBucket
                for (a, i) in members.enumerated() {
                    let end = wide ? min(members.count, a + 1 + window) : members.count
                    for j in members[(a + 1)..<end] where components.find(i) != components.find(j) {
                        if Vectors.dot(vectors[i], vectors[j]) >= threshold, accept(i, j) { components.union(i, j) }
                    }
                }
            }
        }
        var byRoot: [Int: [Int]] = [:]
        for i in 0..<n { byRoot[components.find(i), default: []].append(i) }
        return byRoot.values.filter { $0.count > 1 }.map { $0.sorted() }.sorted { $0[0] < $1[0] }
    }

    /// Sign bits of every vector against `planes` seeded Gaussian hyperplanes, row-major n x planes.
    private func signatures(_ vectors: [[Float]], dimension: Int, planes: Int) -> [Bool] {
        var rng = SeededRandom(seed: seed)
        var h = [Float](repeating: 0, count: dimension * planes)
        for i in h.indices { h[i] = Float(rng.gaussian()) }
        let n = vectors.count
        var flat = [Float](repeating: 0, count: n * dimension)
        for (i, v) in vectors.enumerated() { flat.replaceSubrange((i * dimension)..<((i + 1) * dimension), with: v) }
        // The planes as rows (planes x dimension), the layout the packed product takes.
        var planesByRow = [Float](repeating: 0, count: planes * dimension)
        for d in 0..<dimension { for p in 0..<planes { planesByRow[p * dimension + d] = h[d * planes + p] } }
        var projections = [Float](repeating: 0, count: n * planes)
        var product = PackedProduct()
        defer { product.release() }
        flat.withUnsafeBufferPointer { a in
            planesByRow.withUnsafeBufferPointer { b in
                projections.withUnsafeMutableBufferPointer { c in
                    product.multiply(x: a.baseAddress!, m: n, w: b.baseAddress!, n: planes, k: dimension, into: c.baseAddress!)
                }
            }
        }
        return projections.map { $0 >= 0 }
    }
}

/// Disjoint sets with path halving and union by size.
struct UnionFind {
    private var parent: [Int]
    private var size: [Int]

    init(_ n: Int) {
        parent = Array(0..<n)
        size = Array(repeating: 1, count: n)
    }

    mutating func find(_ x: Int) -> Int {
        var x = x
        while parent[x] != x {
            parent[x] = parent[parent[x]]
            x = parent[x]
        }
        return x
    }

    mutating func union(_ a: Int, _ b: Int) {
        var ra = find(a), rb = find(b)
        guard ra != rb else { return }
        if size[ra] < size[rb] { swap(&ra, &rb) }
        parent[rb] = ra
        size[ra] += size[rb]
    }
}
