import StrataCore
import Testing

@Suite struct IsolationForestTests {
    /// n points of `d` standard normal values, then `outliers` points at 8 sigma or more.
    func gaussianWithOutliers(n: Int, d: Int, outliers: Int, seed: UInt64 = 7) -> [Double] {
        var rng = SeededRandom(seed: seed)
        var points = (0..<n * d).map { _ in rng.gaussian() }
        for o in 0..<outliers {
            for f in 0..<d { points.append((f + o) % 2 == 0 ? 8 + Double(o) : -8 - Double(o)) }
        }
        return points
    }

    @Test func averagePathLengthMatchesTheDefinition() {
        #expect(IsolationForest.averagePathLength(0) == 0)
        #expect(IsolationForest.averagePathLength(1) == 0)
        #expect(IsolationForest.averagePathLength(2) == 1)
        #expect(abs(IsolationForest.averagePathLength(3) - 5.0 / 3) < 1e-12)  // 2 (1 + 1/2) - 4/3
        #expect(abs(IsolationForest.averagePathLength(4) - 13.0 / 6) < 1e-12)  // 2 (1 + 1/2 + 1/3) - 3/2
        for n in [64, 65, 66, 100, 256, 1000, 100_000] {
            let h = (1..<n).reversed().reduce(0.0) { $0 + 1 / Double($1) }
            let exact = 2 * h - 2 * Double(n - 1) / Double(n)
            #expect(abs(IsolationForest.averagePathLength(n) - exact) < 1e-10, "c(\(n))")
        }
        #expect(abs(IsolationForest.averagePathLength(256) - 10.2486899) < 1e-6)
    }

    @Test func plantedOutliersScoreAboveEveryInlier() {
        let d = 4, n = 1000
        let points = gaussianWithOutliers(n: n, d: d, outliers: 5)
        let forest = IsolationForest(points: points, features: d)
        let scores = forest.scores(points)
        #expect(scores.count == n + 5)
        let inliers = scores[0..<n], outliers = scores[n...]
        #expect(outliers.min()! > inliers.max()!, "outliers \(Array(outliers)), best inlier \(inliers.max()!)")
        #expect(outliers.min()! > 0.6, "far points score well above 0.5: \(Array(outliers))")
        #expect(inliers.reduce(0, +) / Double(n) < 0.5, "typical points score below 0.5")
    }

    @Test func scoresAreInZeroOneAndOneAtATimeEqualsBatch() {
        let d = 3
        let points = gaussianWithOutliers(n: 300, d: d, outliers: 2)
        let forest = IsolationForest(points: points, features: d, parameters: .init(trees: 25, sampleSize: 64, seed: 1))
        let scores = forest.scores(points)
        #expect(scores.allSatisfy { $0 > 0 && $0 <= 1 })
        for i in stride(from: 0, to: 302, by: 37) {
            #expect(forest.score(Array(points[i * d..<(i + 1) * d])) == scores[i])
        }
        #expect(forest.score([1e9, -1e9, 1e9]) <= 1)
    }

    @Test func theSameSeedGivesTheSameScoresAndAnotherSeedOthers() {
        let points = gaussianWithOutliers(n: 500, d: 2, outliers: 1)
        let a = IsolationForest(points: points, features: 2, parameters: .init(seed: 3)).scores(points)
        let b = IsolationForest(points: points, features: 2, parameters: .init(seed: 3)).scores(points)
        let c = IsolationForest(points: points, features: 2, parameters: .init(seed: 4)).scores(points)
        #expect(a == b)
        #expect(a != c)
    }

    @Test func sampleSizeIsCappedAtThePointCountAndTreesAreCounted() {
        let points = gaussianWithOutliers(n: 40, d: 2, outliers: 0)
        let forest = IsolationForest(points: points, features: 2, parameters: .init(trees: 7, sampleSize: 256, seed: 1))
        #expect(forest.sampleSize == 40 && forest.trees == 7 && forest.features == 2)
        let big = gaussianWithOutliers(n: 5000, d: 2, outliers: 0)
        #expect(IsolationForest(points: big, features: 2).sampleSize == 256)
    }

    @Test func identicalPointsAllScoreOneHalf() {
        // Nothing can be cut: every path is c(psi) long, so s = 2^-1.
        let forest = IsolationForest(points: [Double](repeating: 3, count: 50 * 2), features: 2)
        #expect(forest.scores([Double](repeating: 3, count: 10)).allSatisfy { abs($0 - 0.5) < 1e-12 })
    }

    @Test func twoPointsScoreOneHalfEach() {
        // psi = 2, height limit 1: one cut isolates both, h = 1 = c(2).
        let forest = IsolationForest(points: [0, 1], features: 1)
        #expect(forest.scores([0, 1]) == [0.5, 0.5])
    }

    @Test func aConstantColumnIsIgnored() {
        let d = 2, n = 400
        var rng = SeededRandom(seed: 9)
        var withConstant: [Double] = [], alone: [Double] = []
        for i in 0..<n + 1 {
            let x = i == n ? 12.0 : rng.gaussian()
            withConstant += [x, 5]
            alone.append(x)
        }
        let s1 = IsolationForest(points: withConstant, features: d).scores(withConstant)
        let s2 = IsolationForest(points: alone, features: 1).scores(alone)
        #expect(s1 == s2, "a column that never varies is never chosen: the same cuts as without it")
        #expect(s1[n] == s1.max())
    }
}

@Suite struct RandomProjectionTests {
    @Test func keepsDistancesRoughlyAndIsSeeded() {
        var rng = SeededRandom(seed: 5)
        let a = (0..<256).map { _ in Float(rng.gaussian()) }
        let b = (0..<256).map { _ in Float(rng.gaussian()) }
        let p = RandomProjection(inputDimension: 256, outputDimension: 64, seed: 42)
        let out = p.project(rows: [a, b, a])
        #expect(out.count == 3 * 64)
        #expect(Array(out[0..<64]) == Array(out[128..<192]), "the same vector projects the same")
        var before = 0.0, after = 0.0
        for i in 0..<256 { before += Double(a[i] - b[i]) * Double(a[i] - b[i]) }
        for j in 0..<64 { after += (out[j] - out[64 + j]) * (out[j] - out[64 + j]) }
        #expect(abs(after / before - 1) < 0.5, "squared distance ratio \(after / before)")
        let again = RandomProjection(inputDimension: 256, outputDimension: 64, seed: 42).project(rows: [a])
        #expect(again == Array(out[0..<64]))
        #expect(RandomProjection(inputDimension: 256, outputDimension: 64, seed: 43).project(rows: [a]) != again)
    }
}
