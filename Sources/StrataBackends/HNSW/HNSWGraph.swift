import CStrataSIMD
import StrataCore

#if canImport(Glibc)
import Glibc
#endif

/// The rows a graph links: `base + node * dimension` is node's vector. The graph keeps no vectors
/// of its own (the store's matrix is the only copy), so every call is handed the matrix as it is
/// now; it must hold every node the graph knows.
struct GraphRows {
    let base: UnsafePointer<Float>
    let dimension: Int
    /// Called with the nodes whose rows a search is about to read, before it reads them: rows
    /// that are not in memory yet are read in (`MappedVectorIndex`). Nil: every row is there.
    var ensure: ((UnsafePointer<UInt32>, Int) -> Void)? = nil

    @inline(__always)
    func row(_ node: UInt32) -> UnsafePointer<Float> { base + Int(node) * dimension }
}

/// How one walk measures distances from its query: on the float rows, or on the graph's
/// compressed copies (`HNSWCodes`) with the query prepared for them.
struct GraphWalk {
    let rows: GraphRows
    /// The float query, or the codes' prepared weights (floats, or bytes: `HNSWCodes.distances`).
    let query: UnsafeRawPointer
    let codes: HNSWCodes?
    let constant: Float
    var scale: Float = 0
    let l2: Int32

    /// out[i] = the distance to node ids[i], smaller is closer.
    @inline(__always)
    func distances(_ ids: UnsafePointer<UInt32>, _ count: Int, _ out: UnsafeMutablePointer<Float>) {
        if let codes {
            // A mapped image makes a row's copy when it reads the row in.
            rows.ensure?(ids, count)
            codes.distances(query, constant, scale, ids, count, out)
        } else {
            rows.ensure?(ids, count)
            strata_graph_distances(query.assumingMemoryBound(to: Float.self), rows.base, rows.dimension, ids, count, l2, out)
        }
    }
}

/// A hierarchical navigable small-world graph (Malkov and Yashunin, "Efficient and robust
/// approximate nearest neighbor search using Hierarchical Navigable Small World graphs", 2016)
/// over the rows of a store's matrix: node n is row n.
///
/// Layout, chosen for the search's memory traffic and for its size beside hnswlib's: layer 0
/// (where nearly all the work happens) keeps each list only as long as its degree, packed with
/// 3-byte ids once a batch is linked and in a 2m-slot list while it changes (`LayerZeroLinks`);
/// the upper layers (about one node in m has any) are a separate allocation per node, `m + 1`
/// words a layer (a count, then up to m neighbours), found through a table that holds only those
/// nodes. Per node besides the lists: its top layer and a dead flag (a byte each); the spin
/// locks of a parallel insert are a fixed table shared by all nodes.
///
/// Removal marks the node dead and repairs every live neighbour that linked to it: the neighbour
/// picks new links from its own list and the dead node's, by the same rule as an insert, so the
/// graph stays connected around the hole. Dead nodes stay walkable (links from nodes that were
/// not their neighbours may still lead through them) and are never returned; a later insert into
/// the same row makes the node live again with fresh links.
///
/// Thread safety: searches may run side by side; inserts and removals need the caller's write
/// lock, except `insert(_:rows:parallel:)`, which runs its inserts on several threads itself with
/// a spin lock per node. `@unchecked Sendable`: the owning store's read-write lock orders every
/// access.
final class HNSWGraph: @unchecked Sendable {
    let dimension: Int
    let l2: Bool
    let m: Int
    let m0: Int
    let efConstruction: Int
    let seed: UInt64
    private let levelScale: Double

