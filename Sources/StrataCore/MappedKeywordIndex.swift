#if canImport(Glibc)
import Glibc
#endif

/// A `KeywordIndex` written in a layout that is searched where it lies (a mapped file): no
/// dictionary is rebuilt and no posting is copied, so a process that opens a store to answer one
/// recall reads the postings of its query words and little else. It ranks with the same code as
/// the in-memory index (`KeywordSearch`), so both give the same hits, scores and order.
///
/// Layout (`KeywordIndex.encoded`), little-endian, every array starting on 8 bytes:
/// "STRKWIX1", u32 version (1), u32 block size (128), u64 documents, total length, slots, terms,
/// postings, blocks, term bytes, id bytes; then the term table (terms sorted by their UTF-8
/// bytes: u64 offsets x (terms + 1), the bytes), u64 first posting x (terms + 1), u64 first
/// block x (terms + 1), u32 live documents x terms; the postings' slots and tfs (i32 each); the
/// blocks' last slot, largest tf and shortest length (i32 each); i32 length x slots (-1: a
/// removed slot); the ids (u64 offsets x (slots + 1), the bytes); u32 CRC-32C of all before it.
///
/// Read-only. The bytes must stay valid while it is used (the caller keeps the mapping).
public struct MappedKeywordIndex: @unchecked Sendable {
    static let magic = Array("STRKWIX1".utf8)
    static let version: UInt32 = 1
    static let headerBytes = 80

    /// Live documents.
    public let count: Int
    private let totalLength: Int
    private let slotCount: Int
    private let termCount: Int
    private let termOffsets: UnsafePointer<UInt64>
    private let termBytes: UnsafePointer<UInt8>
    private let postingStart: UnsafePointer<UInt64>
    private let blockStart: UnsafePointer<UInt64>
    private let live: UnsafePointer<UInt32>
    private let slots: UnsafePointer<Int32>
    private let tfs: UnsafePointer<Int32>
    private let blockLast: UnsafePointer<Int32>
    private let blockMaxTF: UnsafePointer<Int32>
    private let blockMinLength: UnsafePointer<Int32>
    private let lengths: UnsafeBufferPointer<Int32>
    private let idOffsets: UnsafePointer<UInt64>
    private let idBytes: UnsafePointer<UInt8>

    /// Where each array of the layout starts, for `counts`.
    struct Layout {
        var offsets: [Int] = []
        var total = 0

        /// Appends an array of `bytes` bytes (padded to 8) and returns its offset.
        mutating func add(_ bytes: Int) -> Int {
            let at = total
            offsets.append(at)
            total += (bytes + 7) / 8 * 8
            return at
        }

        init(terms: Int, termBytes: Int, postings: Int, blocks: Int, slots: Int, idBytes: Int) {
            total = MappedKeywordIndex.headerBytes
            for size in [8 * (terms + 1), termBytes, 8 * (terms + 1), 8 * (terms + 1), 4 * terms, 4 * postings, 4 * postings,
                         4 * blocks, 4 * blocks, 4 * blocks, 4 * slots, 8 * (slots + 1), idBytes] {
                _ = add(size)
            }
        }
    }

