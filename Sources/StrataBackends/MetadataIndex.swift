import StrataCore

/// An inverted index over the rows of `InMemoryVectorStore`: for each top-level metadata key, the
/// rows holding each scalar value; the same for the memory fields every recall filters on (scope,
/// visibility, parent scope, model, tier, category); and the rows that have an expiry time.
///
/// Why: a filtered search used to score every row and test the filter on the rows that would
/// enter the top k; each test reads a memory and its metadata dictionary from scattered places in
/// RAM (several cache misses). With the index, `candidates(for:)` turns the filter into a bitmap
/// of rows that may match, and the scan skips the other rows without reading their vectors: a
/// filter that keeps 10% of the rows reads 10% of the matrix.
struct MetadataIndex {
    /// metadata key -> scalar value -> rows.
    private var postings: [String: [JSONValue: RowSet]] = [:]
    /// memory field (`fieldNames`) -> value -> rows.
    private var fields: [String: [JSONValue: RowSet]] = [:]

    /// The memory fields indexed: those the engine's scope, tier and model filters name, so a
    /// recall's plan knows how many rows its scope holds.
    static let fieldNames: Set<String> = ["scope", "visibility", "parent_scope", "model", "tier", "category"]

    private static func fieldValues(_ m: Memory) -> [(String, JSONValue)] {
        var out: [(String, JSONValue)] = [
            ("scope", .string(m.scope.description)), ("visibility", .string(m.visibility.rawValue)),
            ("model", .string(m.model)), ("tier", .string(m.tier)), ("category", .string(m.category)),
        ]
        if let parent = m.scope.parent { out.append(("parent_scope", .string(parent.description))) }
        return out
    }
    /// Rows whose memory has an expiry time.
    private var expiring = RowSet()

    /// The scalar values of a memory the index keeps (strings, numbers, booleans at the top level).
    private static func keys(_ m: Memory) -> [(String, JSONValue)] {
        m.metadata.compactMap { key, value in
            switch value {
            case .string, .number, .bool: return (key, value)
            default: return nil
            }
        }
    }

    mutating func add(_ m: Memory, row: Int) {
        for (key, value) in Self.keys(m) { postings[key, default: [:]][value, default: RowSet()].insert(row) }
        for (field, value) in Self.fieldValues(m) { fields[field, default: [:]][value, default: RowSet()].insert(row) }
        if m.expiresAt != nil { expiring.insert(row) }
    }

    mutating func remove(_ m: Memory, row: Int) {
        for (key, value) in Self.keys(m) {
            postings[key]?[value]?.remove(row)
            if postings[key]?[value]?.isEmpty == true { postings[key]?[value] = nil }
            if postings[key]?.isEmpty == true { postings[key] = nil }
        }
        for (field, value) in Self.fieldValues(m) {
            fields[field]?[value]?.remove(row)
            if fields[field]?[value]?.isEmpty == true { fields[field]?[value] = nil }
        }
        if m.expiresAt != nil { expiring.remove(row) }
    }

    /// The lists of the key a condition names and the values it accepts, or nil when the index
    /// cannot answer the condition (a key it does not keep, or a test other than equality).
    private func lookup(_ path: [String], _ condition: Filter.Condition) -> (lists: [JSONValue: RowSet]?, values: [JSONValue])? {
        let lists: [JSONValue: RowSet]?
        if path.count == 2, path[0] == "metadata" {
            lists = postings[path[1]]
        } else if path.count == 1, Self.fieldNames.contains(path[0]) {
            lists = fields[path[0]]
        } else {
            return nil
        }
        switch condition {
        case .eq(let v): return (lists, [v])
        case .in(let vs): return (lists, vs)
        default: return nil
        }
    }

    /// An upper bound on the rows the filter matches, from the sizes of the lists alone (O(size
    /// of the filter)), or nil when the index cannot bound it: nil exactly when `candidates`
    /// gives nil.
    func estimate(_ filter: Filter, rows: Int) -> Int? {
        switch filter {
        case .all(let parts):
            return parts.compactMap { estimate($0, rows: rows) }.min()
        case .any(let parts):
            var total = 0
            for part in parts {
                guard let e = estimate(part, rows: rows) else { return nil }
                total += e
            }
            return min(total, rows)
        case .not:
            return nil
        case .condition(let path, let condition):
            if path == ["expires_at"], case .exists(false) = condition { return max(0, rows - expiring.count) }
            guard let (lists, values) = lookup(path, condition) else { return nil }
            return values.reduce(0) { $0 + (lists?[$1]?.count ?? 0) }
        }
    }

