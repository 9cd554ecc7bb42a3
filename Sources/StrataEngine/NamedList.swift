import StrataCore

/// Something configured as a list of entries with unique names (tiers, categories).
protocol NamedSetting {
    var name: String { get }
    init(json: JSONValue, path: String) throws(StrataError)
}

extension NamedSetting {
    /// Decodes a JSON array of entries; a repeated name is `.invalidConfig` naming both places.
    static func list(_ json: JSONValue, path: String, of what: String) throws(StrataError) -> [Self] {
        guard case .array(let items) = json else { throw StrataError(.invalidConfig, "\(path) must be an array of \(what)") }
        var out: [Self] = []
        for (i, item) in items.enumerated() {
            let entry = try Self(json: item, path: "\(path)[\(i)]")
            if let first = out.firstIndex(where: { $0.name == entry.name }) {
                throw StrataError(.invalidConfig, "\(path)[\(i)].name \"\(entry.name)\" is used twice (also \(path)[\(first)])")
            }
            out.append(entry)
        }
        return out
    }
}

extension TierSettings: NamedSetting {}
extension CategorySettings: NamedSetting {}
