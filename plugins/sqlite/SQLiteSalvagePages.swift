import StrataCore

/// Salvage's second pass: records read straight from the file's pages (`SQLitePages`), the way
/// SQLite's own recovery does, for the rows the B-tree walk could not reach (a file cut short
/// loses the interior pages near the root while leaf pages holding records are still there).
///
/// - A table-leaf cell is taken when its record has the shape of a `memories` row (the column
///   count and types of the table as `PRAGMA table_info` reads it, else as this plugin's schema
///   makes it) and its CRC-32C matches its id, record JSON and vector: the checksum is what
///   makes a raw cell trustworthy. Cells of other tables (FTS5, history, tombstones) have
///   other shapes and are passed over.
/// - Nothing removed or replaced comes back: pages on the freelist are skipped (a freelist that
///   cannot be read whole is a finding); a rowid or id the walk returned is not taken again;
///   among raw copies of one id the highest `seq` wins; an id whose tombstone (from `removed`,
///   read by SQL and by walking its b-tree from its root page) is as new as the copy or newer
///   is skipped.
extension SQLiteSalvageRun {
    /// Where the columns salvage needs sit in a `memories` record, and what each column holds.
    struct RowShape {
        enum Kind { case rowidAlias, integer, text, blob, any }
        var kinds: [Kind]
        var id = 1, seq = 2, record = 4, vector = 5, crc = 6

        /// The shape `SQLiteSchema` makes (version 2): rid, id, seq, content, record, vector, crc.
        static let current = RowShape(kinds: [.rowidAlias, .text, .integer, .text, .text, .blob, .integer])

        /// From `PRAGMA table_info(memories)`; nil when it cannot be read or lacks a column.
        static func read(_ db: SQLiteConnection) -> RowShape? {
            guard let s = try? db.statement("PRAGMA table_info(memories)", cached: false) else { return nil }
            var columns: [(name: String, type: String, pk: Bool)] = []
            while (try? s.step()) == true { columns.append((s.text(1), s.text(2).uppercased(), s.int64(5) != 0)) }
            let names = columns.map(\.name)
            guard let id = names.firstIndex(of: "id"), let seq = names.firstIndex(of: "seq"),
                  let record = names.firstIndex(of: "record"), let vector = names.firstIndex(of: "vector"),
                  let crc = names.firstIndex(of: "crc") else { return nil }
            let kinds: [Kind] = columns.map { c in
                if c.pk && c.type == "INTEGER" { return .rowidAlias }
                switch c.type {
                case "INTEGER": return .integer
                case "TEXT": return .text
                case "BLOB": return .blob
                default: return .any
                }
            }
            return RowShape(kinds: kinds, id: id, seq: seq, record: record, vector: vector, crc: crc)
        }

        func matches(_ values: [SQLitePages.Value]) -> Bool {
            guard values.count == kinds.count else { return false }
            for (v, k) in zip(values, kinds) {
                switch (k, v) {
                case (.rowidAlias, .null), (.integer, .integer), (.text, .text), (.blob, .blob), (.any, _): continue
                default: return false
                }
            }
            return true
        }
    }

    /// One raw copy of a row, its checksum matched.
    struct RawRow {
        var page: Int
        var rowid: Int64
        var id: String
        var seq: Int64
        var record: ArraySlice<UInt8>
        var vector: ArraySlice<UInt8>
    }