    private(set) var capacity = 0
    /// Layer 0's lists.
    let layer0: LayerZeroLinks
    /// Layers 1...level of node n: `level * (m + 1)` words, for the nodes above layer 0 only.
    /// A table rather than a pointer per row: one node in m has upper layers, so a pointer per
    /// row cost 8 bytes a row for a few percent of them. Written only under the write lock (or
    /// before a parallel insert's threads start), so concurrent reads see it settled.
    var upper: [UInt32: UnsafeMutablePointer<UInt32>] = [:]
    /// Top layer of each node; -1 for a row that was never a node.
    var levels: UnsafeMutablePointer<Int8>
    /// 1 for a removed node (walkable, never returned).
    var dead: UnsafeMutablePointer<UInt8>
    /// Spin locks for parallel inserts, node n's at `n % lockStripes`: a thread holds one at a
    /// time (a list is copied or written under it, nothing else), so two nodes sharing one
    /// only ever wait for each other, never deadlock. A lock per node cost 4 bytes a row.
    private let locks: UnsafeMutablePointer<UInt32>
    private static let lockStripes = 4096
    /// Guards `entry` and `maxLevel` during parallel inserts.
    private var entryLock: UInt32 = 0

    var entry: Int32 = -1
    var maxLevel = -1
    /// Live nodes.
    var count = 0
    /// Compressed copies of the rows that searches walk on (nil: they walk the float rows).
    private(set) var codes: HNSWCodes?
    private var random: SeededRandom
    let scratch: HNSWScratchPool

    static let maxLevels = 16

    init(dimension: Int, metric: Metric, settings: VectorIndexSettings) {
        self.dimension = dimension
        l2 = metric == .l2
        m = settings.m
        m0 = 2 * settings.m
        efConstruction = settings.efConstruction
        seed = settings.seed
        levelScale = 1 / log(Double(max(settings.m, 2)))
        random = SeededRandom(seed: settings.seed)
        scratch = HNSWScratchPool(maxDegree: 2 * settings.m)
        layer0 = LayerZeroLinks(maxDegree: 2 * settings.m)
        levels = .allocate(capacity: 1)
        dead = .allocate(capacity: 1)
        locks = .allocate(capacity: Self.lockStripes)
        locks.initialize(repeating: 0, count: Self.lockStripes)
    }

    deinit {
        for lists in upper.values { lists.deallocate() }
        levels.deallocate()
        dead.deallocate()
        locks.deallocate()
    }

    /// Bytes the graph holds (links, levels, flags, locks), without the vectors or their
    /// compressed copies (`codeBytes`). Layer 0 is counted as `LayerZeroLinks.bytes`; the upper
    /// layers' table at its slots (a key and a pointer each, the table kept at most three
    /// quarters full), each upper list at its words plus malloc's 16-byte header.
    var bytes: Int {
        var total = capacity * (1 + 1) + layer0.bytes + Self.lockStripes * 4
        total += upper.capacity * 4 / 3 * (4 + 8)
        for (n, _) in upper { total += Int(levels[Int(n)]) * (m + 1) * 4 + 16 }
        return total
    }

    /// Makes room for nodes `0 ..< rows`. New rows are not nodes until inserted.
    func reserve(rows: Int) {
        guard rows > capacity else { return }
        let new = max(rows, capacity + capacity / 2, 64)
        func grow<T>(_ p: inout UnsafeMutablePointer<T>, per: Int, fill: T?) {
            let q = UnsafeMutablePointer<T>.allocate(capacity: new * per)
            q.moveInitialize(from: p, count: capacity * per)
            if let fill { (q + capacity * per).initialize(repeating: fill, count: (new - capacity) * per) }
            p.deallocate()
            p = q
        }
        layer0.reserve(rows: new)
        grow(&levels, per: 1, fill: -1)
        grow(&dead, per: 1, fill: 0)
        codes?.reserve(rows: new)
        capacity = new
    }

    /// Bytes the compressed copies of the rows take (0 without compression).
    var codeBytes: Int { codes?.bytes ?? 0 }

    /// Bytes one row's compressed copy takes (0 without compression).
    var codeBytesPerRow: Int { codes?.bytesPerRow ?? 0 }

    /// What the walks read: the kind of the compressed copies, `.none` without them.
    var compression: VectorIndexSettings.Compression { codes?.kind ?? .none }

