#if canImport(Glibc)
import Glibc
#endif
import StrataCore

/// The graph as saved beside a store: its links, and for each row the memory id and a checksum
/// of the vector it was linked with, so that an open can tell which rows are still as they were.
///
/// The file is derived data. It is written whole to a temporary file, synced and renamed over
/// the old one, so a crash while saving leaves the old file or the new one, never a mix; and a
/// missing, damaged, foreign or stale file is never an error: the open links whatever differs
/// (or rebuilds the graph) and says so.
///
/// Layout, little-endian: "STRHNSW1", then u32 version (1), dimension, metric (0 cosine, 1 dot,
/// 2 l2), m, ef_construction, u64 rows, i32 entry, i32 top layer; per row: i8 layer (-1: not a
/// node), u8 dead, u32 CRC-32C of the vector's bytes, u32 id length (0xFFFFFFFF: no memory),
/// the id's UTF-8; then layer 0's lists (rows x (2m + 1) u32), then each node's upper lists in row
/// order (layer x (m + 1) u32); then u32 CRC-32C of everything before it.
struct SavedGraph {
    static let magic = Array("STRHNSW1".utf8)
    static let version: UInt32 = 1

    var dimension: Int
    var metric: Metric
    var m: Int
    var efConstruction: Int
    var entry: Int32
    var maxLevel: Int
    var ids: [String?]
    var checksums: [UInt32]
    var levels: [Int8]
    var dead: [UInt8]
    var links0: [UInt32]
    var upper: [[UInt32]?]

    var rows: Int { ids.count }

    static func metricCode(_ metric: Metric) -> UInt32 {
        switch metric {
        case .cosine: 0
        case .dot: 1
        case .l2: 2
        }
    }

    /// The CRC-32C of a row's floats as the store keeps them.
    static func checksum(_ row: UnsafePointer<Float>, dimension: Int) -> UInt32 {
        CRC32C.checksum(UnsafeRawBufferPointer(start: row, count: dimension * 4))
    }

    func encoded() -> [UInt8] {
        var out = Self.magic
        out.reserveCapacity(64 + rows * 16 + links0.count * 4)
        func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        u32(Self.version)
        u32(UInt32(dimension))
        u32(Self.metricCode(metric))
        u32(UInt32(m))
        u32(UInt32(efConstruction))
        u64(UInt64(rows))
        u32(UInt32(bitPattern: entry))
        u32(UInt32(bitPattern: Int32(maxLevel)))
        for r in 0..<rows {
            out.append(UInt8(bitPattern: levels[r]))
            out.append(dead[r])
            u32(checksums[r])
            if let id = ids[r] {
                u32(UInt32(id.utf8.count))
                out.append(contentsOf: id.utf8)
            } else {
                u32(0xFFFF_FFFF)
            }
        }
        for v in links0 { u32(v) }
        for lists in upper { for v in lists ?? [] { u32(v) } }
        u32(CRC32C.checksum(out))
        return out
    }

    /// Decodes a saved graph. Throws `.corrupt` with the reason for anything that does not
    /// check out (the caller reports it and rebuilds).
    init(bytes: [UInt8]) throws(StrataError) {
        let decoded = bytes.withUnsafeBytes { raw in Result { () throws(StrataError) -> SavedGraph in try SavedGraph(bytes: raw) } }
        self = try decoded.get()
    }

    /// Reads the graph file at `path`, mapped rather than copied into memory.
    /// - Throws: `.io` when it cannot be read, `.corrupt` as `init(bytes:)`.
    init(file path: String) throws(StrataError) {
        let file = try MappedFile(path, what: "graph file")
        file.willNeed(0..<file.bytes.count)
        try self.init(bytes: file.bytes)
    }

