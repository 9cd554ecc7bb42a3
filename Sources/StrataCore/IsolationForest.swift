#if canImport(Glibc)
import Glibc
#endif

/// An isolation forest (Liu, Ting and Zhou, "Isolation Forest", ICDM 2008): random trees that
/// cut the data on a random feature at a random value until every point stands alone. Anomalies
/// are few and different, so they are cut off near the root: their paths are short.
///
/// Each of `trees` trees grows on its own subsample of psi = min(`sampleSize`, n) points drawn
/// without replacement, down to the height limit ceil(log2 psi). A point's path length h(x) in
/// one tree is the number of edges from the root to its leaf, plus c(size) when that leaf still
/// holds `size` > 1 points (the depth an unbuilt subtree would have added). The score is the
/// paper's equation 2:
///
///     s(x) = 2^(-E[h(x)] / c(psi)),   c(n) = 2 H(n - 1) - 2 (n - 1) / n
///
/// where c(n) is the average path length of an unsuccessful search in a binary search tree of n
/// points. s is in (0, 1]: near 1 an anomaly, clearly below 0.5 a normal point, and every point
/// near 0.5 when the data holds no distinct anomaly.
///
/// One deviation, where the paper leaves a gap: a node picks its feature among those that still
/// vary over its points, and becomes a leaf when none does (the paper draws any feature and cannot
/// split a constant one). A column that never varies (an unused field) is thus simply ignored.
///
/// Reproducible: tree `t` draws from `SeededRandom(seed:stream: t)`, so the same points, in the
/// same order, with the same parameters give the same scores, on any number of cores.
///
///     // n points of 2 features, row-major
///     let forest = IsolationForest(points: points, features: 2, parameters: .init(trees: 100, seed: 7))
///     let scores = forest.scores(points)   // one per point, in (0, 1]
///
/// - Complexity: fitting is O(trees * psi * log psi * features); scoring is
///   O(n * trees * log psi), spread over the cores.
public struct IsolationForest: Sendable {
    /// How a forest is grown.
    public struct Parameters: Sendable, Hashable {
        /// Number of trees, t (the paper finds 100 enough for path lengths to converge).
        public var trees: Int
        /// Points each tree is grown on, psi (the paper's 256); capped at the number of points.
        public var sampleSize: Int
        public var seed: UInt64

        public init(trees: Int = 100, sampleSize: Int = 256, seed: UInt64 = 42) {
            self.trees = trees
            self.sampleSize = sampleSize
            self.seed = seed
        }
    }

    /// One node. Inner nodes send x to `left` when x[feature] < value, else to `left + 1`.
    private struct Node: Sendable {
        /// The feature an inner node splits on; -1 for a leaf.
        var feature: Int32
        /// Index of the left child in `nodes`; the right child follows it.
        var left: Int32
        /// An inner node's split value; a leaf's path length, depth + c(size).
        var value: Double
    }

    /// Columns per point.
    public let features: Int
    /// psi: the points each tree was grown on.
    public let sampleSize: Int
    /// Every tree's nodes, one tree after another.
    private let nodes: [Node]
    /// Index of each tree's root in `nodes`.
    private let roots: [Int32]
    /// c(psi), the expected path length the score is normalised by.
    private let normalizer: Double

    /// Grows a forest on `points`.
    /// - Parameters:
    ///   - points: n points of `features` finite values each, row-major (n >= 2).
    ///   - features: columns per point (>= 1).
    ///   - parameters: trees, subsample size and seed.
    /// - Precondition: the sizes are as stated and every value is finite (a programmer error
    ///   otherwise: callers impute missing values first).
    public init(points: [Double], features: Int, parameters: Parameters = Parameters()) {
        precondition(features >= 1, "an isolation forest needs at least one feature")
        precondition(points.count % features == 0, "\(points.count) values is not a whole number of \(features)-feature points")
        let n = points.count / features
        precondition(n >= 2, "an isolation forest needs at least 2 points, got \(n)")
        precondition(parameters.trees >= 1 && parameters.sampleSize >= 2, "trees must be >= 1 and sampleSize >= 2")
        precondition(points.allSatisfy(\.isFinite), "points must be finite: impute missing values before fitting")
        self.features = features
        let psi = min(parameters.sampleSize, n)
        sampleSize = psi
        normalizer = Self.averagePathLength(psi)
        let heightLimit = Int((log2(Double(psi))).rounded(.up))
        var nodes: [Node] = []
        var roots: [Int32] = []
        nodes.reserveCapacity(parameters.trees * (2 * psi - 1))
        points.withUnsafeBufferPointer { p in
            for t in 0..<parameters.trees {
                var rng = SeededRandom(seed: parameters.seed, stream: UInt64(t))
                var sample = Self.sample(psi, of: n, using: &rng)
                roots.append(Int32(nodes.count))
                Self.grow(into: &nodes, points: p, features: features, sample: &sample, heightLimit: heightLimit, using: &rng)
            }
        }
        self.nodes = nodes
        self.roots = roots
    }

    /// Number of trees.
    public var trees: Int { roots.count }

    /// The anomaly score of one point of `features` values, in (0, 1].
    public func score(_ point: [Double]) -> Double {
        precondition(point.count == features, "a point of \(point.count) values for a forest of \(features) features")
        return point.withUnsafeBufferPointer { score(at: $0.baseAddress!) }
    }

