/// One damaged part of a store, as `strata doctor` reports it and `strata salvage` skips it.
///
/// A store's salvage reads its files without changing them, hands over every record it can
/// still read, and describes each part it could not read with one finding.
public struct DamageFinding: Sendable, Hashable {
    /// The file holding the damage, as the store's options name it.
    public var file: String
    /// Where in the file: "frame at offset 4096", "record m-0123...", "page 17", "header".
    public var location: String
    /// What is wrong, in words: "payload checksum 0x1a2b3c4d, expected 0x5e6f7a8b".
    public var problem: String
    /// What that costs, when the store can say: "the commit with sequence 41 (100 records)".
    public var lost: String?

    public init(file: String, location: String, problem: String, lost: String? = nil) {
        self.file = file
        self.location = location
        self.problem = problem
        self.lost = lost
    }

    /// `{"file", "location", "problem", "lost"?}`.
    public var json: JSONValue {
        var o: [String: JSONValue] = ["file": .string(file), "location": .string(location), "problem": .string(problem)]
        if let lost { o["lost"] = .string(lost) }
        return .object(o)
    }

    /// Decodes what `json` writes; `what` names it in errors.
    public init(json: JSONValue, what: String) throws(StrataError) {
        var r = try JSONObjectReader(json, path: what, code: .invalidJSON)
        file = try r.string("file")
        location = try r.string("location")
        problem = try r.string("problem")
        lost = try r.optionalString("lost")
        try r.finish()
    }
}

/// Reads a store's files for `strata doctor` and `strata salvage`, without opening the store for
/// use and without changing any file.
///
/// - Parameters:
///   - options: the store's options as `create` gets them (path, dimension, metric, ...).
///   - record: called once per readable memory, with its latest readable state; nil for a check
///     that copies nothing. An error it throws stops the salvage and is rethrown.
///   - finding: called once per damaged part skipped.
/// - Throws: `.io` when the store's files cannot be read at all (missing, unreadable),
///   `.corrupt` when nothing in them is recognisable as this store (a foreign file).
public typealias StoreSalvage = @Sendable (
    _ options: JSONValue,
    _ record: ((StoredRecord) throws(StrataError) -> Void)?,
    _ finding: (DamageFinding) -> Void
) throws(StrataError) -> Void
