import StrataCore

/// The payload of a frame: one `StoreChange` and its sequence number, so one commit is one
/// frame and a checksum decides whether all of it is there.
///
///     u64  sequence number (1 for the first commit, +1 for each next)
///     u32  upsert count,  then per upsert:  u32 n, n bytes of record JSON, dimension x f32
///     u32  removal count, then per removal: u32 n, n bytes of id
///     u32  history count, then per row:     u32 n, n bytes of history-entry JSON
///
/// Records are the engine's record JSON (`Memory.json`) and history rows `HistoryEntry.json`,
/// so the file keeps what the API speaks and a later format version can still read them.
/// Vectors are raw little-endian floats, exactly as given (the index normalises its own copy).
enum ChangeCodec {
    /// Appends the payload for `change` to `w`.
    static func encode(_ change: StoreChange, sequence: UInt64, into w: inout ByteWriter) {
        w.u64(sequence)
        w.u32(UInt32(change.upserts.count))
        for r in change.upserts {
            w.string(r.memory.jsonText)
            w.floats(r.vector)
        }
        w.u32(UInt32(change.removals.count))
        for id in change.removals { w.string(id) }
        w.u32(UInt32(change.history.count))
        for h in change.history { w.string(JSONWriter.string(h.json)) }
    }

    /// Decodes one payload. `what` names the file and the frame's offset for errors, which are
    /// all `.corrupt`: the payload passed its checksum, so it was written by a writer that
    /// disagrees with this reader.
    static func decode(_ payload: UnsafeRawBufferPointer, dimension: Int, what: String) throws(StrataError)
        -> (sequence: UInt64, change: StoreChange)
    {
        do throws(StrataError) {
            var r = ByteReader(payload, what: "the payload")
            let sequence = try r.u64()
            var change = StoreChange()
            let upserts = Int(try r.u32())
            change.upserts.reserveCapacity(min(upserts, r.remaining / (4 + 4 * dimension)))
            for _ in 0..<upserts {
                let memory = try Memory.decodeRecord(try r.lengthPrefixed().assumingMemoryBound(to: UInt8.self), what: "record")
                change.upserts.append(StoredRecord(memory: memory, vector: try r.floats(dimension)))
            }
            for _ in 0..<Int(try r.u32()) {
                change.removals.append(try validatedString(try r.lengthPrefixed().assumingMemoryBound(to: UInt8.self), what: "removed id"))
            }
            for _ in 0..<Int(try r.u32()) {
                let json = try JSONParser.parse(bytes: try r.lengthPrefixed().assumingMemoryBound(to: UInt8.self), what: "history row")
                change.history.append(try HistoryEntry(json: json, what: "history row"))
            }
            guard r.remaining == 0 else { throw StrataError(.corrupt, "\(r.remaining) bytes follow the last history row") }
            return (sequence, change)
        } catch {
            throw StrataError(.corrupt, "\(what): \(error.message)")
        }
    }
}
