import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import StrataEngine
import StrataPlugins

/// `--embedder` of `strata init` and `strata demo`: which embedder a new store (or the demo)
/// embeds with.
enum EmbedderOption: String, ExpressibleByArgument, CaseIterable, Sendable {
    /// minilm when its plugin loads and its model is installed, else hashing with a notice.
    case auto
    /// all-MiniLM-L6-v2 (libstrata-minilm.so): recall by meaning; an error when it cannot load.
    case minilm
    /// Feature hashing, built in: recall by shared words, no model file.
    case hashing

    /// The environment variable that sets the option when the command line does not.
    static let environmentVariable = "STRATA_EMBEDDER"

    static let helpText = "auto: minilm when its model is installed, else hashing (with a notice saying why); "
        + "minilm: the all-MiniLM-L6-v2 sentence embedder, recall by meaning; hashing: built-in feature hashing, recall by shared words "
        + "(default: $\(environmentVariable), else auto)"

    /// The command line's choice, else `$STRATA_EMBEDDER`, else `auto`.
    /// - Throws: `.invalidArgument` when the environment variable names no option.
    static func resolved(_ flag: EmbedderOption?) throws(StrataError) -> EmbedderOption {
        if let flag { return flag }
        guard let raw = getenv(environmentVariable).map({ String(cString: $0) }), !raw.isEmpty else { return .auto }
        guard let option = EmbedderOption(rawValue: raw) else {
            throw StrataError(.invalidArgument, "\(environmentVariable)=\(raw) names no embedder; use one of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return option
    }
}

/// The embedder a new store or the demo gets: minilm (all-MiniLM-L6-v2 through
/// libstrata-minilm.so, found beside the `strata` executable like every plugin) when it loads
/// with its model installed, else the built-in hashing embedder, with the reason.
///
/// The embedder is made here, once, and handed to the engine (`PreparedBackends`), so the model
/// is read once per command.
struct DefaultEmbedder {
    /// The configuration's `"embedder"` for each choice, as `strata init` writes it.
    static let minilm = BackendChoice(backend: "minilm", plugin: "minilm")
    static let hashing = BackendChoice(backend: "hashing")

    /// What the configuration says (`"embedder"`).
    let choice: BackendChoice
    let embedder: any Embedder
    /// Why minilm is not used, when `auto` fell back to hashing; nil otherwise.
    let fallbackReason: String?

    /// Makes the embedder `option` asks for.
    /// - Parameter backends: where plugins come from (the CLI's loader).
    /// - Throws: whatever loading minilm throws when `option` is `.minilm` (a missing model is
    ///   an error naming the folder and the command that installs it); `auto` never fails on
    ///   minilm's account.
    static func make(_ option: EmbedderOption, backends: any BackendProvider) throws(StrataError) -> DefaultEmbedder {
        switch option {
        case .hashing:
            return DefaultEmbedder(choice: hashing, embedder: try backends.makeEmbedder(hashing, path: "embedder"), fallbackReason: nil)
        case .minilm:
            return DefaultEmbedder(choice: minilm, embedder: try backends.makeEmbedder(minilm, path: "embedder"), fallbackReason: nil)
        case .auto:
            do {
                return DefaultEmbedder(choice: minilm, embedder: try backends.makeEmbedder(minilm, path: "embedder"), fallbackReason: nil)
            } catch {
                return DefaultEmbedder(choice: hashing, embedder: try backends.makeEmbedder(hashing, path: "embedder"),
                                       fallbackReason: error.message)
            }
        }
    }

    /// The one line `auto` prints on stderr when it fell back, or nil.
    var notice: String? {
        fallbackReason.map {
            "strata: notice: embedding with the hashing embedder (it matches words, not meaning) because minilm is unavailable: \($0)"
        }
    }

    /// Prints `notice`, if any, on stderr.
    func printNotice() {
        if let notice { printError(notice) }
    }
}

/// A backend provider that hands out one embedder already made (the model read once) and
/// leaves every other seam to `base`.
struct PreparedBackends: BackendProvider {
    let base: any BackendProvider
    let prepared: DefaultEmbedder

    func makeVectorStore(_ choice: BackendChoice, dimension: Int, path: String) throws(StrataError) -> any VectorStore {
        try base.makeVectorStore(choice, dimension: dimension, path: path)
    }

    func makeEmbedder(_ choice: BackendChoice, path: String) throws(StrataError) -> any Embedder {
        choice == prepared.choice ? prepared.embedder : try base.makeEmbedder(choice, path: path)
    }

    func makeSummarizer(_ choice: BackendChoice, path: String) throws(StrataError) -> any Summarizer {
        try base.makeSummarizer(choice, path: path)
    }

    func makeMemoryKernel(_ choice: BackendChoice, path: String) throws(StrataError) -> any MemoryKernel {
        try base.makeMemoryKernel(choice, path: path)
    }
}
