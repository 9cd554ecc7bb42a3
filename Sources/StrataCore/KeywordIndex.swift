/// An in-memory inverted index with Okapi BM25 ranking (k1 = 1.2, b = 0.75) and top-k retrieval
/// that skips what cannot reach the top (block-max WAND).
///
/// The score of a document d for a query with distinct keywords t is
/// `sum over t in d of idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(d) / avgLength))`,
/// with `idf(t) = log(1 + (n - df(t) + 0.5) / (df(t) + 0.5))`, n the documents indexed, df(t)
/// those holding t, len(d) the keywords of d and avgLength their mean (at least 1). The terms are
/// summed in the order of their spelling, so a score is the same double whichever way it is found.
///
/// **Order.** Best score first; among equal scores, the document added earlier first (re-adding
/// an id, as an update does, makes it the latest). `searchExhaustive` ranks the same way.
///
/// **Layout.** Each document gets a slot, in the order documents are added. Each word keeps its
/// postings, (slot, tf) pairs in slot order, in blocks of `blockSize`, and per block the largest
/// tf and the shortest document. At query time a block's bound is the BM25 term score of that
/// largest tf in that shortest document under the current n and avgLength: a true upper bound
/// for every posting in the block, however the collection has grown since the block was written.
///
/// **Removal is lazy.** Removing a document frees its id and updates df, n and the total length
/// at once (so scores are exact at every moment), and leaves its postings in place, dead; search
/// skips them. When dead postings outnumber live ones, or dead slots live documents, the index
/// is rebuilt without them (renumbering slots in the same order), so a removal costs O(its
/// keywords) amortised and dead postings never more than double the work of a search.
///
/// Not thread-safe: the owner guards it (a value type: copies are independent).
public struct KeywordIndex: Sendable {
    public static let k1: Double = 1.2
    public static let b: Double = 0.75
    /// Postings per block: the unit that search skips without reading.
    public static let blockSize = 128

    /// One word's postings, in slot order, and its blocks.
    struct Postings: Sendable {
        var slots: [Int32] = []
        var tfs: [Int32] = []
        /// Per block: its last slot, its largest tf, its shortest document (dead ones included:
        /// a bound over more documents is still a bound).
        var blockLast: [Int32] = []
        var blockMaxTF: [Int32] = []
        var blockMinLength: [Int32] = []
        /// Live documents holding the word: df.
        var live = 0

        mutating func append(slot: Int32, tf: Int32, length: Int32) {
            if slots.count % KeywordIndex.blockSize == 0 {
                blockLast.append(slot)
                blockMaxTF.append(tf)
                blockMinLength.append(length)
            } else {
                let last = blockLast.count - 1
                blockLast[last] = slot
                blockMaxTF[last] = max(blockMaxTF[last], tf)
                blockMinLength[last] = min(blockMinLength[last], length)
            }
            slots.append(slot)
            tfs.append(tf)
        }
    }

    private var termOf: [String: Int32] = [:]
    private var postings: [Postings] = []
    private var slotOf: [String: Int32] = [:]
    /// Per slot: the id (nil once removed), the keyword count, the words (for df on removal).
    private var ids: [String?] = []
    private var lengths: [Int32] = []
    private var termsOf: [[Int32]] = []
    private var totalLength = 0
    private var livePostings = 0
    private var deadPostings = 0

    public init() {}

    /// Documents indexed.
    public var count: Int { slotOf.count }