    /// Makes searches walk on compressed copies of the rows (`.none`: on the rows themselves),
    /// encoding every node's row now. Caller holds the write lock.
    func compress(_ kind: VectorIndexSettings.Compression, rows: GraphRows) {
        guard kind != .none else {
            codes = nil
            return
        }
        let c = HNSWCodes(kind: kind, dimension: dimension, l2: l2)
        c.reserve(rows: capacity)
        codes = c
        encodeAll(c, rows: rows)
    }

    /// Trains `codes` (int8) on the live nodes and encodes every node's row.
    private func encodeAll(_ codes: HNSWCodes, rows: GraphRows) {
        let nodes = (0..<capacity).filter { isNode($0) }
        codes.train(nodes: nodes.filter { dead[$0] == 0 }, rows: rows)
        for n in nodes { codes.encode(n, from: rows.row(UInt32(n))) }
    }

    /// The parameters a graph restored from this one's saved file makes its copies with
    /// (`compress` trains on the same live nodes, in the same order), whatever this graph's own
    /// copies were trained on: what the store image saves for a mapped walk. Nil for `.none`.
    func restoredCodesParameters(_ kind: VectorIndexSettings.Compression, rows: GraphRows) -> CodesParameters? {
        guard kind != .none else { return nil }
        let c = HNSWCodes(kind: kind, dimension: dimension, l2: l2)
        c.train(nodes: (0..<capacity).filter { isLive($0) }, rows: rows)
        return c.parameters
    }

    /// Walks on `codes`, whose copies the caller makes as rows are read (a mapped image).
    func attach(_ codes: HNSWCodes) { self.codes = codes }

    @inline(__always)
    func isNode(_ n: Int) -> Bool { n < capacity && levels[n] >= 0 }

    /// Node n's top layer (-1: not a node).
    @inline(__always)
    func level(_ n: Int) -> Int { Int(levels[n]) }

    /// Marks a live node dead (see `remove`).
    func markDead(_ n: Int) {
        dead[n] = 1
        count -= 1
    }

    /// Makes the entry a live node on the highest layer, or none when no node is live.
    /// O(rows): needed only when the entry itself is removed.
    func chooseEntry() {
        entry = -1
        maxLevel = -1
        for n in 0..<capacity where isLive(n) && Int(levels[n]) > maxLevel {
            entry = Int32(n)
            maxLevel = Int(levels[n])
        }
    }

    @inline(__always)
    func isLive(_ n: Int) -> Bool { n < capacity && levels[n] >= 0 && dead[n] == 0 }

    /// Node n's list on upper `layer` (1 or more): [count, neighbours...].
    @inline(__always)
    func upperList(_ n: UInt32, _ layer: Int) -> UnsafeMutablePointer<UInt32> {
        assert(layer >= 1 && layer <= Int(levels[Int(n)]), "HNSW: node \(n) (top layer \(levels[Int(n)])) has no layer \(layer)")
        return upper[n]! + (layer - 1) * (m + 1)
    }

    /// Node n's links on `layer`.
    func links(_ n: UInt32, _ layer: Int) -> [UInt32] {
        if layer == 0 { return layer0.list(Int(n)) }
        let l = upperList(n, layer)
        return (0..<Int(l[0])).map { l[1 + $0] }
    }

    /// Runs `body` on node n's list on `layer` for rewriting in place: its ids (room for
    /// `maxDegree(layer)`) and its count, which `body` may change. With `locked` (a parallel
    /// insert) the caller holds n's lock.
    @inline(__always)
    func rewriteList<R>(_ n: UInt32, _ layer: Int, locked: Bool,
                        _ body: (UnsafeMutablePointer<UInt32>, inout Int) -> R) -> R {
        if layer == 0 {
            let ids = layer0.writable(Int(n), mayGrow: !locked)
            var count = Int(layer0.degree[Int(n)])
            let result = body(ids, &count)
            layer0.setDegree(Int(n), count)
            return result
        }
        let l = upperList(n, layer)
        var count = Int(l[0])
        let result = body(l + 1, &count)
        l[0] = UInt32(count)
        return result
    }

    @inline(__always)
    func maxDegree(_ layer: Int) -> Int { layer == 0 ? m0 : m }

