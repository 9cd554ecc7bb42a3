/// The one error type of Strata. `code` mirrors `strata_status` in include/strata/status.h;
/// the message names the culprit (the key, the file, the id, the dimension).
public struct StrataError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Error codes. Raw values equal the C `STRATA_ERR_*` values and are never renumbered.
    public enum Code: Int32, Sendable, CaseIterable {
        case invalidArgument = -1
        case notFound = -2
        case invalidConfig = -3
        case plugin = -4
        case abiMismatch = -5
        case io = -6
        case dimension = -7
        case invalidVector = -8
        case invalidJSON = -9
        case invalidUTF8 = -10
        case invalidFilter = -11
        case backend = -12
        case unsupported = -13
        case conflict = -14
        case `internal` = -15
        case corrupt = -16

        /// The C name of the code, e.g. `STRATA_ERR_NOT_FOUND`.
        public var cName: String {
            switch self {
            case .invalidArgument: "STRATA_ERR_INVALID_ARGUMENT"
            case .notFound: "STRATA_ERR_NOT_FOUND"
            case .invalidConfig: "STRATA_ERR_INVALID_CONFIG"
            case .plugin: "STRATA_ERR_PLUGIN"
            case .abiMismatch: "STRATA_ERR_ABI_MISMATCH"
            case .io: "STRATA_ERR_IO"
            case .dimension: "STRATA_ERR_DIMENSION"
            case .invalidVector: "STRATA_ERR_INVALID_VECTOR"
            case .invalidJSON: "STRATA_ERR_INVALID_JSON"
            case .invalidUTF8: "STRATA_ERR_INVALID_UTF8"
            case .invalidFilter: "STRATA_ERR_INVALID_FILTER"
            case .backend: "STRATA_ERR_BACKEND"
            case .unsupported: "STRATA_ERR_UNSUPPORTED"
            case .conflict: "STRATA_ERR_CONFLICT"
            case .internal: "STRATA_ERR_INTERNAL"
            case .corrupt: "STRATA_ERR_CORRUPT"
            }
        }

        /// The process exit code the CLI uses for this error (0 is success, 1 a usage error).
        public var exitCode: Int32 { 10 - rawValue }  // -1 -> 11, -2 -> 12, ...

        /// The HTTP status `strata serve` answers with for this error: 400 for a body that is not
        /// the request's JSON (bad syntax, bad UTF-8, an unknown key, a wrong type), 422 for a
        /// well-formed request with a value the engine refuses, 500 only for the server's own
        /// failures (I/O, a backend, a plugin), never for what a client sent.
        public var httpStatus: Int {
            switch self {
            case .notFound: 404
            case .conflict: 409
            case .unsupported: 501
            case .invalidJSON, .invalidUTF8, .invalidConfig: 400
            case .invalidArgument, .dimension, .invalidVector, .invalidFilter: 422
            case .plugin, .abiMismatch, .io, .backend, .internal, .corrupt: 500
            }
        }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.cName): \(message)" }

    /// Adds context in front of the message, keeping the code: `"loading x: " + message`.
    public func prefixed(_ context: String) -> StrataError {
        StrataError(code, "\(context): \(message)")
    }
}
