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
    /// (ties: the smaller id first). The same list as `searchExhaustive`. See `KeywordSearch`
    /// for the method and its cost.
    public func search(_ query: String, k: Int, accept: (String) -> Bool = { _ in true }) -> [(id: String, score: Double)] {
        lengths.withUnsafeBufferPointer { KeywordSearch(view: View(index: self, lengths: $0)).search(query, k: k, accept: accept) }
    }

    /// The reference for `search`: every posting of every query word scored. Same scores, same
    /// order. O(sum of postings + slots); for tests and benchmarks.
    public func searchExhaustive(_ query: String, k: Int, accept: (String) -> Bool = { _ in true }) -> [(id: String, score: Double)] {
        lengths.withUnsafeBufferPointer { KeywordSearch(view: View(index: self, lengths: $0)).searchExhaustive(query, k: k, accept: accept) }
    }

    /// The index as `KeywordSearch` reads it.
    struct View: KeywordPostingsView {
        let index: KeywordIndex
        let lengths: UnsafeBufferPointer<Int32>
        var documents: Int { index.slotOf.count }
        var slots: Int { index.ids.count }
        var totalLength: Int { index.totalLength }
        func postings(of word: String) -> Postings? {
            guard let t = index.termOf[word] else { return nil }
            return index.postings[Int(t)]
        }
        func id(_ slot: Int32) -> String { index.ids[Int(slot)]! }
    }

    /// What `encoded` writes (MappedKeywordIndex.swift).
    var parts: (termOf: [String: Int32], postings: [Postings], ids: [String?], lengths: [Int32], totalLength: Int, documents: Int) {
        (termOf, postings, ids, lengths, totalLength, slotOf.count)
    }
}

/// One word's postings as `KeywordSearch` reads them: slots ascending, their tfs, and per block
/// of `KeywordIndex.blockSize` postings the last slot, largest tf and shortest document.
protocol PostingList {
    var count: Int { get }
    /// Live documents holding the word: df.
    var live: Int { get }
    var blocks: Int { get }
    func slot(_ i: Int) -> Int32
    func tf(_ i: Int) -> Int32
    func blockLast(_ b: Int) -> Int32
    func blockMaxTF(_ b: Int) -> Int32
    func blockMinLength(_ b: Int) -> Int32
}

extension KeywordIndex.Postings: PostingList {
    var count: Int { slots.count }
    var blocks: Int { blockLast.count }
    @inline(__always) func slot(_ i: Int) -> Int32 { slots[i] }
    @inline(__always) func tf(_ i: Int) -> Int32 { tfs[i] }
    @inline(__always) func blockLast(_ b: Int) -> Int32 { blockLast[b] }
    @inline(__always) func blockMaxTF(_ b: Int) -> Int32 { blockMaxTF[b] }
    @inline(__always) func blockMinLength(_ b: Int) -> Int32 { blockMinLength[b] }
}

/// A keyword index as its search reads it: in memory (`KeywordIndex`) or mapped from a file
/// (`MappedKeywordIndex`), so both rank with the one algorithm below.
protocol KeywordPostingsView {
    associatedtype List: PostingList
    /// Live documents: n.
    var documents: Int { get }
    /// Slots, removed ones included.
    var slots: Int { get }
    /// Keywords of the live documents.
    var totalLength: Int { get }
    /// Per slot: its keyword count, -1 when removed.
    var lengths: UnsafeBufferPointer<Int32> { get }
    func postings(of word: String) -> List?
    /// The id of a live slot.
    func id(_ slot: Int32) -> String
}

/// BM25 top-k over a `KeywordPostingsView` (see `KeywordIndex` for the ranking and its order).
struct KeywordSearch<View: KeywordPostingsView> {
    let view: View
    typealias Cursor = KeywordCursor<View.List>

    /// The query's known words in the canonical (spelling) order, with their idf.
    private func queryTerms(_ query: String) -> [(list: View.List, idf: Double)] {
        let n = Double(view.documents)
        return Set(Tokenizer.keywords(query)).sorted().compactMap { word in
            guard let list = view.postings(of: word), list.live > 0 else { return nil }
            let df = Double(list.live)
            return (list, log(1 + (n - df + 0.5) / (df + 0.5)))
        }
    }

    private var averageLength: Double { max(Double(view.totalLength) / Double(view.documents), 1) }

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
    func search(_ query: String, k: Int, accept: (String) -> Bool) -> [(id: String, score: Double)] {
        guard k > 0, view.documents > 0 else { return [] }
        // Every match is kept: nothing to skip.
        if k >= view.documents { return searchExhaustive(query, k: k, accept: accept) }
        let terms = queryTerms(query)
        guard !terms.isEmpty else { return [] }
        let norms = KeywordIndex.LengthNorms(averageLength: averageLength)
        let m = terms.count
        var cursors: [Cursor] = terms.map { Cursor($0.list, idf: $0.idf, norms: norms) }
        var top = KeywordTop(k: k, id: view.id)
        // Raw buffers for the walk: no copy-on-write check per step.
        var scratch = [Double](repeating: 0, count: 3 * m + 1)
        var byBound = Array(0..<m)
        cursors.withUnsafeMutableBufferPointer { cursors in
            scratch.withUnsafeMutableBufferPointer { scratch in
                byBound.withUnsafeMutableBufferPointer { byBound in
                    Self.walk(cursors, byBound: byBound, scratch: scratch, lengths: view.lengths, norms: norms, top: &top) { accept(view.id($0)) }
                }
            }
        }
        return top.sortedDescending().map { (id: view.id($0.slot), score: $0.score) }
    }

