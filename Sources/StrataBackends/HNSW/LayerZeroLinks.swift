import CStrataSIMD

/// Layer 0's neighbour lists, each kept only as long as its node's degree.
///
/// hnswlib (and this graph before) gives every node room for 2m links on layer 0: 132 bytes a
/// node at m = 16, though a built graph's lists are about 58% full (18.6 of 32 links on average
/// at 100k x 384). Those empty slots were the part of the index that kept it over 1.1x hnswlib's
/// memory with the int8 copies, so lists live in one of two homes:
///
/// - **packed**: one run of bytes holding every list back to back, exactly as long as its
///   degree, with ids of 3 bytes while the graph has at most 2^24 rows (4 bytes above that).
///   Written only by `pack`, which a graph calls when a batch of inserts or removals is done
///   and the loose lists have grown past an eighth of the packed ones (`packIfWorthIt`).
/// - **loose**: a slot of 2m four-byte ids. A list moves to a slot the first time it changes
///   after a pack (`writable`), so inserts and repairs write in place as before; a graph being
///   built has every list loose until the build ends.
///
/// `start[n]` says where node n's list is (a byte offset into `packed`, or `looseBit` with a slot
/// number); `degree[n]` is its length wherever it is. A reader decodes both homes the same way:
/// a 4-byte little-endian load at `i * width`, masked to the id's bytes (`Location`).
///
/// Cost: 6 bytes a node plus 3 per link when packed (about 62 bytes a node at m = 16, against
/// 132), one more load (`start[n]`) per list read. Threads: as `HNSWGraph`: readers and writers
/// of one node's list are ordered by the graph (its write lock, or a node's spin lock during a
/// parallel insert, which `writable` and `copy` run under); `pack`, `reserve` and `reserveLoose`
/// run only when nothing else touches the graph.
final class LayerZeroLinks: @unchecked Sendable {
    static let looseBit: UInt32 = 1 << 31

    /// Room per list: the most links a node keeps on layer 0.
    let m0: Int
    private(set) var capacity = 0
    /// Node n's number of links.
    private(set) var degree: UnsafeMutablePointer<UInt16>
    /// Where node n's list is: a byte offset into `packed`, or `looseBit | slot`.
    private(set) var start: UnsafeMutablePointer<UInt32>
    /// The packed lists, followed by 4 bytes of padding so the last 3-byte id can be loaded as 4.
    private var packedBlock = PageMemory(bytes: 4)
    var packed: UnsafeMutableRawPointer { packedBlock.base }
    private(set) var packedBytes = 0
    /// Bytes per id in `packed`: 3 or 4.
    private(set) var idBytes = 4
    /// Loose lists, `m0` ids per slot.
    private var looseBlock = PageMemory(bytes: 4)
    var loose: UnsafeMutablePointer<UInt32> { looseBlock.base.assumingMemoryBound(to: UInt32.self) }
    private(set) var looseSlots = 0
    /// Slots handed out; advanced atomically (`strata_fetch_add`) by a parallel insert.
    private let looseUsed: UnsafeMutablePointer<Int>

    init(maxDegree: Int) {
        precondition(maxDegree <= Int(UInt16.max), "HNSW: layer 0 keeps at most 65,535 links")
        m0 = maxDegree
        degree = .allocate(capacity: 1)
        start = .allocate(capacity: 1)
        looseUsed = .allocate(capacity: 1)
        looseUsed.initialize(to: 0)
    }

    deinit {
        degree.deallocate()
        start.deallocate()
        packedBlock.free()
        looseBlock.free()
        looseUsed.deallocate()
    }

    /// Bytes held: the per-node tables, the packed run and every loose slot reserved.
    var bytes: Int { capacity * (2 + 4) + packedBytes + 4 + looseSlots * m0 * 4 }

    /// Loose slots in use (each a list written since the last pack).
    var looseLists: Int { looseUsed.pointee }

    /// Makes room for nodes `0 ..< rows` (a larger `rows` only); new rows have no links.
    func reserve(rows: Int) {
        guard rows > capacity else { return }
        let d = UnsafeMutablePointer<UInt16>.allocate(capacity: rows)
        d.moveInitialize(from: degree, count: capacity)
        (d + capacity).initialize(repeating: 0, count: rows - capacity)
        degree.deallocate()
        degree = d
        let s = UnsafeMutablePointer<UInt32>.allocate(capacity: rows)
        s.moveInitialize(from: start, count: capacity)
        (s + capacity).initialize(repeating: 0, count: rows - capacity)
        start.deallocate()
        start = s
        capacity = rows
    }

    /// Where a list's ids are and how to read them: id i is the 4-byte little-endian word at
    /// `bytes + i * width`, masked by `mask`.
    struct Location {
        let bytes: UnsafeRawPointer
        let width: Int
        let mask: UInt32

        @inline(__always)
        func id(_ i: Int) -> UInt32 { bytes.loadUnaligned(fromByteOffset: i * width, as: UInt32.self) & mask }
    }

    /// The lists' pointers as they are now, for a search's hot loop: locals rather than a class's
    /// stored properties, which are checked for exclusive access on every read. Valid until the
    /// next `pack`, `reserve` or `reserveLoose`.
    struct Reader {
        let start: UnsafeMutablePointer<UInt32>
        let degree: UnsafeMutablePointer<UInt16>
        let packed: UnsafeRawPointer
        let loose: UnsafeMutablePointer<UInt32>
        let idBytes: Int
        let m0: Int

        @inline(__always)
        func location(_ n: Int) -> Location {
            let s = strata_load_relaxed_u32(start + n)
            if s & LayerZeroLinks.looseBit != 0 {
                return Location(bytes: UnsafeRawPointer(loose + Int(s & ~LayerZeroLinks.looseBit) * m0), width: 4, mask: .max)
            }
            return Location(bytes: packed + Int(s), width: idBytes, mask: idBytes == 3 ? 0xFF_FFFF : .max)
        }

