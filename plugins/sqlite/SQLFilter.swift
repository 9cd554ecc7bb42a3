import StrataCore

/// A metadata filter pushed down to SQL over the `record` JSON column, as far as SQL can say it.
///
/// The SQL condition keeps at least every row the filter matches (a superset): conditions SQL
/// expresses the same way (`$eq`, `$in`, ordering on numbers and ASCII strings, `$exists`, and
/// `$and` / `$or` of those) become SQL; the rest (`$ne`, `$nin`, `$not`, `$contains`, non-scalar
/// operands) become TRUE. The store then checks every row SQL returns against the exact filter,
/// so a filter is never silently dropped, and SQL still discards most rows early.
struct SQLFilter {
    /// A condition for a WHERE clause ("1" when nothing could be pushed down).
    let sql: String
    /// Values for the `?` placeholders of `sql`, in order.
    let bindings: [JSONValue]

    init(_ filter: Filter?, column: String = "record") {
        var bindings: [JSONValue] = []
        let sql = filter.flatMap { Self.translate($0, column: column, bindings: &bindings) }
        self.sql = sql ?? "1"
        self.bindings = bindings
    }

    /// SQL for `filter`, or nil when it cannot be expressed (meaning TRUE: keep every row).
    private static func translate(_ filter: Filter, column: String, bindings: inout [JSONValue]) -> String? {
        switch filter {
        case .all(let parts):
            let translated = parts.compactMap { part -> String? in
                translate(part, column: column, bindings: &bindings)
            }
            return translated.isEmpty ? nil : "(" + translated.joined(separator: " AND ") + ")"
        case .any(let parts):
            // An OR is only as narrow as its widest branch: one untranslatable branch makes it TRUE.
            var scratch = bindings
            var translated: [String] = []
            for part in parts {
                guard let s = translate(part, column: column, bindings: &scratch) else { return nil }
                translated.append(s)
            }
            guard !translated.isEmpty else { return "0" }
            bindings = scratch
            return "(" + translated.joined(separator: " OR ") + ")"
        case .not:
            return nil
        case .condition(let path, let condition):
            guard let jsonPath = jsonPath(path) else { return nil }
            let value = "json_extract(\(column), ?)"
            switch condition {
            case .eq(let v):
                guard let scalar = sqlScalar(v) else { break }
                bindings += [.string(jsonPath), scalar]  // SQL sees true as 1: the re-check tells them apart
                return "\(value) = ?"
            case .in(let vs):
                let scalars = vs.compactMap(sqlScalar)
                guard scalars.count == vs.count, !vs.isEmpty else { break }
                bindings.append(.string(jsonPath))
                bindings += scalars
                return "\(value) IN (" + Array(repeating: "?", count: scalars.count).joined(separator: ", ") + ")"
            case .gt(let v), .gte(let v), .lt(let v), .lte(let v):
                // Numbers with numbers, strings with strings: SQLite orders a string above every
                // number, so a type check keeps the pairing the filter requires.
                let op: String
                switch condition {
                case .gt: op = ">"
                case .gte: op = ">="
                case .lt: op = "<"
                default: op = "<="
                }
                switch v {
                case .number:
                    bindings += [.string(jsonPath), .string(jsonPath), v]
                    return "(json_type(\(column), ?) IN ('integer', 'real') AND \(value) \(op) ?)"
                case .string(let s) where s.utf8.allSatisfy({ $0 < 0x80 }):
                    bindings += [.string(jsonPath), .string(jsonPath), v]
                    return "(json_type(\(column), ?) = 'text' AND \(value) \(op) ?)"
                default: break
                }
            case .exists(let wanted):
                bindings.append(.string(jsonPath))
                // A JSON null counts as absent, as in the filter.
                return wanted
                    ? "coalesce(json_type(\(column), ?), 'null') <> 'null'"
                    : "coalesce(json_type(\(column), ?), 'null') = 'null'"
            case .ne, .nin, .contains:
                break
            }
            return nil
        }
    }

    /// `$."a"."b"`, or nil when a key would need escaping SQLite's JSON path cannot do.
    private static func jsonPath(_ path: [String]) -> String? {
        guard !path.isEmpty else { return nil }
        var out = "$"
        for key in path {
            guard !key.contains("\""), !key.contains("\\") else { return nil }
            out += ".\"\(key)\""
        }
        return out
    }

    /// The SQL value json_extract gives for a JSON scalar; nil for null, arrays and objects.
    private static func sqlScalar(_ v: JSONValue) -> JSONValue? {
        switch v {
        case .string, .number: return v
        case .bool(let b): return .number(b ? 1 : 0)
        default: return nil
        }
    }

    /// Binds the placeholders, starting at `first`.
    func bind(_ statement: SQLiteStatement, from first: Int32 = 1) throws(StrataError) {
        for (i, v) in bindings.enumerated() { try statement.bind(first + Int32(i), json: v) }
    }
}
