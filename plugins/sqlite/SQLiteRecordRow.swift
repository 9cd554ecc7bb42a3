import StrataCore

/// One row of `memories` as the store reads it: `SELECT rid, id, crc, record, vector`, checked
/// against its CRC-32C and decoded, or described as damage naming the record.
///
/// SQLite keeps no checksum of row contents: a flipped bit inside a vector BLOB reads back as a
/// slightly different vector, and damage inside a record's JSON as an error naming nothing.
/// So every write stores a CRC-32C of the row's id, record JSON and vector bytes (`crc`), and
/// every read of a record (the load on open, change sync, scan, rollback,
/// snapshot stamping, salvage) goes through `decode`, which checks it first.
enum SQLiteRecordRow {
    /// The columns `decode` reads, in its order, from `first`.
    static let columns = "rid, id, crc, record, vector"

    /// CRC-32C of `parts`, each followed by its length as a little-endian UInt64, so moving
    /// bytes from one part to the next changes the sum. Continues `crc` (0 starts one).
    static func checksum(_ parts: [UnsafeRawBufferPointer], continuing crc: UInt32 = 0) -> UInt32 {
        var crc = crc
        for part in parts {
            crc = CRC32C.checksum(part, continuing: crc)
            withUnsafeBytes(of: UInt64(part.count).littleEndian) { crc = CRC32C.checksum($0, continuing: crc) }
        }
        return crc
    }

    /// The checksum a record is written with.
    static func checksum(id: String, record: String, vector: [Float]) -> UInt32 {
        var id = id, record = record
        return id.withUTF8 { i in
            record.withUTF8 { r in
                vector.withUnsafeBytes { v in checksum([UnsafeRawBufferPointer(i), UnsafeRawBufferPointer(r), v]) }
            }
        }
    }

    /// The checksum of the row's id, record and vector columns as stored (`first` is `rid`).
    static func storedChecksum(_ s: SQLiteStatement, from first: Int32 = 0, continuing crc: UInt32 = 0) -> UInt32 {
        s.withRawBytes(first + 1) { i in
            s.withRawBytes(first + 3) { r in
                s.withRawBytes(first + 4) { v in checksum([i, r, v], continuing: crc) }
            }
        }
    }

    /// What is wrong with one row: enough to name it in an error or a `DamageFinding`.
    struct Damage: Error {
        let rowid: Int64
        let id: String
        let problem: String

        /// "record ID (rowid N)".
        var location: String { "record \(id) (rowid \(rowid))" }

        /// `.corrupt` naming the file, the record and what to do about it.
        func error(file: String) -> StrataError {
            StrataError(.corrupt, "sqlite store \"\(file)\": \(location) is damaged: \(problem); \(SQLiteStoreFile.damageAdvice)")
        }
    }

    /// Checks and decodes the row whose `columns` start at `first`.
    /// - Parameter checksummed: false only for files of schema version 1 (old snapshots),
    ///   whose rows carry no checksum (select NULL for `crc`).
    /// - Throws: `Damage` for a checksum mismatch or missing checksum, JSON or a record that
    ///   does not decode, an id column that is not the record's id, or a vector BLOB that is not
    ///   `dimension` floats (any positive whole number of floats when `dimension` is nil).
    static func decode(_ s: SQLiteStatement, from first: Int32 = 0, dimension: Int?, checksummed: Bool = true) throws(Damage) -> StoredRecord {
        let rowid = s.int64(first)
        let id = s.text(first + 1)
        func damage(_ problem: String) -> Damage { Damage(rowid: rowid, id: id, problem: problem) }
        if checksummed {
            guard !s.isNull(first + 2) else { throw damage("it has no checksum") }
            let stored = s.int64(first + 2)
            let actual = storedChecksum(s, from: first)
            guard stored == Int64(actual) else {
                let shown = UInt32(exactly: stored).map(hex) ?? String(stored)
                throw damage("its CRC-32C is \(hex(actual)), its checksum column says \(shown)")
            }
        }
        let memory: Memory
        do {
            memory = try s.withBytes(first + 3) { (bytes) throws(StrataError) -> Memory in
                let what = "its record JSON"
                return try Memory.decodeRecord(bytes, what: what)
            }
        } catch {
            throw damage(error.message)
        }
        guard memory.id == id else { throw damage("its record JSON holds id \(memory.id)") }
        let bytes = s.byteCount(first + 4)
        let floats = dimension ?? bytes / 4
        guard floats > 0, let vector = s.floats(first + 4, dimension: floats) else {
            throw damage("its vector is \(bytes) bytes, not \(floats) floats")
        }
        return StoredRecord(memory: memory, vector: vector)
    }

    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}

/// One row of `history` as the store reads it: `SELECT hid, memory_id, at, event, entry, crc`,
/// checked against the CRC-32C of its memory_id, at, event and entry written beside it (the
/// same protection as `SQLiteRecordRow`, for the same reason).
enum SQLiteHistoryRow {
    static let columns = "hid, memory_id, at, event, entry, crc"

    /// The checksum a history row is written with.
    static func checksum(memoryID: String, at: String, event: String, entry: String) -> UInt32 {
        var parts = [memoryID, at, event, entry]
        var crc: UInt32 = 0
        for i in parts.indices {
            parts[i].withUTF8 { crc = SQLiteRecordRow.checksum([UnsafeRawBufferPointer($0)], continuing: crc) }
        }
        return crc
    }

    /// The checksum of the row's memory_id, at, event and entry columns as stored.
    static func storedChecksum(_ s: SQLiteStatement) -> UInt32 {
        var crc: UInt32 = 0
        for column: Int32 in 1...4 {
            crc = s.withRawBytes(column) { SQLiteRecordRow.checksum([$0], continuing: crc) }
        }
        return crc
    }

    /// Checks and decodes the row.
    /// - Throws: `.corrupt` naming the file, the memory and the row for a missing or wrong
    ///   checksum or an entry that does not decode.
    static func decode(_ s: SQLiteStatement, file: String) throws(StrataError) -> HistoryEntry {
        let what = "sqlite store \"\(file)\": history row \(s.int64(0)) of record \(s.text(1))"
        let actual = storedChecksum(s)
        guard !s.isNull(5), s.int64(5) == Int64(actual) else {
            let stored = s.isNull(5) ? "none" : String(s.int64(5))
            throw StrataError(.corrupt, "\(what) is damaged: its CRC-32C is \(SQLiteRecordRow.hex(actual)), its checksum column says \(stored); \(SQLiteStoreFile.damageAdvice)")
        }
        do {
            let json = try s.withBytes(4) { (b) throws(StrataError) -> JSONValue in try JSONParser.parse(bytes: b, what: "its entry") }
            return try HistoryEntry(json: json, what: "its entry")
        } catch {
            throw StrataError(.corrupt, "\(what) is damaged: \(error.message); \(SQLiteStoreFile.damageAdvice)")
        }
    }
}
