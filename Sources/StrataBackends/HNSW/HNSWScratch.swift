import StrataCore

/// A (distance, node) pair packed into one integer that sorts as the pair does: the distance's
/// bits made monotone in the high half, the node in the low half. Heaps of these compare one
/// `UInt64` instead of a float and a tie-break, and ties go to the lower node.
struct NodeKey {
    @inline(__always)
    static func make(_ distance: Float, _ node: UInt32) -> UInt64 {
        let b = distance.bitPattern
        let ordered = b & 0x8000_0000 != 0 ? ~b : b | 0x8000_0000
        return UInt64(ordered) << 32 | UInt64(node)
    }

    @inline(__always)
    static func node(_ key: UInt64) -> UInt32 { UInt32(truncatingIfNeeded: key) }

    @inline(__always)
    static func distance(_ key: UInt64) -> Float {
        let ordered = UInt32(truncatingIfNeeded: key >> 32)
        return Float(bitPattern: ordered & 0x8000_0000 != 0 ? ordered & 0x7FFF_FFFF : ~ordered)
    }
}

/// A binary heap of `NodeKey`s on memory it owns; `max` chooses which end is on top.
/// Not copyable in spirit: it lives inside one `HNSWScratch` and is reset, never reallocated,
/// between searches (it grows only when a search needs more room).
struct KeyHeap {
    private(set) var items: UnsafeMutablePointer<UInt64>
    private(set) var count = 0
    private var capacity: Int
    private let max: Bool

    init(max: Bool, capacity: Int = 256) {
        self.max = max
        self.capacity = capacity
        items = .allocate(capacity: capacity)
    }

    func deallocate() { items.deallocate() }

    @inline(__always) var isEmpty: Bool { count == 0 }
    @inline(__always) var top: UInt64 { items[0] }

    mutating func removeAll() { count = 0 }

    @inline(__always)
    private func above(_ a: UInt64, _ b: UInt64) -> Bool { max ? a > b : a < b }

    mutating func push(_ key: UInt64) {
        if count == capacity {
            let bigger = UnsafeMutablePointer<UInt64>.allocate(capacity: capacity * 2)
            bigger.update(from: items, count: count)
            items.deallocate()
            items = bigger
            capacity *= 2
        }
        var i = count
        count += 1
        while i > 0 {
            let parent = (i - 1) >> 1
            guard above(key, items[parent]) else { break }
            items[i] = items[parent]
            i = parent
        }
        items[i] = key
    }

    @discardableResult
    mutating func pop() -> UInt64 {
        let out = items[0]
        count -= 1
        guard count > 0 else { return out }
        let key = items[count]
        var i = 0
        while true {
            var child = 2 * i + 1
            guard child < count else { break }
            if child + 1 < count, above(items[child + 1], items[child]) { child += 1 }
            guard above(items[child], key) else { break }
            items[i] = items[child]
            i = child
        }
        items[i] = key
        return out
    }
}

/// What one search or insert needs besides the graph: visit marks, the two heaps, and buffers
/// for a neighbour list and its distances. Kept in a pool and reused, so a warm search allocates
/// nothing.
final class HNSWScratch {
    /// Visit marks: node n was seen in this search when `marks[n] == epoch`. Bumping the epoch
    /// clears every mark at once; the array is zeroed only when the epoch wraps.
    private(set) var marks: UnsafeMutablePointer<UInt16>
    private(set) var markCapacity: Int
    private(set) var epoch: UInt16 = 0
    var candidates = KeyHeap(max: false)
    var results = KeyHeap(max: true)
    /// A node's neighbours not yet visited, and their distances.
    let ids: UnsafeMutablePointer<UInt32>
    let distances: UnsafeMutablePointer<Float>
    /// A copy of one neighbour list (inserts read lists under the node's lock, then work on the copy).
    let list: UnsafeMutablePointer<UInt32>
    let listCapacity: Int

    init(nodes: Int, maxDegree: Int) {
        markCapacity = Swift.max(nodes, 1)
        marks = .allocate(capacity: markCapacity)
        marks.initialize(repeating: 0, count: markCapacity)
        listCapacity = maxDegree + 1
        ids = .allocate(capacity: listCapacity)
        distances = .allocate(capacity: listCapacity)
        list = .allocate(capacity: listCapacity)
    }

    deinit {
        marks.deallocate()
        candidates.deallocate()
        results.deallocate()
        ids.deallocate()
        distances.deallocate()
        list.deallocate()
    }

    /// Starts a search over `nodes` nodes: every node unmarked.
    func begin(nodes: Int) {
        if nodes > markCapacity {
            marks.deallocate()
            markCapacity = Swift.max(nodes, markCapacity * 2)
            marks = .allocate(capacity: markCapacity)
            marks.initialize(repeating: 0, count: markCapacity)
            epoch = 0
        }
        epoch &+= 1
        if epoch == 0 {
            marks.update(repeating: 0, count: markCapacity)
            epoch = 1
        }
        candidates.removeAll()
        results.removeAll()
    }

    /// Marks `node` seen; returns whether it was unseen before.
    @inline(__always)
    func visit(_ node: UInt32) -> Bool {
        if marks[Int(node)] == epoch { return false }
        marks[Int(node)] = epoch
        return true
    }
}

/// Scratch spaces for concurrent searches: each search takes one and gives it back.
final class HNSWScratchPool: @unchecked Sendable {
    private let free = Guarded([HNSWScratch]())
    private let maxDegree: Int

    init(maxDegree: Int) { self.maxDegree = maxDegree }

    func withScratch<T>(nodes: Int, _ body: (HNSWScratch) -> T) -> T {
        let scratch = free.write { $0.popLast() } ?? HNSWScratch(nodes: nodes, maxDegree: maxDegree)
        defer { free.write { $0.append(scratch) } }
        return body(scratch)
    }
}