    /// The page scan; hands over what the walk did not, and reports what it found.
    /// - Parameter db: nil when SQLite cannot read the schema: then the plugin's own schema
    ///   gives the row shape, and tombstones are not known.
    mutating func scanPages(_ db: SQLiteConnection?, record: ((StoredRecord) throws(StrataError) -> Void)?) throws(StrataError) -> Int {
        let pages: SQLitePages
        switch SQLitePages.open(path) {
        case .success(let p): pages = p
        case .failure(let problem):
            report("page scan", "not done: the file \(problem.message)")
            return 0
        }
        defer { pages.close() }
        guard pages.textEncoding == 1 || pages.textEncoding == 0 else {
            report("page scan", "not done: the header says text encoding \(pages.textEncoding), not UTF-8")
            return 0
        }
        let shape = db.flatMap(RowShape.read) ?? .current
        let (free, freeProblem) = pages.freelist()
        if let freeProblem {
            report("freelist", "cannot be read whole: \(freeProblem)",
                   lost: "nothing by itself, but rows removed or replaced on pages it no longer lists could be taken for live ones")
        }
        let tombstones = readTombstones(db, pages: pages, free: free)

        // Every checksummed raw copy, the newest (highest seq) per id.
        var best: [String: RawRow] = [:]
        for number in 1...max(1, pages.pageCount) where !free.contains(number) {
            guard let p = pages.page(number), let (kind, _) = SQLitePages.kind(p, number: number), kind == .tableLeaf,
                  let parsed = pages.cells(p, number: number, skip: free) else { continue }
            for case let cell? in parsed.cells {
                guard let rowid = cell.rowid, !walkedRowids.contains(rowid),
                      let row = Self.rawRow(cell, rowid: rowid, page: number, shape: shape),
                      !seenIDs.contains(row.id) else { continue }
                if let other = best[row.id], other.seq >= row.seq { continue }
                best[row.id] = row
            }
        }

        var recovered = 0
        var buried = 0
        var damaged = 0
        for row in best.values.sorted(by: { $0.rowid < $1.rowid }) {
            if let removed = tombstones[row.id], removed >= row.seq {
                buried += 1
                continue
            }
            let memory: Memory
            do {
                memory = try row.record.withUnsafeBufferPointer { (b) throws(StrataError) -> Memory in
                    let what = "its record JSON"
                    return try Memory.decodeRecord(b, what: what)
                }
            } catch {
                report("record \(row.id) (rowid \(row.rowid), page \(row.page))", "found by the page scan, but \(error.message)", lost: "this record")
                damaged += 1
                continue
            }
            let floats = row.vector.count / 4
            guard memory.id == row.id, row.vector.count % 4 == 0, floats > 0, dimension.map({ $0 == floats }) ?? true else {
                report("record \(row.id) (rowid \(row.rowid), page \(row.page))",
                       "found by the page scan, but its vector is \(row.vector.count) bytes or its JSON names another id", lost: "this record")
                damaged += 1
                continue
            }
            let vector = row.vector.withUnsafeBytes { b in
                [Float](unsafeUninitializedCapacity: floats) { buffer, initialized in
                    UnsafeMutableRawBufferPointer(buffer).copyMemory(from: b)
                    initialized = floats
                }
            }
            guard seenIDs.insert(row.id).inserted else { continue }
            walkedRowids.insert(row.rowid)
            recovered += 1
            try record?(StoredRecord(memory: memory, vector: vector))
        }
        if recovered > 0 || buried > 0 {
            report("page scan", "\(recovered) record\(recovered == 1 ? "" : "s") recovered from table pages the b-tree walk could not reach"
                   + (buried > 0 ? "; \(buried) older cop\(buried == 1 ? "y" : "ies") of removed records left out" : ""))
        }
        return recovered + damaged
    }

    /// The cell as a `memories` row whose checksum matches, else nil.
    static func rawRow(_ cell: SQLitePages.Cell, rowid: Int64, page: Int, shape: RowShape) -> RawRow? {
        guard let values = SQLitePages.record(cell.payload), shape.matches(values),
              case .text(let id) = values[shape.id], case .integer(let seq) = values[shape.seq],
              case .text(let json) = values[shape.record], case .blob(let vector) = values[shape.vector],
              case .integer(let crc) = values[shape.crc] else { return nil }
        let sum = id.withUnsafeBytes { i in
            json.withUnsafeBytes { r in vector.withUnsafeBytes { v in SQLiteRecordRow.checksum([i, r, v]) } }
        }
        guard Int64(sum) == crc else { return nil }
        return RawRow(page: page, rowid: rowid, id: String(decoding: id, as: UTF8.self), seq: seq, record: json, vector: vector)
    }

    /// id -> the sequence number it was removed at, from `removed` by SQL as far as it reads
    /// and from its b-tree's pages still reachable from its root.
    func readTombstones(_ db: SQLiteConnection?, pages: SQLitePages, free: Set<Int>) -> [String: Int64] {
        var out: [String: Int64] = [:]
        func add(_ id: String, _ seq: Int64) { out[id] = max(out[id] ?? Int64.min, seq) }
        guard let db else {
            report("tombstones", "cannot be read (no schema)", lost: "nothing by itself, but records removed since their page was written could come back")
            return out
        }
        var complete = true
        if let s = try? db.statement("SELECT id, seq FROM removed", cached: false) {
            do {
                while try s.step() { add(s.text(0), s.int64(1)) }
            } catch {
                complete = false
            }
        } else {
            complete = false
        }
        if let root = try? db.integer("SELECT rootpage FROM sqlite_schema WHERE type = 'table' AND name = 'removed'") {
            var stack = [Int(root)]
            var seen = Set<Int>()
            var missing = 0
            while let number = stack.popLast() {
                guard seen.insert(number).inserted, seen.count <= pages.pageCount + 1 else { continue }
                guard !free.contains(number), let p = pages.page(number), let parsed = pages.cells(p, number: number, skip: free),
                      parsed.kind == .indexLeaf || parsed.kind == .indexInterior else {
                    missing += 1
                    continue
                }
                stack += parsed.children
                for case let cell? in parsed.cells {
                    guard let values = SQLitePages.record(cell.payload), values.count == 2,
                          case .text(let id) = values[0], case .integer(let seq) = values[1] else { continue }
                    add(String(decoding: id, as: UTF8.self), seq)
                }
            }
            if missing == 0 { complete = true }
        }
        if !complete {
            report("tombstones", "the removed table cannot be read whole",
                   lost: "nothing by itself, but a record removed on a lost page could be taken for live by the page scan")
        }
        return out
    }
}