    /// The spin lock that guards node n's lists during a parallel insert.
    @inline(__always)
    private func lock(_ n: UInt32) -> UnsafeMutablePointer<UInt32> { locks + Int(n) % Self.lockStripes }

    @inline(__always)
    func distance(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>) -> Float {
        l2 ? strata_simd_l2sq(a, b, dimension) : -strata_simd_dot(a, b, dimension)
    }

    private func randomLevel() -> Int {
        min(Self.maxLevels - 1, Int(-log(random.uniform()) * levelScale))
    }

    // MARK: - Search

    /// The live nodes nearest `query`, nearest first, among those `accept` lets through.
    /// - Parameters:
    ///   - ef: candidates kept on layer 0 (at least k is used).
    ///   - accept: nil accepts every live node; called once per node that would enter the results.
    ///   - rescored: on a walk of compressed copies, how many of the nearest are scored again on
    ///     their float rows (default max(3k, 16)); the rest keep their approximate order and
    ///     distances. A caller that asks for more than it will return passes its own k's count.
    func search(_ query: UnsafePointer<Float>, rows: GraphRows, k: Int, ef: Int,
                accept: ((UInt32) -> Bool)? = nil, rescored: Int? = nil) -> [(node: UInt32, distance: Float)] {
        guard entry >= 0, k > 0 else { return [] }
        guard let codes else {
            return search(GraphWalk(rows: rows, query: query, codes: nil, constant: 0, l2: l2 ? 1 : 0),
                          floatQuery: query, k: k, ef: ef, accept: accept, rescored: 0)
        }
        let rescored = rescored ?? max(3 * k, 16)
        return codes.withWalk(from: query, rows: rows) {
            search($0, floatQuery: query, k: k, ef: ef, accept: accept, rescored: rescored)
        }
    }

    private func search(_ walk: GraphWalk, floatQuery query: UnsafePointer<Float>, k: Int, ef: Int,
                        accept: ((UInt32) -> Bool)?, rescored: Int) -> [(node: UInt32, distance: Float)] {
        scratch.withScratch(nodes: capacity) { s in
            var current = UInt32(entry)
            var currentDistance: Float = 0
            withUnsafePointer(to: current) { walk.distances($0, 1, &currentDistance) }
            if maxLevel > 0 {
                for layer in stride(from: maxLevel, through: 1, by: -1) {
                    greedy(walk, layer: layer, from: &current, distance: &currentDistance, scratch: s, locked: false)
                }
            }
            searchLayer(walk, from: current, fromDistance: currentDistance, layer: 0, ef: max(ef, k),
                        scratch: s, locked: false, exclude: nil, accept: accept)
            if walk.codes != nil {
                // Only the walk's nearest 3k are read again as floats: each is a whole float row
                // from memory. Measured at 100k x 384 (int8, k 10, ef 48): re-ranking all 48 kept
                // recall@10 0.9657 at 14,374 QPS per CPU second, the nearest 30 0.9654 at 15,958,
                // the nearest 20 0.9570.
                // A caller asking for more than it re-scores (k > rescored) gets the rest after
                // them, in the walk's order, farthest popped first.
                var tail: [UInt64] = []
                while s.results.count > max(rescored, k) { s.results.pop() }
                while s.results.count > rescored { tail.append(s.results.pop()) }
                rerank(query, rows: walk.rows, results: &s.results)
                while s.results.count > k - tail.count { s.results.pop() }
                return Self.nearestFirst(&s.results, then: tail.reversed())
            }
            while s.results.count > k { s.results.pop() }
            return Self.nearestFirst(&s.results, then: [UInt64]().reversed())
        }
    }

    /// Empties `results` into (node, distance) pairs, nearest first, followed by `tail`.
    private static func nearestFirst(_ results: inout KeyHeap, then tail: ReversedCollection<[UInt64]>) -> [(node: UInt32, distance: Float)] {
        let head = results.count
        var out = [(node: UInt32, distance: Float)](repeating: (0, 0), count: head + tail.count)
        var i = head - 1
        while !results.isEmpty {
            let key = results.pop()
            out[i] = (NodeKey.node(key), NodeKey.distance(key))
            i -= 1
        }
        for (j, key) in tail.enumerated() { out[head + j] = (NodeKey.node(key), NodeKey.distance(key)) }
        return out
    }