    /// Indexes (or re-indexes) a document. O(its keywords), amortised.
    public mutating func add(id: String, text: String) {
        remove(id: id)
        let words = Tokenizer.keywords(text)
        var tf: [String: Int32] = [:]
        for w in words { tf[w, default: 0] += 1 }
        precondition(ids.count < Int(Int32.max), "KeywordIndex holds at most \(Int32.max) slots")
        let slot = Int32(ids.count)
        let length = Int32(clamping: words.count)
        var terms: [Int32] = []
        terms.reserveCapacity(tf.count)
        for (word, n) in tf {
            let t: Int32
            if let known = termOf[word] {
                t = known
            } else {
                t = Int32(postings.count)
                termOf[word] = t
                postings.append(Postings())
            }
            postings[Int(t)].append(slot: slot, tf: n, length: length)
            postings[Int(t)].live += 1
            terms.append(t)
        }
        ids.append(id)
        lengths.append(length)
        termsOf.append(terms)
        slotOf[id] = slot
        totalLength += words.count
        livePostings += terms.count
    }

    /// Forgets a document (nothing when the id is unknown). O(its keywords), amortised.
    public mutating func remove(id: String) {
        guard let slot = slotOf.removeValue(forKey: id) else { return }
        let s = Int(slot)
        for t in termsOf[s] { postings[Int(t)].live -= 1 }
        livePostings -= termsOf[s].count
        deadPostings += termsOf[s].count
        totalLength -= Int(lengths[s])
        ids[s] = nil
        termsOf[s] = []
        if deadPostings > livePostings || ids.count - slotOf.count > slotOf.count { compact() }
    }

    /// Rebuilds without the removed documents, keeping the live ones in slot order (so the order
    /// among equal scores does not change). O(postings + slots).
    private mutating func compact() {
        var newSlot = [Int32](repeating: -1, count: ids.count)
        var newIDs: [String?] = []
        var newLengths: [Int32] = []
        newIDs.reserveCapacity(slotOf.count)
        newLengths.reserveCapacity(slotOf.count)
        for (s, id) in ids.enumerated() {
            guard let id else { continue }
            newSlot[s] = Int32(newIDs.count)
            slotOf[id] = Int32(newIDs.count)
            newIDs.append(id)
            newLengths.append(lengths[s])
        }
        var newTerm = [Int32](repeating: -1, count: postings.count)
        var newPostings: [Postings] = []
        var newTermOf: [String: Int32] = [:]
        for (word, t) in termOf where postings[Int(t)].live > 0 {
            newTerm[Int(t)] = Int32(newPostings.count)
            newTermOf[word] = Int32(newPostings.count)
            let old = postings[Int(t)]
            var p = Postings()
            p.live = old.live
            p.slots.reserveCapacity(old.live)
            p.tfs.reserveCapacity(old.live)
            for (slot, tf) in zip(old.slots, old.tfs) where newSlot[Int(slot)] >= 0 {
                let s = newSlot[Int(slot)]
                p.append(slot: s, tf: tf, length: newLengths[Int(s)])
            }
            newPostings.append(p)
        }
        var newTermsOf: [[Int32]] = []
        newTermsOf.reserveCapacity(newIDs.count)
        for (s, terms) in termsOf.enumerated() where newSlot[s] >= 0 {
            newTermsOf.append(terms.map { newTerm[Int($0)] })
        }
        ids = newIDs
        lengths = newLengths
        termsOf = newTermsOf
        postings = newPostings
        termOf = newTermOf
        deadPostings = 0
    }

    /// The query's known words in the canonical (spelling) order, with their idf.
    private func queryTerms(_ query: String) -> [(term: Int, idf: Double)] {
        let n = Double(slotOf.count)
        return Set(Tokenizer.keywords(query)).sorted().compactMap { word in
            guard let t = termOf[word], postings[Int(t)].live > 0 else { return nil }
            let df = Double(postings[Int(t)].live)
            return (Int(t), log(1 + (n - df + 0.5) / (df + 0.5)))
        }
    }

    private var averageLength: Double { max(Double(totalLength) / Double(slotOf.count), 1) }