    /// A bitmap (one bit per row, `rows` rows) holding every row the filter may match, or nil
    /// when the index cannot narrow it down. It is a superset: rows in it are still tested with
    /// the exact filter before they are returned.
    func candidates(for filter: Filter, rows: Int) -> RowBitmap? {
        switch filter {
        case .all(let parts):
            var result: RowBitmap?
            for part in parts {
                guard let bits = candidates(for: part, rows: rows) else { continue }
                if result == nil { result = bits } else { result!.formIntersection(bits) }
            }
            return result
        case .any(let parts):
            guard !parts.isEmpty else { return RowBitmap(rows: rows) }
            var result = RowBitmap(rows: rows)
            for part in parts {
                guard let bits = candidates(for: part, rows: rows) else { return nil }
                result.formUnion(bits)
            }
            return result
        case .not:
            return nil
        case .condition(let path, let condition):
            if path == ["expires_at"], case .exists(false) = condition {
                var bits = RowBitmap(rows: rows, filled: true)
                expiring.forEach { bits.remove($0) }
                return bits
            }
            guard let (lists, values) = lookup(path, condition) else { return nil }
            var bits = RowBitmap(rows: rows)
            for v in values { lists?[v]?.add(to: &bits) }
            return bits
        }
    }
}

/// The rows holding one value in `MetadataIndex`: a hash set while they are few, one bit per row
/// once they are many.
///
/// Why: the fields every memory has (scope, tier, model...) usually hold one value for most rows,
/// and a `Set<Int>` of 100,000 rows takes 2 MB (8-byte members in a table kept under three
/// quarters full, rounded up to a power of two) where a bitmap takes 12.5 KB. At 100k x 384 the
/// sets were about 150 bytes per row of the in-memory store's resident memory, against 1,536
/// for the row's vector. A value held by few rows (an id in the metadata) stays a set: a bitmap
/// would cost a bit per row of the store for each one.
struct RowSet {
    /// The members while sparse (empty once dense).
    private var sparse = Set<UInt32>()
    /// The members once dense.
    private var dense: RowBitmap?
    /// The highest row ever inserted, plus one: what a bitmap would need to cover.
    private var span = 0
    private(set) var count = 0

    /// A set turns into a bitmap from this many members when the bitmap is at most 64 times
    /// fewer bytes than them (a sparse member takes 5 to 11 bytes, a bitmap 1/8 per row it spans),
    /// and back into a set when it falls under a quarter of that, so a set near the line does not
    /// convert at every insert and removal.
    static let denseFrom = 256

    var isEmpty: Bool { count == 0 }

    mutating func insert(_ row: Int) {
        span = Swift.max(span, row + 1)
        if dense != nil {
            if dense!.rows < span { dense!.resize(rows: span) }
            guard !dense!.contains(row) else { return }
            dense!.insert(row)
            count += 1
            return
        }
        guard sparse.insert(UInt32(row)).inserted else { return }
        count += 1
        if count >= Self.denseFrom, count * 64 >= span {
            var bits = RowBitmap(rows: span)
            for r in sparse { bits.insert(Int(r)) }
            sparse = []
            dense = bits
        }
    }

    mutating func remove(_ row: Int) {
        if dense != nil {
            guard row < dense!.rows, dense!.contains(row) else { return }
            dense!.remove(row)
            count -= 1
            if count * 256 < span {
                var members = Set<UInt32>(minimumCapacity: count)
                dense!.forEach { members.insert(UInt32($0)) }
                dense = nil
                sparse = members
            }
            return
        }
        if sparse.remove(UInt32(row)) != nil { count -= 1 }
    }

    func forEach(_ body: (Int) -> Void) {
        if let dense { dense.forEach(body) } else { for r in sparse { body(Int(r)) } }
    }

    /// Sets every member's bit in `bits` (members past its rows are left out).
    func add(to bits: inout RowBitmap) {
        if let dense {
            bits.formUnion(dense)
        } else {
            for r in sparse where Int(r) < bits.rows { bits.insert(Int(r)) }
        }
    }
}

/// One bit per row.
struct RowBitmap {
    private(set) var words: [UInt64]

    init(rows: Int, filled: Bool = false) {
        words = Array(repeating: filled ? ~0 : 0, count: (rows + 63) / 64)
    }

    mutating func insert(_ row: Int) { words[row >> 6] |= 1 << UInt64(row & 63) }

    /// False for rows beyond its room as well.
    func contains(_ row: Int) -> Bool { row >> 6 < words.count && words[row >> 6] & (1 << UInt64(row & 63)) != 0 }

    /// Rows it has room for (a multiple of 64).
    var rows: Int { words.count * 64 }

    /// Calls `body` with each row set, in order.
    func forEach(_ body: (Int) -> Void) {
        for (i, word) in words.enumerated() {
            var w = word
            while w != 0 {
                body(i << 6 | w.trailingZeroBitCount)
                w &= w - 1
            }
        }
    }

    /// Room for `rows` rows; new rows are clear.
    mutating func resize(rows: Int) {
        let needed = (rows + 63) / 64
        if needed > words.count { words.append(contentsOf: repeatElement(0, count: needed - words.count)) }
    }

    /// Rows set.
    var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }
    mutating func remove(_ row: Int) { words[row >> 6] &= ~(1 << UInt64(row & 63)) }

    /// Keeps the rows set in both (rows beyond the shorter one are cleared).
    mutating func formIntersection(_ other: RowBitmap) {
        for i in words.indices { words[i] &= i < other.words.count ? other.words[i] : 0 }
    }

    /// Adds the rows set in `other` (rows beyond this one's are left out).
    mutating func formUnion(_ other: RowBitmap) {
        for i in 0..<Swift.min(words.count, other.words.count) { words[i] |= other.words[i] }
    }
}