    /// Scores the nodes a walk on the codes kept by their float rows, so the hits come in the
    /// true order with exact distances.
    private func rerank(_ query: UnsafePointer<Float>, rows: GraphRows, results: inout KeyHeap) {
        var ids = [UInt32]()
        ids.reserveCapacity(results.count)
        while !results.isEmpty { ids.append(NodeKey.node(results.pop())) }
        var exact = [Float](repeating: 0, count: ids.count)
        strata_graph_distances(query, rows.base, dimension, ids, ids.count, l2 ? 1 : 0, &exact)
        for (node, d) in zip(ids, exact) { results.push(NodeKey.make(d, node)) }
    }

    /// Walks `layer` greedily from `current` to a local minimum of the distance to the query.
    private func greedy(_ walk: GraphWalk, layer: Int, from current: inout UInt32,
                        distance currentDistance: inout Float, scratch s: HNSWScratch, locked: Bool) {
        var changed = true
        while changed {
            changed = false
            let count = copyList(current, layer, into: s.list, locked: locked)
            walk.distances(s.list + 1, count, s.distances)
            for i in 0..<count where s.distances[i] < currentDistance {
                currentDistance = s.distances[i]
                current = s.list[1 + i]
                changed = true
            }
        }
    }

    /// Copies node n's list on `layer` into `out` (count first); returns the count. Under the
    /// node's lock when inserts run in parallel.
    @inline(__always)
    private func copyList(_ n: UInt32, _ layer: Int, into out: UnsafeMutablePointer<UInt32>, locked: Bool) -> Int {
        // A row reused after a removal may now sit on fewer layers than an old link to it
        // assumed: on a layer it no longer has, it has no links.
        if layer > 0, Int(levels[Int(n)]) < layer { return 0 }
        if locked { strata_spin_lock(lock(n)) }
        var count: Int
        if layer == 0 {
            count = layer0.copy(Int(n), into: out + 1)
            out[0] = UInt32(count)
        } else {
            let l = upperList(n, layer)
            count = Int(l[0])
            out.update(from: l, count: count + 1)
        }
        if locked { strata_spin_unlock(lock(n)) }
        if layer > 0 {
            // Likewise an old link on this layer may lead to a reused row that no longer
            // reaches it: skip such links.
            var kept = 0
            for i in 0..<count where Int(levels[Int(out[1 + i])]) >= layer {
                out[1 + kept] = out[1 + i]
                kept += 1
            }
            count = kept
        }
        return count
    }

