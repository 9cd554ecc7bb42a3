import StrataCore

/// Running totals of every `metabolize` cycle an engine's store has seen, kept as history rows of
/// the reserved id `strata:lifecycle` (each row's reason is the totals so far as JSON), so any
/// process reading the store reports them (`stats`) and `history strata:lifecycle` lists the
/// cycles.
public struct LifecycleLedger: Sendable, Equatable {
    /// The history id the ledger's rows are kept under.
    public static let id = "strata:lifecycle"

    public var cycles = 0
    public var lastCycleAt: Timestamp?
    public var migrated: [String: Int] = [:]
    public var pruned = MetabolizeReport.Pruned()
    public var consolidated = 0
    public var consolidatedSources = 0
    public var patternsWritten = 0
    public var compressed = 0
    public var bytesBeforeCompression = 0
    public var bytesAfterCompression = 0
    public var errors = 0

    public init() {}

    /// These totals with one more cycle's report added.
    public func adding(_ r: MetabolizeReport) -> LifecycleLedger {
        var t = self
        t.cycles += 1
        t.lastCycleAt = r.at
        for (edge, n) in r.migrated { t.migrated[edge, default: 0] += n }
        t.pruned.age += r.pruned.age
        t.pruned.relevance += r.pruned.relevance
        t.pruned.redundancy += r.pruned.redundancy
        t.pruned.capacity += r.pruned.capacity
        t.consolidated += r.consolidated
        t.consolidatedSources += r.consolidatedSources
        t.patternsWritten += r.patterns
        t.compressed += r.compressed
        t.bytesBeforeCompression += r.bytesBeforeCompression
        t.bytesAfterCompression += r.bytesAfterCompression
        t.errors += r.errors.count
        return t
    }

    /// Bytes after compression over bytes before, for the memories compressed so far; nil before any.
    public var compressionRatio: Double? {
        bytesBeforeCompression == 0 ? nil : Double(bytesAfterCompression) / Double(bytesBeforeCompression)
    }

    public var json: JSONValue {
        func n(_ x: Int) -> JSONValue { .number(Double(x)) }
        return .object([
            "cycles": n(cycles), "last_cycle_at": lastCycleAt.map { .string($0.iso8601) } ?? .null,
            "migrated": .object(migrated.mapValues(n)), "pruned": pruned.json, "consolidated": n(consolidated),
            "consolidated_sources": n(consolidatedSources), "patterns_written": n(patternsWritten), "compressed": n(compressed),
            "bytes_before_compression": n(bytesBeforeCompression), "bytes_after_compression": n(bytesAfterCompression),
            "compression_ratio": compressionRatio.map { .number($0) } ?? .null, "errors": n(errors),
        ])
    }

    /// Reads the totals back from a ledger row's reason; `what` names it in errors.
    public init(text: String, what: String) throws(StrataError) {
        var r = try JSONObjectReader(try JSONParser.parse(text, what: what), path: what, code: .corrupt)
        func count(_ reader: inout JSONObjectReader, _ key: String) throws(StrataError) -> Int { try reader.optionalInt(key, in: 0...Int.max) ?? 0 }
        cycles = try count(&r, "cycles")
        lastCycleAt = try r.optionalString("last_cycle_at").flatMap { Timestamp(iso8601: $0) }
        for (edge, v) in try r.optionalObject("migrated") ?? [:] {
            if case .number(let x) = v { migrated[edge] = Int(x) }
        }
        if var p = try r.optionalReader("pruned") {
            pruned.age = try count(&p, "age")
            pruned.relevance = try count(&p, "relevance")
            pruned.redundancy = try count(&p, "redundancy")
            pruned.capacity = try count(&p, "capacity")
            try p.finish()
        }
        consolidated = try count(&r, "consolidated")
        consolidatedSources = try count(&r, "consolidated_sources")
        patternsWritten = try count(&r, "patterns_written")
        compressed = try count(&r, "compressed")
        bytesBeforeCompression = try count(&r, "bytes_before_compression")
        bytesAfterCompression = try count(&r, "bytes_after_compression")
        _ = r.optionalValue("compression_ratio")
        errors = try count(&r, "errors")
        try r.finish()
    }
}
