#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import Synchronization

/// The in-process index of a persistent store, written beside it (`PATH.image`) so that another
/// process can answer searches from a mapping instead of loading every row: each slot's memory
/// id with a checksum of its vector and of its content, the vectors as the index keeps them, and
/// the keyword index (`MappedKeywordIndex`). It goes with the graph file written at the same time
/// (named by that file's size and checksum), and records the store's sequence number it reflects.
///
/// Derived data, written like the graph file (`DerivedFile`: a crash leaves the old or the new
/// file); a missing, damaged, foreign or stale image is never an error: the store loads its rows.
///
/// Layout, little-endian: "STRIMG01", u32 version (2), dimension, metric (as the graph file),
/// u32 CRC-32C of the graph file's bytes (its trailer), u64 graph file size, u64 slots, live
/// slots, stamp; u64 offset and length of the ids, vectors, keywords and codes sections; u32
/// CRC-32C of the ids section; u32 CRC-32C of the 124 bytes before it. Sections start on 64
/// bytes. Ids: u64 offsets x (slots + 1), u32 vector CRC x slots, u32 content CRC x slots, u32
/// slot x live (sorted by id bytes, for lookups), the ids' UTF-8 (each array on 8 bytes).
/// Vectors: slots x dimension f32 (free slots zero), each row checked against its CRC when it
/// is a hit. Keywords: `KeywordIndex.encoded`. Codes (empty without compression):
/// `CodesParameters.encoded`, what the graph's compressed copies are made with, so a mapped
/// walk reads the same copies as the loaded store's (each made from its row when the row is
/// first read).
public enum StoreImage {
    static let magic = Array("STRIMG01".utf8)
    static let version: UInt32 = 2
    static let headerBytes = 128

    /// The checksum the image keeps of a memory's content.
    public static func contentChecksum(_ content: String) -> UInt32 {
        var text = content
        return text.withUTF8 { CRC32C.checksum(UnsafeRawBufferPointer($0)) }
    }