    /// Checks `bytes` (a whole encoded index) and reads it in place.
    /// - Throws: `.corrupt` with the reason when it is not one, is cut short or damaged (its
    ///   checksum, or an offset, slot or length out of range).
    public init(bytes: UnsafeRawBufferPointer) throws(StrataError) {
        func bad(_ why: String) -> StrataError { StrataError(.corrupt, "keyword index: \(why)") }
        guard bytes.count >= Self.headerBytes + 8, let base = bytes.baseAddress,
              Int(bitPattern: base) % 8 == 0, memcmp(base, Self.magic, 8) == 0 else {
            throw bad("not a Strata keyword index")
        }
        func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
        func u64(_ at: Int) -> Int { Int(truncatingIfNeeded: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self))) }
        guard u32(8) == Self.version else { throw bad("format version \(u32(8)), this build reads \(Self.version)") }
        guard u32(12) == UInt32(KeywordIndex.blockSize) else { throw bad("block size \(u32(12))") }
        let documents = u64(16), total = u64(24), slotCount = u64(32), terms = u64(40)
        let postings = u64(48), blocks = u64(56), termByteCount = u64(64), idByteCount = u64(72)
        let limit = bytes.count
        guard [documents, total, slotCount, terms, postings, blocks, termByteCount, idByteCount].allSatisfy({ $0 >= 0 && $0 <= limit }),
              documents <= slotCount else { throw bad("its header is inconsistent") }
        let layout = Layout(terms: terms, termBytes: termByteCount, postings: postings, blocks: blocks, slots: slotCount, idBytes: idByteCount)
        guard layout.total + 8 == bytes.count else { throw bad("it holds \(bytes.count) bytes, its header says \(layout.total + 8)") }
        let stored = u32(layout.total)
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<layout.total])) == stored else {
            throw bad("its checksum does not match (damaged or cut short)")
        }
        let o = layout.offsets
        func at<T>(_ i: Int, _: T.Type) -> UnsafePointer<T> { (base + o[i]).assumingMemoryBound(to: T.self) }
        termOffsets = at(0, UInt64.self)
        termBytes = at(1, UInt8.self)
        postingStart = at(2, UInt64.self)
        blockStart = at(3, UInt64.self)
        live = at(4, UInt32.self)
        slots = at(5, Int32.self)
        tfs = at(6, Int32.self)
        blockLast = at(7, Int32.self)
        blockMaxTF = at(8, Int32.self)
        blockMinLength = at(9, Int32.self)
        lengths = UnsafeBufferPointer(start: at(10, Int32.self), count: slotCount)
        idOffsets = at(11, UInt64.self)
        idBytes = at(12, UInt8.self)
        count = documents
        totalLength = total
        self.slotCount = slotCount
        termCount = terms
        // Every offset in range and every list in order: a file that passed its checksum but was
        // written wrong must not send a search outside the mapping.
        func ascending(_ p: UnsafePointer<UInt64>, _ n: Int, ending: Int) -> Bool {
            guard p[0] == 0, Int(p[n]) == ending else { return false }
            for i in 0..<n where p[i] > p[i + 1] { return false }
            return true
        }
        guard ascending(termOffsets, terms, ending: termByteCount), ascending(postingStart, terms, ending: postings),
              ascending(blockStart, terms, ending: blocks), ascending(idOffsets, slotCount, ending: idByteCount) else {
            throw bad("an offset table is out of order or out of range")
        }
        for t in 0..<terms {
            let from = Int(postingStart[t]), to = Int(postingStart[t + 1])
            let size = KeywordIndex.blockSize
            guard Int(blockStart[t + 1] - blockStart[t]) == (to - from + size - 1) / size, Int(live[t]) <= to - from else {
                throw bad("term \(t) has \(to - from) postings and \(blockStart[t + 1] - blockStart[t]) blocks")
            }
            var previous: Int32 = -1
            for i in from..<to {
                guard slots[i] > previous, Int(slots[i]) < slotCount, tfs[i] > 0 else { throw bad("term \(t) has a posting out of range or order") }
                previous = slots[i]
            }
        }
        for s in 0..<slotCount where lengths[s] < -1 { throw bad("slot \(s) has length \(lengths[s])") }
    }

    /// The k best documents for `query` among those `accept` lets through, best first: the same
    /// answer as the `KeywordIndex` this was written from (`KeywordIndex.search`).
    public func search(_ query: String, k: Int, accept: (String) -> Bool = { _ in true }) -> [(id: String, score: Double)] {
        KeywordSearch(view: View(index: self)).search(query, k: k, accept: accept)
    }

    /// Every posting scored (the reference, for tests).
    public func searchExhaustive(_ query: String, k: Int, accept: (String) -> Bool = { _ in true }) -> [(id: String, score: Double)] {
        KeywordSearch(view: View(index: self)).searchExhaustive(query, k: k, accept: accept)
    }

    /// One word's postings, in place.
    struct Postings: PostingList {
        let slots: UnsafePointer<Int32>
        let tfs: UnsafePointer<Int32>
        let blockLast: UnsafePointer<Int32>
        let blockMaxTF: UnsafePointer<Int32>
        let blockMinLength: UnsafePointer<Int32>
        let count: Int
        let blocks: Int
        let live: Int
        @inline(__always) func slot(_ i: Int) -> Int32 { slots[i] }
        @inline(__always) func tf(_ i: Int) -> Int32 { tfs[i] }
        @inline(__always) func blockLast(_ b: Int) -> Int32 { blockLast[b] }
        @inline(__always) func blockMaxTF(_ b: Int) -> Int32 { blockMaxTF[b] }
        @inline(__always) func blockMinLength(_ b: Int) -> Int32 { blockMinLength[b] }
    }

    struct View: KeywordPostingsView {
        let index: MappedKeywordIndex
        var documents: Int { index.count }
        var slots: Int { index.slotCount }
        var totalLength: Int { index.totalLength }
        var lengths: UnsafeBufferPointer<Int32> { index.lengths }
        func postings(of word: String) -> Postings? { index.postings(of: word) }
        func id(_ slot: Int32) -> String { index.id(Int(slot)) }
    }

    /// The term's postings, found by binary search in the sorted term table.
    private func postings(of word: String) -> Postings? {
        var key = word
        return key.withUTF8 { w -> Postings? in
            var lo = 0, hi = termCount
            while lo < hi {
                let mid = (lo + hi) / 2
                let from = Int(termOffsets[mid]), length = Int(termOffsets[mid + 1]) - from
                let c = memcmp(termBytes + from, w.baseAddress ?? UnsafePointer(termBytes), min(length, w.count))
                let order = c != 0 ? Int(c) : length - w.count
                if order == 0 {
                    let p = Int(postingStart[mid]), b = Int(blockStart[mid])
                    return Postings(slots: slots + p, tfs: tfs + p, blockLast: blockLast + b, blockMaxTF: blockMaxTF + b,
                                    blockMinLength: blockMinLength + b, count: Int(postingStart[mid + 1]) - p,
                                    blocks: Int(blockStart[mid + 1]) - b, live: Int(live[mid]))
                }
                if order < 0 { lo = mid + 1 } else { hi = mid }
            }
            return nil
        }
    }

    /// The id of slot `s` ("" for a removed slot).
    func id(_ s: Int) -> String {
        let from = Int(idOffsets[s])
        return String(decoding: UnsafeBufferPointer(start: idBytes + from, count: Int(idOffsets[s + 1]) - from), as: UTF8.self)
    }
}