    /// Best-first search of one layer from one entry node, keeping the `ef` nearest accepted
    /// nodes in `scratch.results` (a max-heap: the farthest on top).
    ///
    /// Every node reached is walked whether or not it is accepted or alive, so a filter or a
    /// removal never cuts the graph; only accepted live nodes enter the results.
    private func searchLayer(_ walk: GraphWalk, from start: UInt32, fromDistance: Float,
                             layer: Int, ef: Int, scratch s: HNSWScratch, locked: Bool, exclude: UInt32?,
                             accept: ((UInt32) -> Bool)?) {
        s.begin(nodes: capacity)
        // The hot loop works on locals: a class's stored properties are checked for exclusive
        // access at run time on every read, which cost more than the arithmetic here.
        let marks = s.marks, epoch = s.epoch
        let dead = self.dead, layer0 = self.layer0.reader
        let ids = s.ids, distances = s.distances
        var candidates = s.candidates, results = s.results
        defer {
            s.candidates = candidates
            s.results = results
        }
        if let exclude { marks[Int(exclude)] = epoch }
        marks[Int(start)] = epoch
        let startKey = NodeKey.make(fromDistance, start)
        candidates.push(startKey)
        if dead[Int(start)] == 0, start != exclude, accept?(start) ?? true { results.push(startKey) }
        var bound = results.count >= ef ? NodeKey.distance(results.top) : Float.infinity
        while !candidates.isEmpty {
            let nearest = candidates.pop()
            if NodeKey.distance(nearest) > bound { break }
            let node = NodeKey.node(nearest)
            // A search with no insert running beside it reads layer 0's list in place; otherwise
            // the list is copied under its node's lock (and filtered, on upper layers).
            let links: LayerZeroLinks.Location
            let count: Int
            if !locked, layer == 0 {
                links = layer0.location(Int(node))
                count = layer0.count(Int(node))
            } else {
                count = copyList(node, layer, into: s.list, locked: locked)
                links = LayerZeroLinks.Location(bytes: UnsafeRawPointer(s.list + 1), width: 4, mask: .max)
            }
            var fresh = 0
            var i = 0
            // Packed lists (3-byte ids) are the common case once a graph is built: their loop
            // has the width as a constant.
            if links.width == 3 {
                while i < count {
                    let next = links.bytes.loadUnaligned(fromByteOffset: 3 * i, as: UInt32.self) & 0xFF_FFFF
                    if marks[Int(next)] != epoch {
                        marks[Int(next)] = epoch
                        ids[fresh] = next
                        fresh += 1
                    }
                    i += 1
                }
            } else {
                while i < count {
                    let next = links.id(i)
                    if marks[Int(next)] != epoch {
                        marks[Int(next)] = epoch
                        ids[fresh] = next
                        fresh += 1
                    }
                    i += 1
                }
            }
            guard fresh > 0 else { continue }
            walk.distances(ids, fresh, distances)
            for i in 0..<fresh {
                let d = distances[i]
                guard results.count < ef || d < bound else { continue }
                let next = ids[i]
                let key = NodeKey.make(d, next)
                candidates.push(key)
                if dead[Int(next)] == 0, accept?(next) ?? true {
                    results.push(key)
                    if results.count > ef { results.pop() }
                    if results.count >= ef { bound = NodeKey.distance(results.top) }
                }
            }
            // The node expanded next is the nearest candidate: ask for its list now, so the
            // miss overlaps with the heap work instead of starting the next step.
            if !candidates.isEmpty {
                let top = Int(NodeKey.node(candidates.top))
                strata_graph_prefetch_list(layer0.location(top).bytes)
                strata_graph_prefetch_list(layer0.degree + top)
            }
        }
    }

    // MARK: - Insert

    /// Links rows `nodes` (already written into the matrix) into the graph. A row that is a dead
    /// node is made live again with fresh links. With `parallel`, the inserts run on every core.
    func insert(_ nodes: [Int], rows: GraphRows, parallel: Bool) {
        guard !nodes.isEmpty else { return }
        reserve(rows: (nodes.max() ?? 0) + 1)
        // Layers are drawn in order, so a seed gives the same layers however the work is split.
        let layers = nodes.map { _ in randomLevel() }
        for (n, layer) in zip(nodes, layers) { prepare(n, layer: layer) }
        if let codes {
            if codes.wantsTraining(live: count) {
                encodeAll(codes, rows: rows)
            } else {
                for n in nodes { codes.encode(n, from: rows.row(UInt32(n))) }
            }
        }
        // A big batch walks on int8 copies even when searches walk the float rows: the walks of
        // an insert are most of a build's time, and a copy a quarter the size makes each
        // distance cheaper. The candidates a walk finds are scored on the float rows before the
        // links are chosen, so the links are chosen as on the floats. The copies go when the
        // batch is linked. Measured at 100k x 384 (2 threads, ef_construction 200): see
        // bench/README.md, "Approximate search".
        var walkCodes = codes
        if walkCodes == nil, nodes.count >= Self.buildCodesFrom, nodes.count * 2 >= count {
            let c = HNSWCodes(kind: .int8, dimension: dimension, l2: l2)
            c.reserve(rows: capacity)
            encodeAll(c, rows: rows)
            walkCodes = c
        }
        // Lists rewritten since the last pack are loose (`LayerZeroLinks`); pack them once the
        // batch is linked if they have grown enough to pay for it.
        defer { layer0.packIfWorthIt() }
        let threads = parallel ? min(ExactScan.cores, nodes.count / 64) : 1
        if threads <= 1 {
            for (n, layer) in zip(nodes, layers) { link(UInt32(n), layer: layer, rows: rows, locked: false, codes: walkCodes) }
            return
        }
        // While the graph is small, nodes go in one at a time, so the parallel part starts from
        // a graph with some shape rather than from threads racing to link an empty one.
        let head = min(nodes.count, max(0, 256 - (count - nodes.count)))
        for i in 0..<head { link(UInt32(nodes[i]), layer: layers[i], rows: rows, locked: false, codes: walkCodes) }
        let rest = nodes.count - head
        // Threads cannot grow the loose lists' arena under each other. Each inserted node
        // rewrites its own list and those of at most m live nodes on layer 0, and a node takes
        // one slot at most (unwritten slots are never touched, so never resident).
        layer0.reserveLoose(extra: min(count, rest * (m + 1)))
        let next = UnsafeMutablePointer<Int>.allocate(capacity: 1)
        next.initialize(to: head)
        defer { next.deallocate() }
        parallelFor(threads) { _ in
            while true {
                let i = strata_fetch_add(next)
                guard i < head + rest else { return }
                link(UInt32(nodes[i]), layer: layers[i], rows: rows, locked: true, codes: walkCodes)
            }
        }
    }

