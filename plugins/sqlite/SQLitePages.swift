#if canImport(Glibc)
import Glibc
#endif

/// A SQLite database file read page by page from its bytes, without SQLite: what salvage needs
/// when the B-tree above the records is gone (a file cut short loses the interior pages near
/// the root, which SQLite writes last) while leaf pages holding records are still there.
///
/// Follows the file format document (https://www.sqlite.org/fileformat2.html): the 100-byte
/// header of page 1, b-tree page headers, cell pointer arrays, varints, records with serial
/// types, payloads spilling to overflow pages, the freelist, and the `-wal` beside the file
/// (its committed frames, salts and checksums checked, read before the file's pages as SQLite
/// reads them, so a store that was not closed shows its latest pages). Read-only, and every offset is
/// checked: a damaged or hostile file gives `nil`s and `problems`, never a trap, and every loop
/// is bounded by the number of pages in the file.
struct SQLitePages {
    let fd: Int32
    let pageSize: Int
    /// Page size minus the reserved bytes at the end of each page.
    let usable: Int
    /// Complete pages in the file (a partial last page is not read), or the database's size
    /// after the WAL's last commit when that is larger.
    var pageCount: Int
    /// Bytes 32-35 and 36-39 of the header: first freelist trunk page and freelist pages.
    var freelistTrunk: Int
    var freelistCount: Int
    /// Byte 56: 1 is UTF-8 (the only encoding Strata writes).
    let textEncoding: Int
    /// The `-wal` beside the file, when it holds committed frames: page -> offset of its
    /// newest committed copy there (read instead of the file's, as SQLite would).
    var walFD: Int32 = -1
    var walPages: [Int: Int] = [:]