extension KeywordIndex {
    /// The index in the layout `MappedKeywordIndex` searches in place.
    public func encoded() -> [UInt8] {
        let p = parts
        let terms = p.termOf.compactMap { word, t in p.postings[Int(t)].live > 0 ? (Array(word.utf8), Int(t)) : nil }
            .sorted { $0.0.lexicographicallyPrecedes($1.0) }
        let termByteCount = terms.reduce(0) { $0 + $1.0.count }
        let postingCount = terms.reduce(0) { $0 + p.postings[$1.1].slots.count }
        let blockCount = terms.reduce(0) { $0 + p.postings[$1.1].blockLast.count }
        let idByteCount = p.ids.reduce(0) { $0 + ($1?.utf8.count ?? 0) }
        let layout = MappedKeywordIndex.Layout(terms: terms.count, termBytes: termByteCount, postings: postingCount, blocks: blockCount,
                                               slots: p.ids.count, idBytes: idByteCount)
        var out = [UInt8](repeating: 0, count: layout.total + 8)
        out.withUnsafeMutableBytes { raw in
            let base = raw.baseAddress!
            func put<T>(_ v: T, at: Int) { withUnsafeBytes(of: v) { (base + at).copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
            func array<T>(_ i: Int, _: T.Type) -> UnsafeMutablePointer<T> { (base + layout.offsets[i]).assumingMemoryBound(to: T.self) }
            (base).copyMemory(from: MappedKeywordIndex.magic, byteCount: 8)
            put(MappedKeywordIndex.version.littleEndian, at: 8)
            put(UInt32(KeywordIndex.blockSize).littleEndian, at: 12)
            for (i, v) in [p.documents, p.totalLength, p.ids.count, terms.count, postingCount, blockCount, termByteCount, idByteCount].enumerated() {
                put(UInt64(v).littleEndian, at: 16 + 8 * i)
            }
            let termOffsets = array(0, UInt64.self), termBytes = array(1, UInt8.self)
            let postingStart = array(2, UInt64.self), blockStart = array(3, UInt64.self), live = array(4, UInt32.self)
            let slots = array(5, Int32.self), tfs = array(6, Int32.self)
            let blockLast = array(7, Int32.self), blockMaxTF = array(8, Int32.self), blockMinLength = array(9, Int32.self)
            var byteAt = 0, postingAt = 0, blockAt = 0
            for (i, (word, t)) in terms.enumerated() {
                let list = p.postings[t]
                termOffsets[i] = UInt64(byteAt).littleEndian
                postingStart[i] = UInt64(postingAt).littleEndian
                blockStart[i] = UInt64(blockAt).littleEndian
                live[i] = UInt32(list.live).littleEndian
                (termBytes + byteAt).update(from: word, count: word.count)
                byteAt += word.count
                for (j, (slot, tf)) in zip(list.slots, list.tfs).enumerated() {
                    slots[postingAt + j] = slot.littleEndian
                    tfs[postingAt + j] = tf.littleEndian
                }
                postingAt += list.slots.count
                for b in 0..<list.blockLast.count {
                    blockLast[blockAt + b] = list.blockLast[b].littleEndian
                    blockMaxTF[blockAt + b] = list.blockMaxTF[b].littleEndian
                    blockMinLength[blockAt + b] = list.blockMinLength[b].littleEndian
                }
                blockAt += list.blockLast.count
            }
            termOffsets[terms.count] = UInt64(byteAt).littleEndian
            postingStart[terms.count] = UInt64(postingAt).littleEndian
            blockStart[terms.count] = UInt64(blockAt).littleEndian
            let lengths = array(10, Int32.self), idOffsets = array(11, UInt64.self), idBytes = array(12, UInt8.self)
            var idAt = 0
            for (s, id) in p.ids.enumerated() {
                lengths[s] = p.lengths[s].littleEndian
                idOffsets[s] = UInt64(idAt).littleEndian
                if let id {
                    let utf8 = Array(id.utf8)
                    (idBytes + idAt).update(from: utf8, count: utf8.count)
                    idAt += utf8.count
                }
            }
            idOffsets[p.ids.count] = UInt64(idAt).littleEndian
            put(CRC32C.checksum(UnsafeRawBufferPointer(start: base, count: layout.total)).littleEndian, at: layout.total)
        }
        return out
    }
}
