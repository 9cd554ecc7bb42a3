/// An in-memory inverted index with Okapi BM25 ranking (k1 = 1.2, b = 0.75) and top-k retrieval
/// that skips what cannot reach the top (block-max MaxScore, see `search`).
///
/// The score of a document d for a query with distinct keywords t is
/// `sum over t in d of idf(t) * tf * (k1 + 1) / (tf + k1 * (1 - b + b * len(d) / avgLength))`,
/// with `idf(t) = log(1 + (n - df(t) + 0.5) / (df(t) + 0.5))`, n the documents indexed, df(t)
/// those holding t, len(d) the keywords of d and avgLength their mean (at least 1). The terms are
/// summed in the order of their spelling, so a score is the same double whichever way it is found.
///
/// **Order.** Best score first; among equal scores, the smaller id first (`String` order, as the
/// engine orders its hits), so the answer is the same whatever order the documents were added in,
/// in every process and store that indexes the same texts. `searchExhaustive` ranks the same way.
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
    /// Per slot: the id (nil once removed), the keyword count (-1 once removed: the one check
    /// search makes), the words (for df on removal).
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
        lengths[s] = -1
        termsOf[s] = []
        if deadPostings > livePostings || ids.count - slotOf.count > slotOf.count { compact() }
    }

    /// Rebuilds without the removed documents, keeping the live ones in slot order (so every
    /// posting list stays sorted). O(postings + slots).
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

    /// A document's length normalisation, `k1 * (1 - b + b * length / averageLength)`, for one
    /// search: a table for the common lengths (one division per length per query, not per
    /// posting), the same expression beyond it.
    struct LengthNorms {
        let averageLength: Double
        let table: [Double]

        init(averageLength: Double) {
            self.averageLength = averageLength
            table = (0..<256).map { Self.norm(Int32($0), averageLength) }
        }

        @inline(__always)
        static func norm(_ length: Int32, _ averageLength: Double) -> Double {
            KeywordIndex.k1 * (1 - KeywordIndex.b + KeywordIndex.b * Double(length) / averageLength)
        }

        @inline(__always)
        subscript(_ length: Int32) -> Double {
            length < 256 ? table[Int(length)] : Self.norm(length, averageLength)
        }
    }

    /// One term's BM25 score. Every score and every bound goes through this one expression, so
    /// a bound (largest tf, shortest length) is never below a score it covers: with idf, tf and
    /// the norm positive, each operation rounds monotonically in the length, and in tf the real
    /// gap between consecutive integers is far above one rounding.
    @inline(__always)
    static func termScore(idf: Double, tf: Int32, norm: Double) -> Double {
        let f = Double(tf)
        return idf * f * (k1 + 1) / (f + norm)
    }

    /// The k best documents for `query` by BM25 among those `accept` lets through, best first
    /// (ties: the smaller id first). The same list as `searchExhaustive`.
    ///
    /// Block-max MaxScore over windows: the slots are walked in windows that end where the first
    /// of the query words' current blocks ends, so within a window each word has one block and
    /// one bound. A window whose bounds together cannot beat the k-th best score so far is
    /// skipped unread. Otherwise the words whose bounds together cannot beat it are
    /// "non-essential": only documents in the other words' postings are candidates, and a
    /// candidate looks the non-essential words up (from the largest bound down) only while its
    /// score could still get in. Frequent words have a low idf, so once the top holds good
    /// documents they stop producing candidates: the work follows k and the rarer query words.
    /// `accept` is asked only about documents whose score would enter the current top k.
    ///
    /// Complexity: O(windows + candidates · log(blockSize)), windows ≤ (postings of the most
    /// frequent query word) / blockSize; at worst (k beyond the matches, or a filter that
    /// refuses nearly everything) candidates are every posting of every query word.
    public func search(_ query: String, k: Int, accept: (String) -> Bool = { _ in true }) -> [(id: String, score: Double)] {
        guard k > 0, !slotOf.isEmpty else { return [] }
        // Every match is kept: nothing to skip.
        if k >= slotOf.count { return searchExhaustive(query, k: k, accept: accept) }
        let terms = queryTerms(query)
        guard !terms.isEmpty else { return [] }
        let norms = LengthNorms(averageLength: averageLength)
        let m = terms.count
        var cursors: [Cursor] = terms.map { Cursor(postings[$0.term], idf: $0.idf, norms: norms) }
        var top = Top(k: k, ids: ids)
        // Raw buffers for the walk: no copy-on-write check per step.
        var scratch = [Double](repeating: 0, count: 3 * m + 1)
        var byBound = Array(0..<m)
        cursors.withUnsafeMutableBufferPointer { cursors in
            scratch.withUnsafeMutableBufferPointer { scratch in
                byBound.withUnsafeMutableBufferPointer { byBound in
                    lengths.withUnsafeBufferPointer { lengths in
                        Self.walk(cursors, byBound: byBound, scratch: scratch, lengths: lengths, norms: norms, top: &top) { ids[Int($0)].map(accept)! }
                    }
                }
            }
        }
        return top.sortedDescending().map { (id: ids[Int($0.slot)]!, score: $0.score) }
    }

    /// The walk of `search` over the query words' cursors (see there); `accept` takes a live slot.
    /// - Parameter scratch: 3m + 1 doubles, zero.
    private static func walk(
        _ cursors: UnsafeMutableBufferPointer<Cursor>, byBound: UnsafeMutableBufferPointer<Int>, scratch: UnsafeMutableBufferPointer<Double>,
        lengths: UnsafeBufferPointer<Int32>, norms: LengthNorms, top: inout Top, accept: (Int32) -> Bool
    ) {
        let m = cursors.count
        // Bounds summed in another order than a score's canonical one are widened by more than
        // the rounding of 2m additions either way; sums in the canonical order need no slack.
        let slack = 1 + 8 * Double(m) * Double.ulpOfOne
        // byBound[0..<essential] are non-essential; lower[j] = sum of local[byBound[0..<j]].
        let local = UnsafeMutableBufferPointer(rebasing: scratch[0..<m])
        let contribution = UnsafeMutableBufferPointer(rebasing: scratch[m..<2 * m])
        let lower = UnsafeMutableBufferPointer(rebasing: scratch[(2 * m)..<scratch.count])
        var threshold = top.threshold

        while true {
            var start = Int32.max, end = Int32.max
            for t in 0..<m where !cursors[t].exhausted {
                start = min(start, cursors[t].slot)
                end = min(end, cursors[t].blockEnd)
            }
            guard start != .max else { break }
            var total = 0.0
            for t in 0..<m {
                local[t] = cursors[t].slot <= end ? cursors[t].blockBound : 0
                total += local[t]
            }
            if total < threshold {
                // No document in [start, end] reaches the bound.
                for t in 0..<m where cursors[t].slot <= end { cursors[t].advance(to: end + 1) }
                continue
            }
            for i in 1..<max(m, 1) {
                let t = byBound[i]
                var j = i
                while j > 0, local[byBound[j - 1]] > local[t] {
                    byBound[j] = byBound[j - 1]
                    j -= 1
                }
                byBound[j] = t
            }
            var essential = 0
            var repartition = true
            while true {
                if repartition {
                    while essential < m, (lower[essential] + local[byBound[essential]]) * slack < threshold {
                        lower[essential + 1] = lower[essential] + local[byBound[essential]]
                        essential += 1
                    }
                    repartition = false
                }
                guard essential < m else { break }
                var d = Int32.max
                for j in essential..<m { d = min(d, cursors[byBound[j]].slot) }
                guard d <= end else { break }
                let length = lengths[Int(d)]
                guard length >= 0 else {
                    for j in essential..<m where cursors[byBound[j]].slot == d { cursors[byBound[j]].step() }
                    continue
                }
                let norm = norms[length]
                var partial = 0.0
                for j in essential..<m where cursors[byBound[j]].slot == d {
                    let t = byBound[j]
                    contribution[t] = termScore(idf: cursors[t].idf, tf: cursors[t].tf, norm: norm)
                    partial += contribution[t]
                    cursors[t].step()
                }
                var pruned = (partial + lower[essential]) * slack < threshold
                var j = essential - 1
                while !pruned, j >= 0 {
                    let t = byBound[j]
                    cursors[t].advance(to: d)
                    if cursors[t].slot == d {
                        contribution[t] = termScore(idf: cursors[t].idf, tf: cursors[t].tf, norm: norm)
                        partial += contribution[t]
                    }
                    pruned = (partial + lower[j]) * slack < threshold
                    j -= 1
                }
                if !pruned {
                    var score = 0.0
                    for t in 0..<m { score += contribution[t] }
                    if top.admits(score, slot: d), accept(d) {
                        top.insert(score, slot: d)
                        threshold = top.threshold
                        repartition = true
                    }
                }
                for t in 0..<m { contribution[t] = 0 }
            }
            for t in 0..<m where cursors[t].slot <= end { cursors[t].advance(to: end + 1) }
        }
    }

    /// The reference for `search`: scores every posting of every query word into an array by
    /// slot, then keeps the k best accepted. Same scores, same order. O(sum of postings + slots);
    /// for tests and benchmarks.
    public func searchExhaustive(_ query: String, k: Int, accept: (String) -> Bool = { _ in true }) -> [(id: String, score: Double)] {
        guard k > 0, !slotOf.isEmpty else { return [] }
        let terms = queryTerms(query)
        guard !terms.isEmpty else { return [] }
        let norms = LengthNorms(averageLength: averageLength)
        var scores = [Double](repeating: 0, count: ids.count)
        for (t, idf) in terms {
            let list = postings[t]
            for (slot, tf) in zip(list.slots, list.tfs) where lengths[Int(slot)] >= 0 {
                scores[Int(slot)] += Self.termScore(idf: idf, tf: tf, norm: norms[lengths[Int(slot)]])
            }
        }
        var top = Top(k: k, ids: ids)
        for (slot, score) in scores.enumerated() where score > 0 {
            if let id = ids[slot], top.admits(score, slot: Int32(slot)), accept(id) { top.insert(score, slot: Int32(slot)) }
        }
        return top.sortedDescending().map { (id: ids[Int($0.slot)]!, score: $0.score) }
    }

    /// The k best (score, slot) pairs seen, in a min-heap: the worst kept at the root. Worse
    /// means a lower score, or an equal score and a larger id. O(log k) an insert.
    struct Top {
        let k: Int
        let ids: [String?]
        private(set) var heap: [(score: Double, slot: Int32)] = []

        init(k: Int, ids: [String?]) {
            self.k = k
            self.ids = ids
            heap.reserveCapacity(min(k, 4096))
        }

        /// The score to reach (an equal one gets in with a smaller id); -infinity until k are kept.
        var threshold: Double { heap.count < k ? -.infinity : heap[0].score }

        @inline(__always)
        private func worse(_ a: (score: Double, slot: Int32), _ b: (score: Double, slot: Int32)) -> Bool {
            a.score < b.score || (a.score == b.score && ids[Int(a.slot)]! > ids[Int(b.slot)]!)
        }

        /// Whether a live document with `score` would be kept.
        func admits(_ score: Double, slot: Int32) -> Bool {
            heap.count < k || worse(heap[0], (score, slot))
        }

        /// Keeps (score, slot) if `admits` says so.
        mutating func insert(_ score: Double, slot: Int32) {
            if heap.count < k {
                heap.append((score, slot))
                var i = heap.count - 1
                while i > 0 {
                    let p = (i - 1) / 2
                    guard worse(heap[i], heap[p]) else { break }
                    heap.swapAt(i, p)
                    i = p
                }
            } else if worse(heap[0], (score, slot)) {
                heap[0] = (score, slot)
                var i = 0
                while true {
                    let l = 2 * i + 1, r = l + 1
                    var w = i
                    if l < heap.count, worse(heap[l], heap[w]) { w = l }
                    if r < heap.count, worse(heap[r], heap[w]) { w = r }
                    if w == i { break }
                    heap.swapAt(i, w)
                    i = w
                }
            }
        }

        /// Best first.
        func sortedDescending() -> [(score: Double, slot: Int32)] {
            heap.sorted { worse($1, $0) }
        }
    }

    /// A query term's position in its postings during `search`.
    struct Cursor {
        let slots: [Int32]
        let tfs: [Int32]
        let blockLast: [Int32]
        let blockMaxTF: [Int32]
        let blockMinLength: [Int32]
        let idf: Double
        let norms: LengthNorms
        var position = 0
        /// The current slot; Int32.max once exhausted.
        private(set) var slot: Int32

        init(_ p: Postings, idf: Double, norms: LengthNorms) {
            slots = p.slots
            tfs = p.tfs
            blockLast = p.blockLast
            blockMaxTF = p.blockMaxTF
            blockMinLength = p.blockMinLength
            self.idf = idf
            self.norms = norms
            slot = p.slots.first ?? .max
        }

        var exhausted: Bool { slot == .max }
        var tf: Int32 { tfs[position] }
        /// The last slot and the bound of the current block (not exhausted).
        var blockEnd: Int32 { blockLast[position / KeywordIndex.blockSize] }
        /// Computed when asked: most blocks of a frequent word are never looked at.
        var blockBound: Double {
            let block = position / KeywordIndex.blockSize
            return KeywordIndex.termScore(idf: idf, tf: blockMaxTF[block], norm: norms[blockMinLength[block]])
        }

        mutating func step() {
            position += 1
            slot = position < slots.count ? slots[position] : .max
        }

        /// Moves to the first posting at or after `target`.
        mutating func advance(to target: Int32) {
            guard slot < target else { return }
            var block = position / KeywordIndex.blockSize
            while block < blockLast.count, blockLast[block] < target { block += 1 }
            guard block < blockLast.count else {
                position = slots.count
                slot = .max
                return
            }
            var lo = max(position, block * KeywordIndex.blockSize)
            var hi = min(slots.count, (block + 1) * KeywordIndex.blockSize)
            while lo < hi {
                let mid = (lo + hi) / 2
                if slots[mid] < target { lo = mid + 1 } else { hi = mid }
            }
            position = lo
            slot = slots[lo]
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
