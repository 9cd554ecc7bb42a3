@testable import StrataBackends
import StrataCore
import Testing

/// Layer 0's lists sized to their degree (`LayerZeroLinks`): the same ids read back wherever a
/// list lives, in either id width, and a packed graph keeps working as inserts and removals
/// move its lists.
@Suite struct LayerZeroLinksTests {
    /// Every list the test wrote, against what the links read back.
    private func expectLists(_ links: LayerZeroLinks, _ want: [Int: [UInt32]], rows: Int, _ stage: String) {
        for (n, ids) in want { #expect(links.list(n) == ids, "node \(n), \(stage)") }
        var others = 0
        for n in 0..<rows where want[n] == nil && links.degree[n] != 0 { others += 1 }
        #expect(others == 0, "\(others) nodes never written have links, \(stage)")
    }

    /// 2^24 rows is the most that packs with 3-byte ids; one more and they take 4. Ids are drawn
    /// over the whole range, so every byte of an id is exercised, and the largest id is
    /// always in.
    @Test(arguments: [1 << 24, 1 << 24 + 1])
    func listsReadBackTheSameLooseAndPackedInEitherIdWidth(rows: Int) {
        let links = LayerZeroLinks(maxDegree: 32)
        links.reserve(rows: rows)
        var random = SeededRandom(seed: 5)
        var want: [Int: [UInt32]] = [:]
        func write(_ n: Int, _ ids: [UInt32]) {
            let list = links.writable(n, mayGrow: true)
            for (i, id) in ids.enumerated() { list[i] = id }
            links.setDegree(n, ids.count)
            want[n] = ids
        }
        for i in 0..<400 {
            let n = i == 0 ? rows - 1 : Int(random.next() % UInt64(rows))
            let count = i == 0 ? 32 : Int(random.next() % 33)
            write(n, (0..<count).map { j in j == 0 ? UInt32(rows - 1) : UInt32(random.next() % UInt64(rows)) })
        }
        expectLists(links, want, rows: rows, "loose")
        #expect(links.looseLists == want.count)

        links.pack()
        #expect(links.looseLists == 0)
        #expect(links.idBytes == (rows <= 1 << 24 ? 3 : 4))
        let linked = want.values.reduce(0) { $0 + $1.count }
        #expect(links.packedBytes == linked * links.idBytes)
        #expect(links.bytes == rows * 6 + linked * links.idBytes + 4, "6 bytes a node and the ids, no room to spare")
        expectLists(links, want, rows: rows, "packed")

        // A list rewritten after a pack moves out with its ids; the others stay packed.
        let moved = Array(want.keys.sorted().prefix(50))
        for n in moved {
            let list = links.writable(n, mayGrow: true)
            let count = Int(links.degree[n])
            #expect(Array(UnsafeBufferPointer(start: list, count: count)) == want[n]!, "node \(n) moves with its ids")
            if count < 32 {
                list[count] = 7
                links.setDegree(n, count + 1)
                want[n]!.append(7)
            }
        }
        #expect(links.looseLists == moved.count)
        expectLists(links, want, rows: rows, "partly loose")
        links.pack()
        expectLists(links, want, rows: rows, "packed again")
    }

    /// A graph built in one batch ends packed at about half of hnswlib's layer 0, then takes a
    /// parallel batch of inserts (its lists moving out while threads link) and removals, and
    /// still finds the exact nearest; packing it again changes no list and no answer.
    @Test func aPackedGraphTakesParallelInsertsAndRemovalsAndStillFindsTheNearest() {
        let d = 16, n = 6000
        var random = SeededRandom(seed: 11)
        let centres = (0..<12).map { _ in (0..<d).map { _ in Float(random.gaussian()) } }
        func point() -> [Float] {
            let c = centres[Int(random.next() % 12)]
            return c.map { $0 + 0.5 * Float(random.gaussian()) }
        }
        let matrix = (0..<n).flatMap { _ in point() }
        let queries = (0..<40).map { _ in point() }
        let settings = VectorIndexSettings(kind: .hnsw, m: 8, efConstruction: 64, efSearch: 64, seed: 3)
        let graph = HNSWGraph(dimension: d, metric: .l2, settings: settings)
        matrix.withUnsafeBufferPointer { m in
            let rows = GraphRows(base: m.baseAddress!, dimension: d)
            graph.insert(Array(0..<4000), rows: rows, parallel: true)
            #expect(graph.layer0.looseLists == 0, "a build ends packed")
            #expect(graph.layer0.idBytes == 3)
            let flat = graph.capacity * (graph.m0 + 1) * 4
            #expect(graph.layer0.bytes < flat * 2 / 3, "packed layer 0: \(graph.layer0.bytes) bytes, hnswlib's layout \(flat)")

            graph.insert(Array(4000..<n), rows: rows, parallel: true)
            var removed = Set<Int>()
            while removed.count < 500 { removed.insert(Int(random.next() % UInt64(n))) }
            for r in removed.sorted() { graph.remove(r, rows: rows) }
            #expect(graph.count == n - removed.count)

            for node in 0..<n {
                let links = graph.links(UInt32(node), 0)
                #expect(links.count <= graph.m0)
                #expect(links.allSatisfy { Int($0) < n && Int($0) != node }, "node \(node) links only other rows")
            }
            func distance(_ q: [Float], _ r: Int) -> Float {
                var sum: Float = 0
                for j in 0..<d { sum += (q[j] - m[r * d + j]) * (q[j] - m[r * d + j]) }
                return sum
            }
            var found = 0
            var answers: [[UInt32]] = []
            for q in queries {
                let distances = (0..<n).map { distance(q, $0) }
                let truth = Set((0..<n).filter { !removed.contains($0) }.sorted { distances[$0] < distances[$1] }.prefix(10))
                let hits = q.withUnsafeBufferPointer { graph.search($0.baseAddress!, rows: rows, k: 10, ef: 64) }
                #expect(hits.allSatisfy { !removed.contains(Int($0.node)) }, "no removed row comes back")
                found += hits.filter { truth.contains(Int($0.node)) }.count
                answers.append(hits.map(\.node))
            }
            let recall = Double(found) / Double(10 * queries.count)
            #expect(recall >= 0.9, "recall@10 \(recall)")

            let before = (0..<n).map { graph.links(UInt32($0), 0) }
            graph.layer0.pack()
            #expect(graph.layer0.looseLists == 0)
            #expect((0..<n).map { graph.links(UInt32($0), 0) } == before, "packing changes no list")
            for (q, answer) in zip(queries, answers) {
                let hits = q.withUnsafeBufferPointer { graph.search($0.baseAddress!, rows: rows, k: 10, ef: 64) }
                #expect(hits.map(\.node) == answer, "packing changes no answer")
            }
        }
    }
}