    /// Gives row n a fresh, empty set of lists on layers 0...layer; not yet reachable.
    private func prepare(_ n: Int, layer: Int) {
        upper.removeValue(forKey: UInt32(n))?.deallocate()
        if layer > 0 {
            let lists = UnsafeMutablePointer<UInt32>.allocate(capacity: layer * (m + 1))
            lists.initialize(repeating: 0, count: layer * (m + 1))
            upper[UInt32(n)] = lists
        }
        layer0.setDegree(n, 0)
        precondition(!isLive(n), "HNSW: row \(n) is linked already; remove it before linking it again")
        levels[n] = Int8(layer)
        dead[n] = 0
        count += 1
    }

    /// Batches from this size on walk on int8 copies while they are linked (see `insert`).
    static let buildCodesFrom = 4096

    private func link(_ node: UInt32, layer: Int, rows: GraphRows, locked: Bool, codes: HNSWCodes?) {
        let query = rows.row(node)
        if locked { strata_spin_lock(&entryLock) }
        let top = maxLevel
        let start = entry
        // A node above the top layer becomes the entry; hold the lock through its insert so
        // nobody starts from an entry whose lists are still empty (as hnswlib does).
        let raisesTop = layer > top
        if locked, !raisesTop { strata_spin_unlock(&entryLock) }
        defer { if locked, raisesTop { strata_spin_unlock(&entryLock) } }
        // The entry is never a node being linked: removals and updates move it away first.
        if start < 0 {
            entry = Int32(node)
            maxLevel = layer
            return
        }
        if let codes {
            codes.withWalk(from: query, rows: rows) { linkWalking($0, node, layer: layer, top: top, start: start, rows: rows, locked: locked) }
        } else {
            linkWalking(GraphWalk(rows: rows, query: query, codes: nil, constant: 0, l2: l2 ? 1 : 0),
                        node, layer: layer, top: top, start: start, rows: rows, locked: locked)
        }
        if raisesTop {
            entry = Int32(node)
            maxLevel = layer
        }
    }