    /// The graph file's identity: its size and its trailing CRC (nil when it cannot be read).
    static func graphIdentity(_ path: String) -> (size: Int, crc: UInt32)? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size >= 4 else { return nil }
        var crc: UInt32 = 0
        guard pread(fd, &crc, 4, off_t(info.st_size - 4)) == 4 else { return nil }
        return (Int(info.st_size), UInt32(littleEndian: crc))
    }

    /// Sizes of the ids section's arrays, in order.
    static func idArrays(slots: Int, live: Int, idBytes: Int) -> [Int] {
        [8 * (slots + 1), 4 * slots, 4 * slots, 4 * live, idBytes]
    }

    static func align(_ n: Int, _ to: Int) -> Int { (n + to - 1) / to * to }

    /// The image of an index: `ids[s]` the memory in slot s (nil: free), `matrix` the kept rows.
    static func encode(
        dimension: Int, metric: Metric, graph: (size: Int, crc: UInt32), stamp: Int64,
        ids: [String?], contentChecksums: [UInt32], matrix: UnsafeBufferPointer<Float>, keywords: [UInt8],
        codes: [UInt8] = []
    ) -> [UInt8] {
        let slots = ids.count
        let utf8 = ids.map { Array(($0 ?? "").utf8) }
        let liveSlots = (0..<slots).filter { ids[$0] != nil }.sorted { utf8[$0].lexicographicallyPrecedes(utf8[$1]) }
        let idBytes = utf8.reduce(0) { $0 + $1.count }
        let arrays = idArrays(slots: slots, live: liveSlots.count, idBytes: idBytes)
        let idsLength = arrays.reduce(0) { $0 + align($1, 8) }
        let idsAt = align(headerBytes, 64)
        let vectorsAt = align(idsAt + idsLength, 64)
        let vectorsLength = slots * dimension * 4
        let keywordsAt = align(vectorsAt + vectorsLength, 64)
        let codesAt = align(keywordsAt + keywords.count, 64)
        var out = [UInt8](repeating: 0, count: codesAt + codes.count)
        out.withUnsafeMutableBytes { raw in
            let base = raw.baseAddress!
            func put<T>(_ v: T, at: Int) { withUnsafeBytes(of: v) { (base + at).copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
            base.copyMemory(from: magic, byteCount: 8)
            put(version.littleEndian, at: 8)
            put(UInt32(dimension).littleEndian, at: 12)
            put(SavedGraph.metricCode(metric).littleEndian, at: 16)
            put(graph.crc.littleEndian, at: 20)
            for (i, v) in [graph.size, slots, liveSlots.count, Int(stamp), idsAt, idsLength, vectorsAt, vectorsLength,
                           keywordsAt, keywords.count, codesAt, codes.count].enumerated() {
                put(UInt64(v).littleEndian, at: 24 + 8 * i)
            }
            // The ids section.
            var at = idsAt
            let offsets = (base + at).assumingMemoryBound(to: UInt64.self)
            at += align(arrays[0], 8)
            let vectorCRC = (base + at).assumingMemoryBound(to: UInt32.self)
            at += align(arrays[1], 8)
            let contentCRC = (base + at).assumingMemoryBound(to: UInt32.self)
            at += align(arrays[2], 8)
            let byID = (base + at).assumingMemoryBound(to: UInt32.self)
            at += align(arrays[3], 8)
            let bytes = (base + at).assumingMemoryBound(to: UInt8.self)
            var byteAt = 0
            for s in 0..<slots {
                offsets[s] = UInt64(byteAt).littleEndian
                (bytes + byteAt).update(from: utf8[s], count: utf8[s].count)
                byteAt += utf8[s].count
                if ids[s] != nil {
                    vectorCRC[s] = SavedGraph.checksum(matrix.baseAddress! + s * dimension, dimension: dimension).littleEndian
                    contentCRC[s] = contentChecksums[s].littleEndian
                }
            }
            offsets[slots] = UInt64(byteAt).littleEndian
            for (i, s) in liveSlots.enumerated() { byID[i] = UInt32(s).littleEndian }
            put(CRC32C.checksum(UnsafeRawBufferPointer(start: base + idsAt, count: idsLength)).littleEndian, at: 120)
            if vectorsLength > 0 {
                (base + vectorsAt).copyMemory(from: matrix.baseAddress!, byteCount: vectorsLength)
            }
            (base + keywordsAt).copyMemory(from: keywords, byteCount: keywords.count)
            (base + codesAt).copyMemory(from: codes, byteCount: codes.count)
            put(CRC32C.checksum(UnsafeRawBufferPointer(start: base, count: 124)).littleEndian, at: 124)
        }
        return out
    }
}

/// A store's saved index (`StoreImage` and the graph file beside it) searched where it lies:
/// what a process that opens a large store to answer a few searches uses instead of loading
/// every row. Vector search walks the saved graph over the mapped vectors; keyword search runs
/// on the mapped keyword index. Memories are not held: `accept` asks the caller about an id
/// (the caller reads the memory from its store and applies its filter).
///
/// Vectors are read, not mapped: a search reads each row it needs once (`pread`, into memory
/// reserved for all of them but resident only where written). A mapping would let the kernel
/// map the cached pages around every page a row faults in (16 at a time, whatever `madvise`
/// says), and the few thousand scattered rows a recall reads would make most of a cached 150 MB
/// file resident: measured, 104 MB of it for one recall at 100k x 384.
///
/// Thread-safe: any number of threads may search it (rows are read in under a lock).
public final class MappedVectorIndex: @unchecked Sendable {
    public let dimension: Int
    public let metric: Metric
    /// The store's sequence number the image reflects.
    public let stamp: Int64
    /// Memories in the image.
    public let count: Int
    private let file: MappedFile
    private let graph: HNSWGraph
    private let settings: VectorIndexSettings
    private let keywords: MappedKeywordIndex
    private let slots: Int
    private let offsets: UnsafePointer<UInt64>
    private let vectorCRC: UnsafePointer<UInt32>
    private let contentCRC: UnsafePointer<UInt32>
    private let byID: UnsafePointer<UInt32>
    private let idBytes: UnsafePointer<UInt8>
    /// The rows read so far, at their places in memory reserved for every row.
    private let rows: VectorRows

    /// Maps the image at `image` and reads the graph file at `graphFile` it was written with.
    /// - Throws: `.io` when a file cannot be read, `.corrupt` with the reason when one is
    ///   damaged, of another format, or they do not belong together or to this store (dimension,
    ///   metric, graph settings). Nothing here is the store's data: the caller loads its rows.
    public init(image: String, graphFile: String, dimension: Int, metric: Metric, settings: VectorIndexSettings) throws(StrataError) {
        func bad(_ why: String) -> StrataError { StrataError(.corrupt, why) }
        let file = try MappedFile(image, what: "index image")
        let bytes = file.bytes
        guard bytes.count >= StoreImage.headerBytes, memcmp(bytes.baseAddress!, StoreImage.magic, 8) == 0 else {
            throw bad("it is not a Strata index image")
        }
        func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
        func u64(_ at: Int) -> Int { Int(truncatingIfNeeded: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt64.self))) }
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<124])) == u32(124) else { throw bad("its header checksum does not match") }
        guard u32(8) == StoreImage.version else { throw bad("it has another format version") }
        guard Int(u32(12)) == dimension, u32(16) == SavedGraph.metricCode(metric) else {
            throw bad("it was written for another dimension or metric")
        }
        let slots = u64(32), live = u64(40)
        let idsAt = u64(56), idsLength = u64(64), vectorsAt = u64(72), vectorsLength = u64(80), keywordsAt = u64(88), keywordsLength = u64(96)
        let codesAt = u64(104), codesLength = u64(112)
        let n = bytes.count
        guard slots >= 0, slots <= n, live >= 0, live <= slots, vectorsLength == slots * dimension * 4,
              [idsAt, vectorsAt, keywordsAt, codesAt].allSatisfy({ $0 >= StoreImage.headerBytes && $0 % 64 == 0 && $0 <= n }),
              idsLength >= 0, idsLength <= n - idsAt, vectorsLength <= n - vectorsAt, keywordsLength >= 0, keywordsLength <= n - keywordsAt,
              codesLength >= 0, codesLength == n - codesAt,
              idsAt + idsLength <= vectorsAt, vectorsAt + vectorsLength <= keywordsAt, keywordsAt + keywordsLength <= codesAt else {
            throw bad("its header is inconsistent (\(n) bytes)")
        }
        // The compressed copies' parameters, when the index walks on copies.
        let parameters = try CodesParameters(encoded: UnsafeRawBufferPointer(rebasing: bytes[codesAt..<n]), dimension: dimension)
        guard (parameters?.kind ?? .none) == settings.compression else {
            throw bad("it was written for compression \"\(parameters?.kind.rawValue ?? "none")\", the index is set to \"\(settings.compression.rawValue)\"")
        }
        guard let identity = StoreImage.graphIdentity(graphFile) else { throw bad("the graph file \"\(graphFile)\" is missing") }
        guard identity.size == u64(24), identity.crc == u32(20) else {
            throw bad("the graph file beside it was written at another time")
        }
        let ids = UnsafeRawBufferPointer(rebasing: bytes[idsAt..<(idsAt + idsLength)])
        guard CRC32C.checksum(ids) == u32(120) else { throw bad("its ids checksum does not match") }
        let arrays = StoreImage.idArrays(slots: slots, live: live, idBytes: 0)
        var at = idsAt
        let base = bytes.baseAddress!
        offsets = (base + at).assumingMemoryBound(to: UInt64.self)
        at += StoreImage.align(arrays[0], 8)
        vectorCRC = (base + at).assumingMemoryBound(to: UInt32.self)
        at += StoreImage.align(arrays[1], 8)
        contentCRC = (base + at).assumingMemoryBound(to: UInt32.self)
        at += StoreImage.align(arrays[2], 8)
        byID = (base + at).assumingMemoryBound(to: UInt32.self)
        at += StoreImage.align(arrays[3], 8)
        idBytes = (base + at).assumingMemoryBound(to: UInt8.self)
        let idByteCount = idsAt + idsLength - at
        guard offsets[0] == 0, Int(offsets[slots]) <= idByteCount else { throw bad("its id table is out of range") }
        for s in 0..<slots where offsets[s] > offsets[s + 1] { throw bad("its id table is out of order") }
        for i in 0..<live where Int(byID[i]) >= slots { throw bad("its id lookup table is out of range") }
        rows = try VectorRows(path: image, at: vectorsAt, rows: slots, dimension: dimension)
        keywords = try MappedKeywordIndex(bytes: UnsafeRawBufferPointer(rebasing: bytes[keywordsAt..<(keywordsAt + keywordsLength)]))
        // Checked: hand the pages back. A search faults in the few it reads (the postings of its
        // words, the ids of its hits) instead of the process keeping both sections resident.
        file.release(idsAt..<(idsAt + idsLength))
        file.release(keywordsAt..<(keywordsAt + keywordsLength))
        // The graph, as a full open restores it.
        let saved: SavedGraph
        do {
            saved = try SavedGraph(file: graphFile)
        } catch {
            throw bad("graph file \"\(graphFile)\": \(error.message)")
        }
        guard saved.rows == slots, saved.dimension == dimension, saved.metric == metric, saved.m == settings.m,
              saved.efConstruction == settings.efConstruction else {
            throw bad("the graph file does not match it or the index settings")
        }
        graph = HNSWGraph(saved: saved, settings: settings)
        if let parameters {
            // The copies of the rows are made as the rows are read (`VectorRows.ensure`).
            let codes = HNSWCodes(kind: parameters.kind, dimension: dimension, l2: metric == .l2)
            codes.reserve(rows: slots)
            codes.use(parameters)
            graph.attach(codes)
            rows.onRead = { n, row in codes.encode(n, from: row) }
        }
        self.file = file
        self.dimension = dimension
        self.metric = metric
        self.settings = settings
        self.slots = slots
        stamp = Int64(u64(48))
        count = live
    }

    /// Reads every vector row in now, in long sequential reads (`VectorRows.ensureAll`): for a
    /// process that will keep searching, so its walks stop reading rows one at a time. Safe
    /// while other threads search; `stop` is asked between reads.
    public func readAllRows(stop: () -> Bool = { false }) { rows.ensureAll(stop: stop) }

    /// Vector rows read in so far.
    public var rowsRead: Int { rows.rowsRead }

    /// The id of slot `s` ("" when free).
    private func id(_ s: Int) -> String {
        let from = Int(offsets[s])
        return String(decoding: UnsafeBufferPointer(start: idBytes + from, count: Int(offsets[s + 1]) - from), as: UTF8.self)
    }

    /// The slot holding `id`, by binary search of the sorted table.
    private func slot(of id: String) -> Int? {
        var key = id
        return key.withUTF8 { w -> Int? in
            var lo = 0, hi = count
            while lo < hi {
                let mid = (lo + hi) / 2
                let s = Int(byID[mid])
                let from = Int(offsets[s]), length = Int(offsets[s + 1]) - from
                let c = w.count == 0 || length == 0 ? 0 : memcmp(idBytes + from, w.baseAddress!, min(length, w.count))
                let order = c != 0 ? Int(c) : length - w.count
                if order == 0 { return s }
                if order < 0 { lo = mid + 1 } else { hi = mid }
            }
            return nil
        }
    }

    /// Whether the image holds `id` with this vector (once kept: unit length for cosine, which
    /// leaves the kept vector `get` answers as it is) and this content, so that an update which
    /// leaves both as they were (an access count, a metadata change) leaves the image right.
    public func holds(id: String, vector: [Float], content: String) -> Bool {
        guard let s = slot(of: id), vector.count == dimension,
              StoreImage.contentChecksum(content) == UInt32(littleEndian: contentCRC[s]) else { return false }
        let kept = metric == .cosine ? Vectors.normalized(vector) : vector
        return kept.withUnsafeBufferPointer { SavedGraph.checksum($0.baseAddress!, dimension: dimension) } == UInt32(littleEndian: vectorCRC[s])
    }

    /// The k nearest memories to `query` (given as the caller has it; normalised here for
    /// cosine) that `filter` matches, nearest first, scored as `InMemoryVectorStore` scores them;
    /// or nil when that store would not answer from its graph (a filter selective enough for
    /// its exact plan, or one the walk could not satisfy k times): the caller loads the rows and
    /// asks it. `memory` reads a memory by id from the store (nil: not there).
    /// - Throws: `.corrupt` when a hit's row in the image no longer matches its checksum.
    public func search(_ query: [Float], k: Int, ef: Int? = nil, filter: Filter?,
                       memory: (String) throws(StrataError) -> Memory?) throws(StrataError) -> [(id: String, score: Float)]? {
        guard k > 0, count > 0 else { return [] }
        let filter = filter.flatMap { $0.isAlways ? nil : $0 }
        let ef = ef ?? settings.efSearch
        var failure: StrataError?
        func matches(_ f: Filter, _ id: String) -> Bool {
            do throws(StrataError) {
                return try memory(id).map(f.matches) ?? false
            } catch {
                failure = failure ?? error
                return false
            }
        }
        let q = metric == .cosine ? Vectors.normalized(query) : query
        let vectorRows = self.rows
        let rows = GraphRows(base: vectorRows.base, dimension: dimension, ensure: { vectorRows.ensure($0, $1) })
        var found: [(node: UInt32, distance: Float)]?
        if let filter {
            // The plan as the loaded store would choose it, with the filter's selectivity taken
            // from a sample (the store's metadata index is not loaded): a fraction small enough
            // for the exact plan there is answered by the loaded store here too. choose() below
            // scans the sampled share of rows, not all of them, so the walk wins above the square
            // root of the loaded store's threshold; the sample stops once the fraction is above
            // that and above 95%, where the loaded store tries the broad-filter walk with ef
            // candidates (BroadFilterWalk): a sampled share read as every row.
            let enough = max(0.95, SearchPlan.graphAbove(rows: count, k: k, ef: ef, m: settings.m).squareRoot())
            let fraction = SearchPlan.sampleSelectivity(slots: slots, enough: enough) { s in
                offsets[s] == offsets[s + 1] ? nil : matches(filter, id(s))
            }
            if let failure { throw failure }
            let estimate = Int((fraction * Double(count)).rounded(.up))
            if let candidates = BroadFilterWalk.candidates(rows: count, k: k, ef: ef, m: settings.m, filter: filter,
                                                           matchesAtMost: fraction > enough ? nil : estimate) {
                found = withoutActuallyEscaping(matches) { matches in
                    q.withUnsafeBufferPointer { qp in
                        BroadFilterWalk.search(graph, query: qp.baseAddress!, rows: rows, k: k, ef: ef, candidates: candidates) {
                            matches(filter, self.id(Int($0)))
                        }
                    }
                }
                if let failure { throw failure }
            }
            if found == nil {
                let plan = SearchPlan.choose(rows: count, k: k, ef: ef, m: settings.m, filter: filter,
                                             candidates: estimate, sample: { _, _ in fraction })
                guard plan == .graph else { return nil }
            }
        }
        if found == nil {
            // The walk's filter is an optional (so escaping) closure; it does not outlive the walk.
            let walked = withoutActuallyEscaping(matches) { matches in
                q.withUnsafeBufferPointer { qp in
                    graph.search(qp.baseAddress!, rows: rows, k: k, ef: ef,
                                 accept: filter.map { f in { matches(f, self.id(Int($0))) } })
                }
            }
            if let failure { throw failure }
            if filter != nil, walked.count < k { return nil }
            found = walked
        }
        let hits = found ?? []
        if let unread = vectorRows.takeFailure() {
            throw StrataError(.corrupt, "index image: \(unread)")
        }
        var out: [(id: String, score: Float)] = []
        out.reserveCapacity(hits.count)
        for hit in hits {
            let s = Int(hit.node)
            guard SavedGraph.checksum(rows.row(hit.node), dimension: dimension) == UInt32(littleEndian: vectorCRC[s]) else {
                throw StrataError(.corrupt, "index image: the vector of slot \(s) (\(id(s))) does not match its checksum")
            }
            out.append((id(s), Float(Double(-hit.distance))))
        }
        return out
    }

    /// The saved index as it serves now: a graph over the image's rows, `mapped`, its vectors
    /// counted at the rows searches have read in (the rest stay on disk until a search needs
    /// them), and with compression the copies made of those rows.
    /// Complexity: O(rows / 64 + upper-layer nodes).
    public var indexReport: IndexReport {
        let read = rows.rowsRead
        return IndexReport(
            kind: .hnsw, rows: count,
            graph: IndexReport.Graph(m: settings.m, efConstruction: settings.efConstruction, efSearch: settings.efSearch),
            compression: graph.compression,
            bytes: IndexReport.Bytes(vectors: read * dimension * 4, codes: read * graph.codeBytesPerRow, graph: graph.bytes),
            mapped: true)
    }

    /// BM25 top k among the memories `filter` matches (`MappedKeywordIndex.search`), as
    /// `InMemoryVectorStore.keywordSearch` ranks them.
    public func keywordSearch(_ query: String, k: Int, filter: Filter?,
                              memory: (String) throws(StrataError) -> Memory?) throws(StrataError) -> [(id: String, score: Double)] {
        let filter = filter.flatMap { $0.isAlways ? nil : $0 }
        var failure: StrataError?
        let hits = keywords.search(query, k: k) { id in
            guard let filter else { return true }
            do throws(StrataError) {
                return try memory(id).map(filter.matches) ?? false
            } catch {
                failure = failure ?? error
                return false
            }
        }
        if let failure { throw failure }
        return hits
    }
}