    /// One term's BM25 score. Every score and every bound goes through this one expression, so
    /// a bound (largest tf, shortest length) is never below a score it covers: with idf, tf and
    /// the norm positive, each operation rounds monotonically in the length, and in tf the real
    /// gap between consecutive integers is far above one rounding.
    @inline(__always)
    static func termScore(idf: Double, tf: Int32, length: Int32, averageLength: Double) -> Double {
        let f = Double(tf)
        let norm = k1 * (1 - b + b * Double(length) / averageLength)
        return idf * f * (k1 + 1) / (f + norm)
    }

    /// The k best documents for `query` by BM25 among those `accept` lets through, best first
    /// (ties: the earlier added first). The same list as `searchExhaustive`.
    ///
    /// `accept` is asked only about documents whose score would enter the current top k, so a
    /// filter costs little when the top is found early.
    ///
    /// Complexity: skips every block whose bound cannot beat the k-th best score so far, and every
    /// document whose query words' bounds together cannot: in practice it grows with k and the
    /// postings of the rarest query words, and reads O(postings / blockSize) block bounds of the
    /// others; at worst (k beyond the matches, or a filter that refuses nearly everything) it is
    /// the exhaustive O(sum of postings · log(query words)).
    public func search(_ query: String, k: Int, accept: (String) -> Bool = { _ in true }) -> [(id: String, score: Double)] {
        guard k > 0, !slotOf.isEmpty else { return [] }
        // Every match is kept: nothing to skip.
        if k >= slotOf.count { return searchExhaustive(query, k: k, accept: accept) }
        let terms = queryTerms(query)
        guard !terms.isEmpty else { return [] }
        let avg = averageLength
        let m = terms.count
        var cursors: [Cursor] = terms.map { Cursor(postings[$0.term], idf: $0.idf, averageLength: avg) }
        // The pivot step sums bounds in slot order, not in the canonical order a score is summed
        // in: widen them by more than the rounding of m additions either way.
        let slack = 1 + 4 * Double(m) * Double.ulpOfOne
        let widened = cursors.map { $0.bound * slack }
        var order = Array(0..<m).filter { !cursors[$0].exhausted }
        var inPrefix = [Bool](repeating: false, count: m)
        var top = TopK<Int32>(k: k)
        while !order.isEmpty {
            // Sorted by current slot: few terms, nearly sorted from the last round.
            for i in 1..<max(order.count, 1) {
                let t = order[i]
                let slot = cursors[t].slot
                var j = i
                while j > 0, cursors[order[j - 1]].slot > slot {
                    order[j] = order[j - 1]
                    j -= 1
                }
                order[j] = t
            }
            let threshold = top.threshold
            // Pivot: the first slot at which the terms so far could together beat the threshold.
            // A document before it holds only earlier terms, whose bounds sum to no more.
            var sum = 0.0
            var p = -1
            for (j, t) in order.enumerated() {
                sum += widened[t]
                if sum > threshold {
                    p = j
                    break
                }
            }
            guard p >= 0 else { break }
            let pivot = cursors[order[p]].slot
            while p + 1 < order.count, cursors[order[p + 1]].slot == pivot { p += 1 }
            // Block bounds of the terms up to the pivot, in canonical order: exact against a score.
            for j in 0...p { inPrefix[order[j]] = true }
            var bound = 0.0
            var next = p + 1 < order.count ? cursors[order[p + 1]].slot : Int32.max
            for t in 0..<m where inPrefix[t] {
                let (blockBound, blockEnd) = cursors[t].blockBound(covering: pivot)
                bound += blockBound
                next = min(next, blockEnd)
            }
            for j in 0...p { inPrefix[order[j]] = false }
            if bound <= threshold {
                // No document in [pivot, next) holds other terms or beats the bound; an equal score
                // loses to the earlier slots already kept.
                for j in 0...p { cursors[order[j]].advance(to: next) }
            } else {
                for j in 0...p { cursors[order[j]].advance(to: pivot) }
                if let id = ids[Int(pivot)] {
                    var score = 0.0
                    for t in 0..<m where cursors[t].slot == pivot {
                        score += Self.termScore(idf: cursors[t].idf, tf: cursors[t].tf, length: lengths[Int(pivot)], averageLength: avg)
                    }
                    if score > threshold, accept(id) { top.insert(pivot, score: score) }
                }
                for j in 0...p where cursors[order[j]].slot == pivot { cursors[order[j]].step() }
            }
            order.removeAll { cursors[$0].exhausted }
        }
        return top.sortedDescending().map { (id: ids[Int($0.item)]!, score: $0.score) }
    }