    /// Opens `path` for reading; nil (with the reason) when its header is not a usable one.
    static func open(_ path: String) -> Result<SQLitePages, PageProblem> {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return .failure(PageProblem("cannot be opened: \(String(cString: strerror(errno)))")) }
        var header = [UInt8](repeating: 0, count: 100)
        let n = header.withUnsafeMutableBytes { pread(fd, $0.baseAddress, 100, 0) }
        var st = stat()
        guard n == 100, fstat(fd, &st) == 0 else {
            _ = Glibc.close(fd)
            return .failure(PageProblem("its 100-byte header cannot be read"))
        }
        func be(_ at: Int, _ count: Int) -> Int { header[at..<at + count].reduce(0) { $0 << 8 | Int($1) } }
        let raw = be(16, 2)
        let pageSize = raw == 1 ? 65536 : raw
        // A power of two from 512 to 65536, as the format requires.
        guard pageSize >= 512, pageSize <= 65536, pageSize & (pageSize - 1) == 0 else {
            _ = Glibc.close(fd)
            return .failure(PageProblem("its header gives page size \(raw), which is not a SQLite page size"))
        }
        let usable = pageSize - Int(header[20])
        guard usable >= 480 else {
            _ = Glibc.close(fd)
            return .failure(PageProblem("its header reserves \(header[20]) bytes per page, leaving \(usable) of \(pageSize): not a SQLite file"))
        }
        var pages = SQLitePages(fd: fd, pageSize: pageSize, usable: usable, pageCount: Int(st.st_size) / pageSize,
                                freelistTrunk: be(32, 4), freelistCount: be(36, 4), textEncoding: be(56, 4))
        pages.readWAL(path + "-wal")
        return .success(pages)
    }

    func close() {
        _ = Glibc.close(fd)
        if walFD >= 0 { _ = Glibc.close(walFD) }
    }

    /// Page `number` (1-based) whole, or nil when it is not (wholly) in the file or the WAL.
    func page(_ number: Int) -> [UInt8]? {
        guard number >= 1, number <= pageCount else { return nil }
        var out = [UInt8](repeating: 0, count: pageSize)
        let (from, at) = walPages[number].map { (walFD, off_t($0)) } ?? (fd, off_t(number - 1) * off_t(pageSize))
        let n = out.withUnsafeMutableBytes { pread(from, $0.baseAddress, pageSize, at) }
        return n == pageSize ? out : nil
    }

    // MARK: - The WAL

    /// Reads the frames of the WAL at `path` that SQLite would: those after its header whose
    /// salts match it and whose running checksum holds, up to the last commit frame; the newest
    /// copy of each page wins. A missing, empty or foreign WAL is none.
    mutating func readWAL(_ path: String) {
        let wfd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard wfd >= 0 else { return }
        var st = stat()
        guard fstat(wfd, &st) == 0, st.st_size >= 32 + 24 + pageSize else { _ = Glibc.close(wfd); return }
        func read(_ count: Int, at: Int) -> [UInt8]? {
            var out = [UInt8](repeating: 0, count: count)
            let n = out.withUnsafeMutableBytes { pread(wfd, $0.baseAddress, count, off_t(at)) }
            return n == count ? out : nil
        }
        guard let header = read(32, at: 0) else { _ = Glibc.close(wfd); return }
        let magic = Self.be(header, 0, 4)
        guard magic == 0x377f_0682 || magic == 0x377f_0683, Self.be(header, 8, 4) == pageSize else {
            _ = Glibc.close(wfd)
            return
        }
        let bigEndian = magic == 0x377f_0683
        var sum = Self.walChecksum(header[0..<24], bigEndian: bigEndian, (0, 0))
        guard sum.0 == UInt32(Self.be(header, 24, 4)), sum.1 == UInt32(Self.be(header, 28, 4)) else { _ = Glibc.close(wfd); return }
        var pending: [Int: Int] = [:]
        var committed: [Int: Int] = [:]
        var databasePages = 0
        var at = 32
        while at + 24 + pageSize <= Int(st.st_size), let frame = read(24 + pageSize, at: at) {
            let number = Self.be(frame, 0, 4)
            guard number >= 1, frame[8..<16] == header[16..<24] else { break }
            sum = Self.walChecksum(frame[0..<8], bigEndian: bigEndian, sum)
            sum = Self.walChecksum(frame[24...], bigEndian: bigEndian, sum)
            guard sum.0 == UInt32(Self.be(frame, 16, 4)), sum.1 == UInt32(Self.be(frame, 20, 4)) else { break }
            pending[number] = at + 24
            let size = Self.be(frame, 4, 4)
            if size > 0 {
                committed.merge(pending) { _, new in new }
                pending = [:]
                databasePages = size
            }
            at += 24 + pageSize
        }
        guard !committed.isEmpty else { _ = Glibc.close(wfd); return }
        walFD = wfd
        walPages = committed.filter { $0.key <= databasePages }
        pageCount = databasePages
        if let first = page(1) {
            freelistTrunk = Self.be(first, 32, 4)
            freelistCount = Self.be(first, 36, 4)
        }
    }

    /// The WAL's running checksum (two 32-bit sums over 32-bit words) continued over `bytes`.
    static func walChecksum(_ bytes: ArraySlice<UInt8>, bigEndian: Bool, _ start: (UInt32, UInt32)) -> (UInt32, UInt32) {
        var (s0, s1) = start
        var i = bytes.startIndex
        func word(_ at: Int) -> UInt32 {
            let b = (UInt32(bytes[at]), UInt32(bytes[at + 1]), UInt32(bytes[at + 2]), UInt32(bytes[at + 3]))
            return bigEndian ? b.0 << 24 | b.1 << 16 | b.2 << 8 | b.3 : b.3 << 24 | b.2 << 16 | b.1 << 8 | b.0
        }
        while i + 8 <= bytes.endIndex {
            s0 = s0 &+ word(i) &+ s1
            s1 = s1 &+ word(i + 4) &+ s0
            i += 8
        }
        return (s0, s1)
    }

    // MARK: - The freelist

    /// The pages on the freelist (trunks and leaves), and what kept it from being read whole.
    func freelist() -> (pages: Set<Int>, problem: String?) {
        var pages = Set<Int>()
        var trunk = freelistTrunk
        var trunks = 0
        while trunk != 0 {
            guard trunk <= pageCount, let p = page(trunk) else {
                return (pages, "its trunk page \(trunk) is beyond the end of the file (\(pageCount) pages)")
            }
            guard pages.insert(trunk).inserted else { return (pages, "its trunk pages form a cycle at page \(trunk)") }
            trunks += 1
            let leaves = Self.be(p, 4, 4)
            guard leaves <= (usable - 8) / 4 else {
                return (pages, "its trunk page \(trunk) lists \(leaves) pages, more than a page can hold")
            }
            for i in 0..<leaves {
                let leaf = Self.be(p, 8 + 4 * i, 4)
                if leaf >= 1 && leaf <= pageCount { pages.insert(leaf) }
            }
            trunk = Self.be(p, 0, 4)
            guard trunks <= pageCount else { return (pages, "its trunk chain is longer than the file") }
        }
        if pages.count < min(freelistCount, pageCount) {
            return (pages, "it lists \(pages.count) pages in the file, the header says \(freelistCount)")
        }
        return (pages, nil)
    }

    // MARK: - B-tree pages

    /// One cell of a table or index b-tree page, with its payload gathered from its overflow
    /// pages.
    struct Cell {
        var rowid: Int64?
        var payload: [UInt8]
        /// The overflow pages it spans.
        var overflow: [Int]
    }

    enum Kind: UInt8 {
        case indexInterior = 2, tableInterior = 5, indexLeaf = 10, tableLeaf = 13
    }

    /// The kind of b-tree page `p` (page `number`) is, and where its header starts.
    static func kind(_ p: [UInt8], number: Int) -> (Kind, Int)? {
        let h = number == 1 ? 100 : 0
        guard h < p.count, let kind = Kind(rawValue: p[h]) else { return nil }
        return (kind, h)
    }

    /// The cells of a b-tree page (nil when its header or cell pointer array does not fit), each
    /// nil when it does not parse or its payload cannot be gathered whole. Overflow pages in
    /// `skip` (the freelist) are not followed: a cell spilling onto a free page is stale.
    func cells(_ p: [UInt8], number: Int, skip: Set<Int> = []) -> (kind: Kind, cells: [Cell?], children: [Int])? {
        guard let (kind, h) = Self.kind(p, number: number) else { return nil }
        let interior = kind == .indexInterior || kind == .tableInterior
        let headerSize = interior ? 12 : 8
        let count = Self.be(p, h + 3, 2)
        let array = h + headerSize
        guard array + 2 * count <= usable else { return nil }
        var children: [Int] = []
        if interior { children.append(Self.be(p, h + 8, 4)) }
        var out: [Cell?] = []
        for i in 0..<count {
            let at = Self.be(p, array + 2 * i, 2)
            guard at >= array + 2 * count, at < usable else { out.append(nil); continue }
            var pos = at
            if interior {
                guard pos + 4 <= usable else { out.append(nil); continue }
                children.append(Self.be(p, pos, 4))
                pos += 4
                if kind == .tableInterior { continue }  // a key only, no payload
            }
            guard let (size, a) = Self.varint(p, pos, limit: usable) else { out.append(nil); continue }
            pos = a
            var rowid: Int64?
            if kind == .tableLeaf {
                guard let (r, b) = Self.varint(p, pos, limit: usable) else { out.append(nil); continue }
                rowid = Int64(bitPattern: r)
                pos = b
            }
            out.append(payload(p, at: pos, size: size, index: kind == .indexLeaf || kind == .indexInterior, skip: skip)
                .map { Cell(rowid: rowid, payload: $0.0, overflow: $0.1) })
        }
        return (kind, out, children)
    }

    /// The payload of `size` bytes whose local part starts at `at`, with its overflow pages.
    func payload(_ p: [UInt8], at: Int, size raw: UInt64, index: Bool, skip: Set<Int>) -> ([UInt8], [Int])? {
        // No payload is larger than the pages of the file could hold.
        guard raw <= UInt64(max(pageCount, 1)) * UInt64(usable) else { return nil }
        let size = Int(raw)
        let u = usable
        let maxLocal = index ? (u - 12) * 64 / 255 - 23 : u - 35
        let minLocal = (u - 12) * 32 / 255 - 23
        var local = size
        if size > maxLocal {
            let k = minLocal + (size - minLocal) % (u - 4)
            local = k <= maxLocal ? k : minLocal
        }
        guard at + local + (local < size ? 4 : 0) <= u else { return nil }
        var out = Array(p[at..<at + local])
        guard local < size else { return (out, []) }
        out.reserveCapacity(size)
        var next = Self.be(p, at + local, 4)
        var chain: [Int] = []
        var seen = Set<Int>()
        while out.count < size {
            // Bounded: each page once, and at most the file's pages.
            guard next >= 2, !skip.contains(next), seen.insert(next).inserted, let o = page(next) else { return nil }
            chain.append(next)
            let take = min(size - out.count, u - 4)
            out += o[4..<4 + take]
            next = Self.be(o, 0, 4)
        }
        return (out, chain)
    }

    // MARK: - Records

    /// One value of a record.
    enum Value: Equatable {
        case null
        case integer(Int64)
        case real(UInt64)
        case text(ArraySlice<UInt8>)
        case blob(ArraySlice<UInt8>)
    }

    /// The values of a record (its header of serial types, then the body); nil when it does
    /// not parse exactly (a header or body running past the payload, a reserved serial type).
    static func record(_ payload: [UInt8]) -> [Value]? {
        guard let (headerSize, first) = varint(payload, 0, limit: payload.count),
              headerSize <= UInt64(payload.count), Int(headerSize) >= first else { return nil }
        var types: [UInt64] = []
        var pos = first
        while pos < Int(headerSize) {
            guard let (t, next) = varint(payload, pos, limit: Int(headerSize)) else { return nil }
            types.append(t)
            pos = next
        }
        var body = Int(headerSize)
        var out: [Value] = []
        for t in types {
            let length: Int
            switch t {
            case 0, 8, 9: length = 0
            case 1, 2, 3, 4: length = Int(t)
            case 5: length = 6
            case 6, 7: length = 8
            case 10, 11: return nil
            default:
                guard t <= UInt64(payload.count) * 2 + 13 else { return nil }
                length = Int(t - 12) / 2
            }
            guard body + length <= payload.count else { return nil }
            let bytes = payload[body..<body + length]
            switch t {
            case 0: out.append(.null)
            case 8: out.append(.integer(0))
            case 9: out.append(.integer(1))
            case 1...6:
                // Big-endian two's complement, sign-extended.
                var v: Int64 = Int64(Int8(bitPattern: bytes.first!))
                for b in bytes.dropFirst() { v = v << 8 | Int64(b) }
                out.append(.integer(v))
            case 7: out.append(.real(bytes.reduce(0) { $0 << 8 | UInt64($1) }))
            default: out.append(t % 2 == 0 ? .blob(bytes) : .text(bytes))
            }
            body += length
        }
        guard body == payload.count else { return nil }
        return out
    }

    // MARK: - Bytes

    /// A big-endian unsigned number of `count` bytes at `at`; 0 past the end of `p`.
    static func be(_ p: [UInt8], _ at: Int, _ count: Int) -> Int {
        guard at >= 0, at + count <= p.count else { return 0 }
        var v = 0
        for i in at..<at + count { v = v << 8 | Int(p[i]) }
        return v
    }

    /// A SQLite varint (1-9 bytes, big-endian, the ninth byte whole) at `at`, below `limit`, and
    /// where the next thing starts.
    static func varint(_ p: [UInt8], _ at: Int, limit: Int) -> (UInt64, Int)? {
        var v: UInt64 = 0
        let end = min(limit, p.count)
        for i in 0..<9 {
            guard at + i < end, at + i >= 0 else { return nil }
            let b = p[at + i]
            if i == 8 { return (v << 8 | UInt64(b), at + 9) }
            v = v << 7 | UInt64(b & 0x7f)
            if b & 0x80 == 0 { return (v, at + i + 1) }
        }
        return nil
    }
}

/// Why a file cannot be read page by page.
struct PageProblem: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