/// The vectors section of an image, read row by row as searches need them (see
/// `MappedVectorIndex`): memory for every row is reserved at once (anonymous, so it costs
/// nothing until written) and each row is read into its place the first time it is asked for.
final class VectorRows: @unchecked Sendable {
    let base: UnsafePointer<Float>
    private let memory: UnsafeMutableRawPointer?
    private let bytes: Int
    private let rowBytes: Int
    private let offset: Int
    private let fd: Int32
    private let path: String
    /// One bit per row read, how many, and the first read that failed. A pthread lock
    /// (`Guarded`): searches of one mapping run on several threads at once, and ThreadSanitizer
    /// sees pthread locks, not Synchronization.Mutex (scripts/sanitize-tsan.supp).
    private let state: Guarded<(read: [UInt64], count: Int, failure: String?)>

    init(path: String, at offset: Int, rows: Int, dimension: Int) throws(StrataError) {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StrataError(.io, "cannot open index image \(path): \(String(cString: strerror(errno)))") }
        self.path = path
        self.offset = offset
        rowBytes = dimension * 4
        bytes = rows * rowBytes
        if bytes > 0 {
            guard let p = mmap(nil, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0), p != MAP_FAILED else {
                close(fd)
                throw StrataError(.io, "cannot reserve \(bytes) bytes for the vectors of \(path): \(String(cString: strerror(errno)))")
            }
            memory = p
            base = UnsafePointer(p.assumingMemoryBound(to: Float.self))
        } else {
            memory = nil
            base = UnsafePointer(bitPattern: 64)!  // never read: there are no rows
        }
        state = Guarded(([UInt64](repeating: 0, count: (rows + 63) / 64), 0, nil))
    }

    deinit {
        if let memory { munmap(memory, bytes) }
        close(fd)
    }

    /// Reads in every row of `nodes` not read yet. A row that cannot be read is left zero and
    /// the failure kept for `takeFailure`.
    func ensure(_ nodes: UnsafePointer<UInt32>, _ count: Int) {
        guard let memory else { return }
        state.write { s in
            for i in 0..<count {
                let n = Int(nodes[i])
                let bit: UInt64 = 1 << UInt64(n & 63)
                guard s.read[n >> 6] & bit == 0 else { continue }
                s.read[n >> 6] |= bit
                s.count += 1
                var done = 0
                while done < rowBytes {
                    let got = pread(fd, memory + n * rowBytes + done, rowBytes - done, off_t(offset + n * rowBytes + done))
                    if got < 0, errno == EINTR { continue }
                    guard got > 0 else {
                        if s.failure == nil { s.failure = "cannot read row \(n) of \(path): \(got < 0 ? String(cString: strerror(errno)) : "the file ends early")" }
                        break
                    }
                    done += got
                }
                onRead?(n, base + n * (rowBytes / 4))
            }
        }
    }

    /// Reads in every row not read yet, in long sequential reads (`chunk` rows each) instead of
    /// a read per row: a process that is about to load the store's rows anyway (see
    /// SQLiteRowLoad.swift) walks at full speed from then on, where a cold walk reads a few
    /// thousand scattered rows one system call at a time. Each chunk is read outside the lock
    /// into a buffer and only its rows still unread are copied in, under the lock, so searches
    /// go on meanwhile and never see a row they already use rewritten. Read failures are kept
    /// as `ensure` keeps them.
    func ensureAll(chunk: Int = 1024, stop: () -> Bool = { false }) {
        guard let memory else { return }
        let rows = bytes / rowBytes
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: chunk * rowBytes, alignment: 64)
        defer { buffer.deallocate() }
        var first = 0
        while first < rows, !stop() {
            let count = min(chunk, rows - first)
            var done = 0, failure: String?
            while done < count * rowBytes {
                let got = pread(fd, buffer + done, count * rowBytes - done, off_t(offset + first * rowBytes + done))
                if got < 0, errno == EINTR { continue }
                guard got > 0 else {
                    failure = "cannot read rows \(first)..<\(first + count) of \(path): \(got < 0 ? String(cString: strerror(errno)) : "the file ends early")"
                    break
                }
                done += got
            }
            state.write { s in
                if let failure {
                    if s.failure == nil { s.failure = failure }
                    return
                }
                for n in first..<(first + count) {
                    let bit: UInt64 = 1 << UInt64(n & 63)
                    guard s.read[n >> 6] & bit == 0 else { continue }
                    s.read[n >> 6] |= bit
                    s.count += 1
                    (memory + n * rowBytes).copyMemory(from: buffer + (n - first) * rowBytes, byteCount: rowBytes)
                    onRead?(n, base + n * (rowBytes / 4))
                }
            }
            if failure != nil { return }
            first += count
        }
    }

    /// Called with each row as it is read in, under the lock (the graph's copy of it is made
    /// here). Set before the first search.
    var onRead: ((Int, UnsafePointer<Float>) -> Void)?

    /// Rows read in so far (what the reserved memory holds resident).
    var rowsRead: Int { state.read { $0.count } }

    /// The first failed read since the last call, if any.
    func takeFailure() -> String? {
        state.write { s in
            defer { s.failure = nil }
            return s.failure
        }
    }
}