    /// The walk of `search` over the query words' cursors (see there); `accept` takes a live slot.
    /// - Parameter scratch: 3m + 1 doubles, zero.
    private static func walk(
        _ cursors: UnsafeMutableBufferPointer<Cursor>, byBound: UnsafeMutableBufferPointer<Int>, scratch: UnsafeMutableBufferPointer<Double>,
        lengths: UnsafeBufferPointer<Int32>, norms: KeywordIndex.LengthNorms, top: inout KeywordTop, accept: (Int32) -> Bool
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
                    contribution[t] = KeywordIndex.termScore(idf: cursors[t].idf, tf: cursors[t].tf, norm: norm)
                    partial += contribution[t]
                    cursors[t].step()
                }
                var pruned = (partial + lower[essential]) * slack < threshold
                var j = essential - 1
                while !pruned, j >= 0 {
                    let t = byBound[j]
                    cursors[t].advance(to: d)
                    if cursors[t].slot == d {
                        contribution[t] = KeywordIndex.termScore(idf: cursors[t].idf, tf: cursors[t].tf, norm: norm)
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
    /// slot, then keeps the k best accepted. Same scores, same order.
    func searchExhaustive(_ query: String, k: Int, accept: (String) -> Bool) -> [(id: String, score: Double)] {
        guard k > 0, view.documents > 0 else { return [] }
        let terms = queryTerms(query)
        guard !terms.isEmpty else { return [] }
        let norms = KeywordIndex.LengthNorms(averageLength: averageLength)
        let lengths = view.lengths
        var scores = [Double](repeating: 0, count: view.slots)
        for (list, idf) in terms {
            for i in 0..<list.count where lengths[Int(list.slot(i))] >= 0 {
                let slot = Int(list.slot(i))
                scores[slot] += KeywordIndex.termScore(idf: idf, tf: list.tf(i), norm: norms[lengths[slot]])
            }
        }
        var top = KeywordTop(k: k, id: view.id)
        for (slot, score) in scores.enumerated() where score > 0 && lengths[slot] >= 0 {
            if top.admits(score, slot: Int32(slot)), accept(view.id(Int32(slot))) { top.insert(score, slot: Int32(slot)) }
        }
        return top.sortedDescending().map { (id: view.id($0.slot), score: $0.score) }
    }

}

/// The k best (score, slot) pairs seen, in a min-heap: the worst kept at the root. Worse
/// means a lower score, or an equal score and a larger id. O(log k) an insert.
struct KeywordTop {
    let k: Int
    /// A slot's id, asked only to break a tie.
    let id: (Int32) -> String
    private(set) var heap: [(score: Double, slot: Int32)] = []

    init(k: Int, id: @escaping (Int32) -> String) {
        self.k = k
        self.id = id
        heap.reserveCapacity(min(k, 4096))
    }

    /// The score to reach (an equal one gets in with a smaller id); -infinity until k are kept.
    var threshold: Double { heap.count < k ? -.infinity : heap[0].score }

    @inline(__always)
    private func worse(_ a: (score: Double, slot: Int32), _ b: (score: Double, slot: Int32)) -> Bool {
        a.score < b.score || (a.score == b.score && id(a.slot) > id(b.slot))
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
struct KeywordCursor<List: PostingList> {
    let list: List
    let idf: Double
    let norms: KeywordIndex.LengthNorms
    var position = 0
    /// The current slot; Int32.max once exhausted.
    private(set) var slot: Int32

    init(_ p: List, idf: Double, norms: KeywordIndex.LengthNorms) {
        list = p
        self.idf = idf
        self.norms = norms
        slot = p.count > 0 ? p.slot(0) : .max
    }

    var exhausted: Bool { slot == .max }
    var tf: Int32 { list.tf(position) }
    /// The last slot and the bound of the current block (not exhausted).
    var blockEnd: Int32 { list.blockLast(position / KeywordIndex.blockSize) }
    /// Computed when asked: most blocks of a frequent word are never looked at.
    var blockBound: Double {
        let block = position / KeywordIndex.blockSize
        return KeywordIndex.termScore(idf: idf, tf: list.blockMaxTF(block), norm: norms[list.blockMinLength(block)])
    }

    mutating func step() {
        position += 1
        slot = position < list.count ? list.slot(position) : .max
    }

    /// Moves to the first posting at or after `target`.
    mutating func advance(to target: Int32) {
        guard slot < target else { return }
        var block = position / KeywordIndex.blockSize
        while block < list.blocks, list.blockLast(block) < target { block += 1 }
        guard block < list.blocks else {
            position = list.count
            slot = .max
            return
        }
        var lo = max(position, block * KeywordIndex.blockSize)
        var hi = min(list.count, (block + 1) * KeywordIndex.blockSize)
        while lo < hi {
            let mid = (lo + hi) / 2
            if list.slot(mid) < target { lo = mid + 1 } else { hi = mid }
        }
        position = lo
        slot = list.slot(lo)
    }
}

#if canImport(Glibc)
import Glibc
#endif