    /// The scores of n points of `features` values each (row-major), in order, spread over the cores.
    /// - Complexity: O(n * trees * log psi).
    public func scores(_ points: [Double]) -> [Double] {
        precondition(points.count % features == 0, "\(points.count) values is not a whole number of \(features)-feature points")
        let n = points.count / features
        let chunk = 1024
        return [Double](unsafeUninitializedCapacity: n) { out, initialized in
            points.withUnsafeBufferPointer { p in
                // Each chunk writes its own slice of `out`: disjoint, as parallelFor requires.
                parallelFor((n + chunk - 1) / chunk) { c in
                    for i in c * chunk..<min(n, (c + 1) * chunk) {
                        (out.baseAddress! + i).initialize(to: score(at: p.baseAddress! + i * features))
                    }
                }
            }
            initialized = n
        }
    }

    private func score(at point: UnsafePointer<Double>) -> Double {
        var total = 0.0
        nodes.withUnsafeBufferPointer { tree in
            for root in roots {
                var i = Int(root)
                while tree[i].feature >= 0 {
                    i = Int(tree[i].left) + (point[Int(tree[i].feature)] < tree[i].value ? 0 : 1)
                }
                total += tree[i].value
            }
        }
        return exp2(-(total / Double(roots.count)) / normalizer)
    }

    /// c(n) = 2 H(n - 1) - 2 (n - 1) / n, the average path length of an unsuccessful search in a
    /// binary search tree of n points; 0 for n <= 1, so c(2) = 1.
    ///
    /// H(m) is summed exactly up to m = 64 and expanded asymptotically beyond (error below
    /// 1e-13): the paper's ln(m) + 0.5772 is 0.42 too low at m = 1, which would make c(2) 0.15.
    public static func averagePathLength(_ n: Int) -> Double {
        guard n > 1 else { return 0 }
        return 2 * harmonic(n - 1) - 2 * Double(n - 1) / Double(n)
    }

    private static func harmonic(_ m: Int) -> Double {
        if m <= 64 {
            var sum = 0.0
            for k in stride(from: m, through: 1, by: -1) { sum += 1 / Double(k) }  // small terms first
            return sum
        }
        let x = Double(m), x2 = x * x
        return log(x) + 0.577_215_664_901_532_9 + 1 / (2 * x) - 1 / (12 * x2) + 1 / (120 * x2 * x2)
    }

    /// k distinct indices of 0..<n.
    private static func sample(_ k: Int, of n: Int, using rng: inout SeededRandom) -> [Int32] {
        if k == n { return (0..<Int32(n)).map { $0 } }
        if k * 4 <= n {
            // Few of many: draw and redraw the rare repeat, without an n-sized buffer.
            var seen = Set<Int32>(minimumCapacity: k)
            var out: [Int32] = []
            out.reserveCapacity(k)
            while out.count < k {
                let i = Int32(Int.random(in: 0..<n, using: &rng))
                if seen.insert(i).inserted { out.append(i) }
            }
            return out
        }
        var all = (0..<Int32(n)).map { $0 }
        for i in 0..<k { all.swapAt(i, Int.random(in: i..<n, using: &rng)) }  // partial Fisher-Yates
        return Array(all[0..<k])
    }

    /// Grows one tree on the points `sample` names, appending its nodes (root first).
    private static func grow(
        into nodes: inout [Node], points: UnsafeBufferPointer<Double>, features d: Int, sample: inout [Int32], heightLimit: Int,
        using rng: inout SeededRandom
    ) {
        let base = nodes.count
        nodes.append(Node(feature: -1, left: -1, value: 0))
        var pending: [(node: Int, lo: Int, hi: Int, depth: Int)] = [(base, 0, sample.count, 0)]
        var lower = [Double](repeating: 0, count: d), upper = [Double](repeating: 0, count: d)
        var varying: [Int] = []
        while let (node, lo, hi, depth) = pending.popLast() {
            let leaf = Node(feature: -1, left: -1, value: Double(depth) + averagePathLength(hi - lo))
            guard depth < heightLimit, hi - lo > 1 else {
                nodes[node] = leaf
                continue
            }
            for f in 0..<d {
                lower[f] = .infinity
                upper[f] = -.infinity
            }
            for s in lo..<hi {
                let row = Int(sample[s]) * d
                for f in 0..<d {
                    lower[f] = min(lower[f], points[row + f])
                    upper[f] = max(upper[f], points[row + f])
                }
            }
            varying.removeAll(keepingCapacity: true)
            for f in 0..<d where lower[f] < upper[f] { varying.append(f) }
            guard !varying.isEmpty else {  // identical points: nothing left to cut
                nodes[node] = leaf
                continue
            }
            let f = varying[Int.random(in: 0..<varying.count, using: &rng)]
            var split = lower[f] + rng.uniform() * (upper[f] - lower[f])
            // Rounding may land on the minimum, which would leave the left side empty.
            if !(split > lower[f] && split <= upper[f]) { split = upper[f] }
            var i = lo, j = hi - 1
            while i <= j {
                if points[Int(sample[i]) * d + f] < split {
                    i += 1
                } else {
                    sample.swapAt(i, j)
                    j -= 1
                }
            }
            let left = nodes.count
            nodes.append(leaf)
            nodes.append(leaf)
            nodes[node] = Node(feature: Int32(f), left: Int32(left), value: split)
            pending.append((left + 1, i, hi, depth + 1))
            pending.append((left, lo, i, depth + 1))
        }
    }
}