    /// Decodes a saved graph from `bytes` (copied out: the result does not refer to them).
    init(bytes: UnsafeRawBufferPointer) throws(StrataError) {
        var at = 0
        func need(_ n: Int) throws(StrataError) {
            guard n >= 0, at + n <= bytes.count - 4 else { throw StrataError(.corrupt, "it ends early (\(bytes.count) bytes)") }
        }
        func u32() throws(StrataError) -> UInt32 {
            try need(4)
            defer { at += 4 }
            return UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self))
        }
        /// `count` words copied at once (the file is little-endian, as is every machine this builds for).
        func words(_ count: Int) throws(StrataError) -> [UInt32] {
            try need(count * 4)
            defer { at += count * 4 }
            return [UInt32](unsafeUninitializedCapacity: count) { out, n in
                UnsafeMutableRawBufferPointer(out).copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[at..<(at + count * 4)]))
                n = count
            }
        }
        guard bytes.count >= Self.magic.count + 44, memcmp(bytes.baseAddress!, Self.magic, 8) == 0 else {
            throw StrataError(.corrupt, "it is not a Strata HNSW file")
        }
        let stored = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: bytes.count - 4, as: UInt32.self))
        guard CRC32C.checksum(UnsafeRawBufferPointer(rebasing: bytes[0..<(bytes.count - 4)])) == stored else {
            throw StrataError(.corrupt, "its checksum does not match (damaged or cut short)")
        }
        at = 8
        guard try u32() == Self.version else { throw StrataError(.corrupt, "it has another format version") }
        dimension = Int(try u32())
        let metricCode = try u32()
        guard let metric = Metric.allCases.first(where: { Self.metricCode($0) == metricCode }) else {
            throw StrataError(.corrupt, "its metric code \(metricCode) is unknown")
        }
        self.metric = metric
        m = Int(try u32())
        efConstruction = Int(try u32())
        let low = UInt64(try u32()), high = UInt64(try u32())
        let rows = Int(clamping: low | high << 32)
        entry = Int32(bitPattern: try u32())
        maxLevel = Int(Int32(bitPattern: try u32()))
        guard m >= 2, m <= 128, rows >= 0, rows <= bytes.count, Int(entry) < rows, maxLevel < HNSWGraph.maxLevels else {
            throw StrataError(.corrupt, "its header is inconsistent")
        }
        ids = []
        checksums = []
        levels = []
        dead = []
        ids.reserveCapacity(rows)
        for _ in 0..<rows {
            try need(2)
            let level = Int8(bitPattern: bytes[at])
            let isDead = bytes[at + 1]
            at += 2
            guard level >= -1, Int(level) < HNSWGraph.maxLevels else { throw StrataError(.corrupt, "a row's layer is out of range") }
            levels.append(level)
            dead.append(isDead)
            checksums.append(try u32())
            let length = try u32()
            if length == 0xFFFF_FFFF {
                ids.append(nil)
            } else {
                try need(Int(length))
                ids.append(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[at..<at + Int(length)]), as: UTF8.self))
                at += Int(length)
            }
        }
        let m0 = 2 * m
        links0 = try words(rows * (m0 + 1))
        upper = []
        upper.reserveCapacity(rows)
        for r in 0..<rows {
            let layers = Int(levels[r])
            guard layers > 0 else {
                upper.append(nil)
                continue
            }
            upper.append(try words(layers * (m + 1)))
        }
        guard at == bytes.count - 4 else { throw StrataError(.corrupt, "it has \(bytes.count - 4 - at) bytes too many") }
        // Every link must name a row of the graph, and every count fit its list.
        for r in 0..<rows where levels[r] >= 0 {
            let base = r * (m0 + 1)
            guard Int(links0[base]) <= m0, (0..<Int(links0[base])).allSatisfy({ Int(links0[base + 1 + $0]) < rows }) else {
                throw StrataError(.corrupt, "row \(r) has a link out of range")
            }
            for layer in 0..<Int(levels[r]) {
                let l = upper[r]!, b = layer * (m + 1)
                guard Int(l[b]) <= m, (0..<Int(l[b])).allSatisfy({ Int(l[b + 1 + $0]) < rows }) else {
                    throw StrataError(.corrupt, "row \(r) has a link out of range on layer \(layer + 1)")
                }
            }
        }
    }

    init(graph: HNSWGraph, rows: Int, ids: [String?], checksums: [UInt32], metric: Metric) {
        dimension = graph.dimension
        self.metric = metric
        m = graph.m
        efConstruction = graph.efConstruction
        entry = graph.entry
        maxLevel = graph.maxLevel
        self.ids = ids
        self.checksums = checksums
        levels = (0..<rows).map { $0 < graph.capacity ? graph.levels[$0] : -1 }
        dead = (0..<rows).map { $0 < graph.capacity ? graph.dead[$0] : 0 }
        links0 = []
        links0.reserveCapacity(rows * (graph.m0 + 1))
        // The file keeps hnswlib's layout for layer 0 (a count and room for 2m links per row),
        // whatever the graph holds in memory (`LayerZeroLinks`).
        var list = [UInt32](repeating: 0, count: graph.m0)
        for r in 0..<rows {
            if r < graph.capacity, graph.levels[r] >= 0 {
                let count = list.withUnsafeMutableBufferPointer { graph.layer0.copy(r, into: $0.baseAddress!) }
                links0.append(UInt32(count))
                links0.append(contentsOf: list[0..<count])
                links0.append(contentsOf: repeatElement(0, count: graph.m0 - count))
            } else {
                links0.append(contentsOf: repeatElement(0, count: graph.m0 + 1))
            }
        }
        upper = (0..<rows).map { r in
            guard r < graph.capacity, graph.levels[r] > 0, let p = graph.upper[UInt32(r)] else { return nil }
            return Array(UnsafeBufferPointer(start: p, count: Int(graph.levels[r]) * (graph.m + 1)))
        }
    }
}