    /// The reference for `search`: scores every posting of every query word, then keeps the k
    /// best accepted in slot order. Same scores, same order. O(sum of postings + slots); for
    /// tests and benchmarks.
    public func searchExhaustive(_ query: String, k: Int, accept: (String) -> Bool = { _ in true }) -> [(id: String, score: Double)] {
        guard k > 0, !slotOf.isEmpty else { return [] }
        let terms = queryTerms(query)
        guard !terms.isEmpty else { return [] }
        let avg = averageLength
        var scores = [Double](repeating: 0, count: ids.count)
        for (t, idf) in terms {
            let list = postings[t]
            for (slot, tf) in zip(list.slots, list.tfs) where ids[Int(slot)] != nil {
                scores[Int(slot)] += Self.termScore(idf: idf, tf: tf, length: lengths[Int(slot)], averageLength: avg)
            }
        }
        var top = TopK<Int32>(k: k)
        for (slot, score) in scores.enumerated() where score > 0 {
            if let id = ids[slot], score > top.threshold, accept(id) { top.insert(Int32(slot), score: score) }
        }
        return top.sortedDescending().map { (id: ids[Int($0.item)]!, score: $0.score) }
    }

    /// A query term's position in its postings during `search`.
    struct Cursor {
        let slots: [Int32]
        let tfs: [Int32]
        let blockLast: [Int32]
        /// This query's bound per block, and their maximum.
        let blockBounds: [Double]
        let bound: Double
        let idf: Double
        var position = 0
        /// The block `blockBound(covering:)` last looked at; only moves forward.
        var shallow = 0

        init(_ p: Postings, idf: Double, averageLength: Double) {
            slots = p.slots
            tfs = p.tfs
            blockLast = p.blockLast
            blockBounds = (0..<p.blockLast.count).map { i in
                KeywordIndex.termScore(idf: idf, tf: p.blockMaxTF[i], length: p.blockMinLength[i], averageLength: averageLength)
            }
            bound = blockBounds.max() ?? 0
            self.idf = idf
        }

        var exhausted: Bool { position >= slots.count }
        /// The current slot; Int32.max once exhausted.
        var slot: Int32 { position < slots.count ? slots[position] : .max }
        var tf: Int32 { tfs[position] }

        mutating func step() { position += 1 }

        /// The bound of the block that would hold `target`, and the first slot after that block
        /// (0 and Int32.max when the list ends before `target`).
        mutating func blockBound(covering target: Int32) -> (Double, Int32) {
            shallow = max(shallow, position / KeywordIndex.blockSize)
            while shallow < blockLast.count, blockLast[shallow] < target { shallow += 1 }
            guard shallow < blockLast.count else { return (0, .max) }
            return (blockBounds[shallow], blockLast[shallow] + 1)
        }

        /// Moves to the first posting at or after `target`.
        mutating func advance(to target: Int32) {
            guard position < slots.count, slots[position] < target else { return }
            var block = position / KeywordIndex.blockSize
            while block < blockLast.count, blockLast[block] < target { block += 1 }
            guard block < blockLast.count else {
                position = slots.count
                return
            }
            var lo = max(position, block * KeywordIndex.blockSize)
            var hi = min(slots.count, (block + 1) * KeywordIndex.blockSize)
            while lo < hi {
                let mid = (lo + hi) / 2
                if slots[mid] < target { lo = mid + 1 } else { hi = mid }
            }
            position = lo
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