        @inline(__always)
        func count(_ n: Int) -> Int { Int(degree[n]) }
    }

    var reader: Reader {
        Reader(start: start, degree: degree, packed: UnsafeRawPointer(packed), loose: loose, idBytes: idBytes, m0: m0)
    }

    @inline(__always)
    func location(_ n: Int) -> Location { reader.location(n) }

    /// Copies node n's list into `out` (room for `m0` ids); returns its length.
    @inline(__always)
    func copy(_ n: Int, into out: UnsafeMutablePointer<UInt32>) -> Int {
        let count = Int(degree[n])
        let at = location(n)
        if at.width == 4 {
            out.update(from: at.bytes.assumingMemoryBound(to: UInt32.self), count: count)
        } else {
            for i in 0..<count { out[i] = at.id(i) }
        }
        return count
    }

    /// Node n's list as ids.
    func list(_ n: Int) -> [UInt32] {
        [UInt32](unsafeUninitializedCapacity: Int(degree[n])) { buffer, initialized in
            initialized = copy(n, into: buffer.baseAddress!)
        }
    }

    /// Node n's list, moved to a loose slot first if it is packed, for the caller to rewrite
    /// in place (then `setDegree`). Without `mayGrow` (threads inserting in parallel) the slot
    /// must have been reserved by `reserveLoose`.
    func writable(_ n: Int, mayGrow: Bool) -> UnsafeMutablePointer<UInt32> {
        let s = start[n]
        if s & Self.looseBit != 0 { return loose + Int(s & ~Self.looseBit) * m0 }
        if mayGrow, looseUsed.pointee >= looseSlots { reserveLoose(extra: max(64, looseSlots / 2)) }
        let slot = strata_fetch_add(looseUsed)
        precondition(slot < looseSlots, "HNSW: no loose list reserved for a parallel insert")
        let list = loose + slot * m0
        _ = copy(n, into: list)
        // A search of a parallel insert reads where lists are without the lock, to prefetch.
        strata_store_relaxed_u32(start + n, Self.looseBit | UInt32(slot))
        return list
    }

    @inline(__always)
    func setDegree(_ n: Int, _ count: Int) {
        assert(count <= m0)
        degree[n] = UInt16(count)
    }

    /// Makes room for `extra` more loose lists than are in use.
    func reserveLoose(extra: Int) {
        let want = looseUsed.pointee + extra
        guard want > looseSlots else { return }
        precondition(want < Int(Self.looseBit), "HNSW: too many loose lists")
        let grown = PageMemory(bytes: want * m0 * 4)
        grown.base.copyMemory(from: looseBlock.base, byteCount: looseUsed.pointee * m0 * 4)
        looseBlock.free()
        looseBlock = grown
        looseSlots = want
    }

    /// Packs every list when the loose ones hold more than an eighth of the packed bytes (and
    /// more than 64 KiB): a pack copies all of layer 0, so it waits until it saves that much.
    func packIfWorthIt() {
        let looseBytes = looseUsed.pointee * m0 * 4
        if looseBytes > max(packedBytes / 8, 1 << 16) { pack() }
    }

    /// Rewrites every list into one packed run and frees the loose slots. Keeps the lists where
    /// they are if the run would not fit 31-bit offsets (over 2 GiB of links).
    func pack() {
        _ = pack { n, out in copy(n, into: out) }
    }

    /// Sets every node's list from `source` (which writes node n's ids and returns how many;
    /// `setDegree` has set each count already): packed, or loose when too big to pack.
    func load(_ source: (Int, UnsafeMutablePointer<UInt32>) -> Int) {
        if pack(from: source) { return }
        reserveLoose(extra: capacity)
        for n in 0..<capacity where degree[n] > 0 {
            let slot = looseUsed.pointee
            looseUsed.pointee += 1
            let count = source(n, loose + slot * m0)
            precondition(count == Int(degree[n]), "HNSW: node \(n)'s list changed length while loaded")
            start[n] = Self.looseBit | UInt32(slot)
        }
    }

    /// Packs the lists `source` gives (see `load`); false (nothing changed) when they would not
    /// fit 31-bit offsets.
    private func pack(from source: (Int, UnsafeMutablePointer<UInt32>) -> Int) -> Bool {
        let width = capacity <= 1 << 24 ? 3 : 4
        var total = 0
        for n in 0..<capacity { total += Int(degree[n]) * width }
        guard total < Int(Self.looseBit) else { return false }
        let block = PageMemory(bytes: total + 4)
        let run = block.base
        let list = UnsafeMutablePointer<UInt32>.allocate(capacity: max(m0, 1))
        defer { list.deallocate() }
        var at = 0
        for n in 0..<capacity {
            // n's list is read (from its old home) before its start is rewritten.
            let count = source(n, list)
            precondition(count == Int(degree[n]), "HNSW: node \(n)'s list changed length while packed")
            start[n] = UInt32(at)
            // Each id is stored as 4 little-endian bytes and the next overwrites the top one
            // when ids take 3 (the padding takes the last).
            for i in 0..<count {
                run.storeBytes(of: list[i].littleEndian, toByteOffset: at, as: UInt32.self)
                at += width
            }
        }
        run.storeBytes(of: 0, toByteOffset: total, as: UInt32.self)
        packedBlock.free()
        packedBlock = block
        packedBytes = total
        idBytes = width
        looseBlock.free()
        looseBlock = PageMemory(bytes: 4)
        looseSlots = 0
        looseUsed.pointee = 0
        return true
    }
}