    /// Finds node's neighbours on each of its layers by `walk` and links them. Links are chosen
    /// on the float rows, whatever the walk reads: a walk on codes has its candidates scored
    /// again on the floats first.
    private func linkWalking(_ walk: GraphWalk, _ node: UInt32, layer: Int, top: Int, start: Int32, rows: GraphRows, locked: Bool) {
        let query = rows.row(node)
        scratch.withScratch(nodes: capacity) { s in
            var current = UInt32(start)
            var currentDistance: Float = 0
            withUnsafePointer(to: current) { walk.distances($0, 1, &currentDistance) }
            if top > layer {
                for l in stride(from: top, through: layer + 1, by: -1) {
                    greedy(walk, layer: l, from: &current, distance: &currentDistance, scratch: s, locked: locked)
                }
            }
            for l in stride(from: min(layer, top), through: 0, by: -1) {
                searchLayer(walk, from: current, fromDistance: currentDistance, layer: l, ef: efConstruction,
                            scratch: s, locked: locked, exclude: node, accept: nil)
                var found = [UInt64]()
                found.reserveCapacity(s.results.count)
                while !s.results.isEmpty { found.append(s.results.pop()) }
                if walk.codes != nil {
                    let ids = found.map { NodeKey.node($0) }
                    var exact = [Float](repeating: 0, count: ids.count)
                    strata_graph_distances(query, rows.base, dimension, ids, ids.count, l2 ? 1 : 0, &exact)
                    for i in found.indices { found[i] = NodeKey.make(exact[i], ids[i]) }
                    found.sort()
                } else {
                    found.reverse()  // nearest first
                }
                let chosen = selectNeighbours(of: query, from: found, max: m, rows: rows)
                if let first = chosen.first {
                    current = NodeKey.node(first)
                    // The next layer's walk compares its own distances with this one.
                    withUnsafePointer(to: current) { walk.distances($0, 1, &currentDistance) }
                }
                connect(node, to: chosen, layer: l, rows: rows, locked: locked)
            }
        }
    }

    /// The neighbour-selection heuristic (the paper's algorithm 4): take candidates nearest
    /// first, and keep one only if it is nearer to the base than to every one kept so far, so
    /// the links spread in different directions instead of crowding into one cluster.
    /// - Parameter candidates: keys (distance to the base, node), nearest first.
    func selectNeighbours(of base: UnsafePointer<Float>, from candidates: [UInt64], max limit: Int, rows: GraphRows) -> [UInt64] {
        guard candidates.count > limit else { return candidates }
        var kept = [UInt64]()
        kept.reserveCapacity(limit)
        for c in candidates {
            let node = NodeKey.node(c)
            let toBase = NodeKey.distance(c)
            var good = true
            for k in kept where distance(rows.row(node), rows.row(NodeKey.node(k))) < toBase {
                good = false
                break
            }
            if good {
                kept.append(c)
                if kept.count == limit { break }
            }
        }
        return kept
    }

    /// Sets node's list on `layer` to `chosen` and adds node to each chosen neighbour's list,
    /// re-selecting that neighbour's links when its list is full.
    private func connect(_ node: UInt32, to chosen: [UInt64], layer: Int, rows: GraphRows, locked: Bool) {
        if locked { strata_spin_lock(lock(node)) }
        rewriteList(node, layer, locked: locked) { ids, count in
            count = chosen.count
            for (i, c) in chosen.enumerated() { ids[i] = NodeKey.node(c) }
        }
        if locked { strata_spin_unlock(lock(node)) }
        for c in chosen {
            addLink(from: NodeKey.node(c), to: node, distance: NodeKey.distance(c), layer: layer, rows: rows, locked: locked)
        }
    }

    /// Adds `to` to `from`'s list on `layer`; when the list is full, keeps the best by the
    /// selection heuristic among the old links and the new one.
    private func addLink(from: UInt32, to: UInt32, distance d: Float, layer: Int, rows: GraphRows, locked: Bool) {
        if locked { strata_spin_lock(lock(from)) }
        defer { if locked { strata_spin_unlock(lock(from)) } }
        rewriteList(from, layer, locked: locked) { l, count in
            for i in 0..<count where l[i] == to { return }
            let limit = maxDegree(layer)
            if count < limit {
                l[count] = to
                count += 1
                return
            }
            let base = rows.row(from)
            var candidates = [NodeKey.make(d, to)]
            candidates.reserveCapacity(count + 1)
            for i in 0..<count {
                let other = l[i]
                candidates.append(NodeKey.make(distance(base, rows.row(other)), other))
            }
            candidates.sort()
            let kept = selectNeighbours(of: base, from: candidates, max: limit, rows: rows)
            count = kept.count
            for (i, k) in kept.enumerated() { l[i] = NodeKey.node(k) }
        }
    }
}

