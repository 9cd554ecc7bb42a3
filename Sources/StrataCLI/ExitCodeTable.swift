import StrataCore

/// The CLI's exit codes with what each means for a user, for `strata --help` (and the README's
/// table). Engine errors exit with 10 - status; the switch is exhaustive, so a new status code
/// cannot be added without saying here what it means.
enum ExitCodeTable {
    static let rows: [(code: Int32, meaning: String)] =
        [(0, "success"), (1, "a check failed (demo, plugin check)"),
         (MetabolizeCommand.partialExitCode, "metabolize completed with errors (a summarizer failed; those memories were left as they were)")]
        + StrataError.Code.allCases.map { ($0.exitCode, meaning($0)) }
        + [(64, "usage error: unknown option, missing argument, wrong combination")]

    static func meaning(_ code: StrataError.Code) -> String {
        switch code {
        case .invalidArgument: "invalid argument (importance outside 0...1, a bad --at time, --scope or snapshot name)"
        case .notFound: "not found (an unknown memory id or snapshot)"
        case .invalidConfig: "invalid configuration (strata.json names a bad key or value)"
        case .plugin: "a plugin could not be loaded"
        case .abiMismatch: "a plugin was built for another ABI version"
        case .io: "I/O error (no store in the folder: run strata init; an unreadable file)"
        case .dimension: "vector dimension mismatch"
        case .invalidVector: "invalid vector (NaN, infinity, zero length)"
        case .invalidJSON: "invalid JSON (--meta, a bad import line, a request)"
        case .invalidUTF8: "invalid UTF-8 (an import line)"
        case .invalidFilter: "invalid filter (--filter)"
        case .backend: "a backend failed"
        case .unsupported: "the backend does not support the operation (snapshots on a store without them)"
        case .conflict: "conflict (strata init over an existing strata.json, a snapshot name in use)"
        case .internal: "internal error"
        case .corrupt: "the store's files are damaged (a checksum or structure check failed; a damaged snapshot)"
        }
    }

    /// `  12  not found (...)`, one line each.
    static var text: String {
        rows.map { "  " + String($0.code).padding(4) + $0.meaning }.joined(separator: "\n")
    }
}
