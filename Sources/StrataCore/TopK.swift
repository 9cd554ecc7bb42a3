/// Keeps the k highest-scoring items seen so far in a binary min-heap.
/// Insert is O(log k); ties keep the item seen first.
///
/// `@inlinable` so that callers in other modules (the search kernels) get a specialised copy:
/// unspecialised, every heap operation looked up the element tuple's metadata in the runtime's
/// global, locked cache, which dominated filtered search on two threads.
public struct TopK<Item> {
    public let k: Int
    @usableFromInline var heap: [(item: Item, score: Double, order: Int)] = []
    @usableFromInline var seen = 0

    @inlinable
    public init(k: Int) {
        self.k = max(0, k)
        heap.reserveCapacity(min(self.k, 4096))
    }

    /// The lowest score kept, once k items are kept; otherwise -infinity.
    @inlinable
    public var threshold: Double { heap.count < k ? -.infinity : heap[0].score }

    @inlinable
    public var count: Int { heap.count }

    // Lower score first; among equal scores the later one is "lower", so it is evicted first.
    @inlinable
    func less(_ a: Int, _ b: Int) -> Bool {
        heap[a].score < heap[b].score || (heap[a].score == heap[b].score && heap[a].order > heap[b].order)
    }

    @inlinable
    public mutating func insert(_ item: Item, score: Double) {
        seen += 1
        guard k > 0 else { return }
        if heap.count < k {
            heap.append((item, score, seen))
            var i = heap.count - 1
            while i > 0 {
                let p = (i - 1) / 2
                guard less(i, p) else { break }
                heap.swapAt(i, p)
                i = p
            }
        } else if score > heap[0].score {
            heap[0] = (item, score, seen)
            var i = 0
            while true {
                let l = 2 * i + 1, r = l + 1
                var m = i
                if l < heap.count, less(l, m) { m = l }
                if r < heap.count, less(r, m) { m = r }
                if m == i { break }
                heap.swapAt(i, m)
                i = m
            }
        }
    }

    /// Best first.
    @inlinable
    public func sortedDescending() -> [(item: Item, score: Double)] {
        heap.sorted { $0.score > $1.score || ($0.score == $1.score && $0.order < $1.order) }.map { ($0.item, $0.score) }
    }
}
