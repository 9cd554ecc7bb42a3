/// Reads a JSON object into typed fields, strictly: a missing required key, a
/// value of the wrong type and any key left unread are errors naming the key
/// path, so a typo in a request or a configuration never passes silently.
///
///     var r = try JSONObjectReader(value, path: "recall request")
///     let query = try r.optionalString("query")
///     try r.finish()   // throws on unknown keys
public struct JSONObjectReader {
    public let path: String
    private let fields: [String: JSONValue]
    /// The keys read that the object holds, each once: an object's few keys compare faster
    /// in a list than they hash into a set, and a key read but absent needs no record.
    private var consumed: [String] = []
    private let code: StrataError.Code

    /// - Parameters:
    ///   - path: names the object in messages ("config.store", "recall request").
    ///   - code: the error code for shape errors (`.invalidConfig` for configuration).
    public init(_ value: JSONValue, path: String, code: StrataError.Code = .invalidJSON) throws(StrataError) {
        guard case .object(let fields) = value else {
            throw StrataError(code, "\(path) must be an object, got \(value.typeName)")
        }
        self.fields = fields
        self.path = path
        self.code = code
    }

    public func keyPath(_ key: String) -> String { "\(path).\(key)" }

    public func has(_ key: String) -> Bool { fields[key].map { !$0.isNull } ?? false }

    /// The raw value, or nil when absent or null.
    public mutating func optionalValue(_ key: String) -> JSONValue? {
        guard let v = fields[key] else { return nil }
        if !consumed.contains(key) { consumed.append(key) }
        // Not `v.isNull ? nil : v`: JSONValue takes `nil` as a literal, so that would be `.null`.
        guard !v.isNull else { return nil }
        return v
    }

    public mutating func value(_ key: String) throws(StrataError) -> JSONValue {
        guard let v = optionalValue(key) else { throw StrataError(code, "\(keyPath(key)) is required") }
        return v
    }

    public mutating func optionalString(_ key: String) throws(StrataError) -> String? {
        guard let v = optionalValue(key) else { return nil }
        guard case .string(let s) = v else { throw wrongType(key, "a string", v) }
        return s
    }

    public mutating func string(_ key: String) throws(StrataError) -> String {
        guard let s = try optionalString(key) else { throw StrataError(code, "\(keyPath(key)) is required") }
        return s
    }

    public mutating func optionalDouble(_ key: String) throws(StrataError) -> Double? {
        guard let v = optionalValue(key) else { return nil }
        guard case .number(let n) = v else { throw wrongType(key, "a number", v) }
        return n
    }

    /// A number within `range`, or nil when absent.
    public mutating func optionalDouble(_ key: String, in range: ClosedRange<Double>) throws(StrataError) -> Double? {
        guard let n = try optionalDouble(key) else { return nil }
        guard range.contains(n) else {
            throw StrataError(code == .invalidJSON ? .invalidArgument : code,
                              "\(keyPath(key)) must be in \(range.lowerBound)...\(range.upperBound), got \(n)")
        }
        return n
    }

    public mutating func optionalInt(_ key: String, in range: ClosedRange<Int> = 0...Int(Int32.max)) throws(StrataError) -> Int? {
        guard let n = try optionalDouble(key) else { return nil }
        guard n == n.rounded(), n >= Double(range.lowerBound), n <= Double(range.upperBound) else {
            throw StrataError(code == .invalidJSON ? .invalidArgument : code,
                              "\(keyPath(key)) must be an integer in \(range.lowerBound)...\(range.upperBound), got \(JSONWriter.string(.number(n)))")
        }
        return Int(n)
    }

    public mutating func optionalBool(_ key: String) throws(StrataError) -> Bool? {
        guard let v = optionalValue(key) else { return nil }
        guard case .bool(let b) = v else { throw wrongType(key, "a boolean", v) }
        return b
    }

    public mutating func optionalObject(_ key: String) throws(StrataError) -> [String: JSONValue]? {
        guard let v = optionalValue(key) else { return nil }
        guard case .object(let o) = v else { throw wrongType(key, "an object", v) }
        return o
    }

    public mutating func optionalArray(_ key: String) throws(StrataError) -> [JSONValue]? {
        guard let v = optionalValue(key) else { return nil }
        guard case .array(let a) = v else { throw wrongType(key, "an array", v) }
        return a
    }

    public mutating func optionalStrings(_ key: String) throws(StrataError) -> [String]? {
        guard let items = try optionalArray(key) else { return nil }
        var out: [String] = []
        for (i, item) in items.enumerated() {
            guard case .string(let s) = item else { throw wrongType("\(key)[\(i)]", "a string", item) }
            out.append(s)
        }
        return out
    }

    /// A nested strict reader for an object-valued key, or nil when absent.
    public mutating func optionalReader(_ key: String) throws(StrataError) -> JSONObjectReader? {
        guard let v = optionalValue(key) else { return nil }
        return try JSONObjectReader(v, path: keyPath(key), code: code)
    }

    /// A value that must be one of `allowed` (case-sensitive).
    public mutating func optionalChoice(_ key: String, _ allowed: [String]) throws(StrataError) -> String? {
        guard let s = try optionalString(key) else { return nil }
        guard allowed.contains(s) else {
            throw StrataError(code, "\(keyPath(key)) must be one of \(allowed.map { "\"\($0)\"" }.joined(separator: ", ")), got \"\(s)\"")
        }
        return s
    }

    /// Throws if any key was never read.
    public func finish() throws(StrataError) {
        guard consumed.count != fields.count else { return }
        let unknown = fields.keys.filter { !consumed.contains($0) }.sorted()
        guard unknown.isEmpty else {
            let names = unknown.map { keyPath($0) }.joined(separator: ", ")
            throw StrataError(code, "unknown key\(unknown.count > 1 ? "s" : "") \(names)")
        }
    }

    private func wrongType(_ key: String, _ expected: String, _ got: JSONValue) -> StrataError {
        StrataError(code, "\(keyPath(key)) must be \(expected), got \(got.typeName)")
    }
}
