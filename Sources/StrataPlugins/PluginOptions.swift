#if canImport(Glibc)
import Glibc
#endif
import CStrata
import StrataCore

/// The host table's option readers (plugin.h, since ABI 1.5): a C plugin reads its options and
/// refuses unknown keys without a JSON parser of its own, and every plugin words those errors
/// the same way. Failures are recorded like `host->fail` messages.
enum PluginOptions {
    /// The options as an object, or the status of a refusal (message recorded).
    private static func object(_ json: UnsafePointer<CChar>?) -> Result<[String: JSONValue], StrataError> {
        guard let json else { return .failure(StrataError(.invalidConfig, "the options are NULL")) }
        do {
            guard case .object(let fields) = try JSONParser.parse(String(cString: json), what: "options") else {
                return .failure(StrataError(.invalidConfig, "the options are not a JSON object"))
            }
            return .success(fields)
        } catch {
            return .failure(StrataError(.invalidConfig, error.message))
        }
    }

    private static func failed(_ error: StrataError) -> Int32 {
        pluginFailure.set(error.message)
        return error.code.rawValue
    }

    static func check(_ json: UnsafePointer<CChar>?, _ allowed: UnsafePointer<CChar>?) -> Int32 {
        switch object(json) {
        case .failure(let e): return failed(e)
        case .success(let fields):
            let known = Set((allowed.map { String(cString: $0) } ?? "").split(separator: " ").map(String.init))
            // The first unknown key in the order of the document: JSONValue keeps no order, so
            // find each key's position in the text.
            let text = json.map { String(cString: $0) } ?? ""
            let unknown = fields.keys.filter { !known.contains($0) }
            guard !unknown.isEmpty else { return 0 }
            let first = unknown.min { position(of: $0, in: text) < position(of: $1, in: text) }!
            let list = known.sorted().map { "\"\($0)\"" }.joined(separator: ", ")
            return failed(StrataError(.invalidConfig, "unknown option \"\(first)\" (known: \(list.isEmpty ? "none" : list))"))
        }
    }

    /// Where `"key"` first appears in `text` (the end when it does not).
    private static func position(of key: String, in text: String) -> Int {
        let needle = Array(JSONWriter.string(.string(key)).utf8), hay = Array(text.utf8)
        guard needle.count <= hay.count else { return hay.count }
        for i in 0...(hay.count - needle.count) where hay[i..<i + needle.count].elementsEqual(needle) { return i }
        return hay.count
    }

    static func number(_ json: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<Double>?) -> Int32 {
        guard let key, let out else { return failed(StrataError(.invalidArgument, "option_number: key or out is NULL")) }
        switch object(json) {
        case .failure(let e): return failed(e)
        case .success(let fields):
            let name = String(cString: key)
            switch fields[name] {
            case nil, .null?: return Int32(STRATA_ERR_NOT_FOUND)
            case .number(let d)?: out.pointee = d; return 0
            case let other?: return failed(StrataError(.invalidConfig, "option \"\(name)\" must be a number, got \(JSONWriter.string(other))"))
            }
        }
    }

    static func string(_ json: UnsafePointer<CChar>?, _ key: UnsafePointer<CChar>?, _ out: UnsafeMutablePointer<CChar>?, _ capacity: Int) -> Int32 {
        guard let key, let out, capacity >= 1 else { return failed(StrataError(.invalidArgument, "option_string: key or out is NULL, or capacity is 0")) }
        switch object(json) {
        case .failure(let e): return failed(e)
        case .success(let fields):
            let name = String(cString: key)
            switch fields[name] {
            case nil, .null?: return Int32(STRATA_ERR_NOT_FOUND)
            case .string(let value)?:
                let bytes = Array(value.utf8)
                guard !bytes.contains(0) else { return failed(StrataError(.invalidConfig, "option \"\(name)\" holds a NUL character")) }
                guard bytes.count < capacity else {
                    return failed(StrataError(.invalidConfig, "option \"\(name)\" is \(bytes.count) bytes, more than the \(capacity - 1) this plugin takes"))
                }
                bytes.withUnsafeBufferPointer { b in
                    b.baseAddress.map { UnsafeMutableRawPointer(out).copyMemory(from: $0, byteCount: b.count) }
                }
                out[bytes.count] = 0
                return 0
            case let other?: return failed(StrataError(.invalidConfig, "option \"\(name)\" must be a string, got \(JSONWriter.string(other))"))
            }
        }
    }
}
