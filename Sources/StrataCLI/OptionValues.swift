import StrataCore

/// Option values whose content the engine's own parsers judge (JSON, filters, times, scopes).
///
/// A bad value is an engine error, not a usage error: it gets the status the C ABI and Python
/// give the same mistake (19 invalid JSON, 21 invalid filter, 11 invalid argument) and a message
/// naming the option. Usage errors (exit 64) are left to the shape of the command line.
enum OptionValues {
    /// A JSON object of metadata, as `--meta` takes it.
    static func metadata(_ text: String, option: String = "--meta") throws(StrataError) -> [String: JSONValue] {
        guard case .object(let fields) = try JSONParser.parse(text, what: option) else {
            throw StrataError(.invalidJSON, "\(option) must be a JSON object such as '{\"user\": \"alice\"}', got \(text)")
        }
        return fields
    }

    /// A metadata filter in JSON: keys are metadata paths, as in recall requests.
    static func filter(_ text: String, option: String = "--filter") throws(StrataError) -> Filter {
        try Filter.parse(try JSONParser.parse(text, what: option), prefix: ["metadata"], what: option)
    }

    /// An ISO-8601 date-time with a zone, or a date alone (midnight UTC).
    static func time(_ text: String, option: String = "--at") throws(StrataError) -> Timestamp {
        guard let t = Timestamp(iso8601: text) else {
            throw StrataError(.invalidArgument,
                              "\(option) \"\(text)\" is not an ISO-8601 time with a zone (write 2024-03-01T09:30:00Z, 2024-03-01T10:30:00+01:00 or 2024-03-01)")
        }
        return t
    }

    /// A node of the agent tree, `org/team/agent`.
    static func scope(_ text: String, option: String = "--scope") throws(StrataError) -> ScopePath {
        do { return try ScopePath(text) } catch { throw error.prefixed(option) }
    }

    /// An importance in 0...1, checked here so the message names the option.
    static func importance(_ x: Double, option: String = "--importance") throws(StrataError) -> Double {
        guard (0...1).contains(x) else { throw StrataError(.invalidArgument, "\(option) must be in 0...1, got \(x)") }
        return x
    }

    /// A positive number of seconds.
    static func seconds(_ x: Double, option: String = "--ttl") throws(StrataError) -> Double {
        guard x > 0, x.isFinite else { throw StrataError(.invalidArgument, "\(option) must be a positive number of seconds, got \(x)") }
        return x
    }
}