extension HNSWGraph {
    /// A graph with the saved links (rows `0 ..< saved.rows`), settings from `settings`.
    convenience init(saved: SavedGraph, settings: VectorIndexSettings) {
        self.init(dimension: saved.dimension, metric: saved.metric, settings: settings)
        reserve(rows: saved.rows)
        for r in 0..<saved.rows {
            levels[r] = saved.levels[r]
            dead[r] = saved.dead[r]
            if saved.levels[r] >= 0, saved.dead[r] == 0 { count += 1 }
            if let lists = saved.upper[r] {
                let p = UnsafeMutablePointer<UInt32>.allocate(capacity: lists.count)
                p.initialize(from: lists, count: lists.count)
                upper[UInt32(r)] = p
            }
        }
        let stride0 = m0 + 1
        for r in 0..<saved.rows where saved.levels[r] >= 0 { layer0.setDegree(r, Int(saved.links0[r * stride0])) }
        saved.links0.withUnsafeBufferPointer { flat in
            layer0.load { n, out in
                // Rows that are not nodes, and the room reserved past the saved rows, stay empty
                // whatever the file says (and are never addressed in it).
                let count = Int(layer0.degree[n])
                if count > 0 { out.update(from: flat.baseAddress! + n * stride0 + 1, count: count) }
                return count
            }
        }
        entry = saved.entry
        maxLevel = saved.maxLevel
    }
}

/// Writes a derived file so that a crash leaves the old one or the new one: a temporary file
/// beside it, `fsync`, `rename`, then `fsync` of the folder.
///
/// The temporary file is named by process (`PATH.tmp-PID`): several processes may write one
/// SQLite store, and two closing at once must not write into, or rename, each other's file.
/// Temporary files of processes that no longer run (killed in the middle of a save) are removed.
enum DerivedFile {
    static func temporaryPrefix(of path: String) -> String { path + ".tmp-" }

    static func write(_ bytes: [UInt8], to path: String) throws(StrataError) {
        let folder = SnapshotFolder.parent(of: path)
        removeAbandonedTemporaries(of: path, in: folder)
        let temporary = temporaryPrefix(of: path) + String(getpid())
        unlink(temporary)
        let fd = PrivateFile.create(temporary)
        guard fd >= 0 else { throw SnapshotFolder.failure("create", temporary) }
        var open = true
        do throws(StrataError) {
            var written = 0
            while written < bytes.count {
                let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { throw SnapshotFolder.failure("write", temporary) }
                written += n
            }
            while fsync(fd) != 0 {
                if errno == EINTR { continue }
                throw SnapshotFolder.failure("fsync", temporary)
            }
            close(fd)
            open = false
            guard rename(temporary, path) == 0 else { throw SnapshotFolder.failure("rename to \"\(path)\"", temporary) }
        } catch {
            if open { close(fd) }  // never twice: another thread may own that number by now
            unlink(temporary)
            throw error
        }
        try SnapshotFolder.syncDirectory(folder)
    }

    /// Removes `PATH.tmp-PID` files in `folder` whose process is gone (`kill(pid, 0)` says ESRCH).
    static func removeAbandonedTemporaries(of path: String, in folder: String) {
        let prefix = String(temporaryPrefix(of: path).split(separator: "/", omittingEmptySubsequences: false).last ?? "")
        guard let dir = opendir(folder) else { return }
        defer { closedir(dir) }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
            }
            guard name.hasPrefix(prefix), let pid = Int32(name.dropFirst(prefix.count)) else { continue }
            if pid != getpid(), kill(pid, 0) != 0, errno == ESRCH { unlink(folder + "/" + name) }
        }
    }
}
