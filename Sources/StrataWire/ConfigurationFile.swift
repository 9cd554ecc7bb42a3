#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import StrataEngine

extension EngineConfiguration {
    /// Parses JSON text; empty text is the embedded default.
    /// - Throws: `.invalidUTF8` or `.invalidJSON` naming `source` when the text is not a JSON
    ///   document; `.invalidConfig` naming `source` and the key path when the document is not a
    ///   valid configuration.
    public init(text: String, source: String = "config") throws(StrataError) {
        if text.allSatisfy(\.isWhitespace) {
            self = .embeddedDefault
            return
        }
        try self.init(json: try JSONParser.parse(text, what: source), source: source)
    }

    /// Reads and decodes a configuration file.
    ///
    /// **Relative paths.** A backend's `"path"` option (`store.options.path`, a tier's
    /// `tiers[i].store.options.path`, `embedder.options.path`, `summarizer.options.path`) that
    /// does not start with `/` names a
    /// file next to the configuration file, not in the working directory: a folder such as
    /// `.strata/` whose `strata.json` says `"path": "strata.db"` means `.strata/strata.db` from
    /// wherever it is opened. The resolved path is absolute, so a later change of working
    /// directory does not move the store. Nothing else is rewritten: `plugin` and `plugin_dirs`
    /// stay relative to the working directory, as in a document given as text.
    ///
    ///     // .strata/strata.json: {"store": {"backend": "sqlite", "plugin": "sqlite",
    ///     //                                 "options": {"path": "strata.db"}}}
    ///     let config = try EngineConfiguration(contentsOfFile: ".strata/strata.json")
    ///     // config.store.options.path == "/home/me/project/.strata/strata.db"
    ///
    /// An empty file is the embedded default, as empty text is.
    /// - Throws: `.io` naming the path when the file cannot be opened or read; `.invalidUTF8`
    ///   or `.invalidJSON` naming the file when it is not a JSON document; `.invalidConfig`
    ///   naming the file and the key path when the document is not a valid configuration.
    public init(contentsOfFile path: String) throws(StrataError) {
        let bytes = try ConfigurationFileBytes.read(path)
        let text = try bytes.withUnsafeBufferPointer { (b) throws(StrataError) -> String in try validatedString(b, what: path) }
        try self.init(text: text, source: path)
        let folder = ConfigurationFilePaths.absoluteFolder(of: path)
        store = store.resolvingRelativePath(against: folder)
        for i in tiers.indices { tiers[i].store = tiers[i].store?.resolvingRelativePath(against: folder) }
        embedder = embedder.resolvingRelativePath(against: folder)
        summarizer = summarizer.resolvingRelativePath(against: folder)
    }
}

extension BackendChoice {
    /// The choice with a relative `options.path` string joined to `folder`; anything else unchanged.
    func resolvingRelativePath(against folder: String) -> BackendChoice {
        guard case .object(var options) = options, case .string(let path)? = options["path"],
            !path.isEmpty, !path.hasPrefix("/")
        else { return self }
        options["path"] = .string(ConfigurationFilePaths.joined(folder, path))
        var resolved = self
        resolved.options = .object(options)
        return resolved
    }
}

/// Path text for configuration files: no file-system access beyond asking for the working
/// directory, and no resolution of `..` (which would be wrong across symbolic links).
enum ConfigurationFilePaths {
    /// The absolute folder holding `file`: `cfg/strata.json` in `/home/me` is `/home/me/cfg`.
    static func absoluteFolder(of file: String) -> String {
        let folder = file.lastIndex(of: "/").map { i in i == file.startIndex ? "/" : String(file[..<i]) } ?? "."
        return folder.hasPrefix("/") ? normalized(folder) : joined(workingDirectory(), folder)
    }

    /// `folder/relative` with `.` and empty components dropped.
    static func joined(_ folder: String, _ relative: String) -> String {
        normalized(folder + "/" + relative)
    }

    private static func normalized(_ path: String) -> String {
        let parts = path.split(separator: "/", omittingEmptySubsequences: true).filter { $0 != "." }
        return (path.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
    }

    private static func workingDirectory() -> String {
        // getcwd fails only when the working directory was deleted or is longer than PATH_MAX;
        // then "." keeps the path relative, which still names the right file until a chdir.
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else { return "." }
        return String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Reads a configuration file whole; errors are `.io` naming it.
public enum ConfigurationFileBytes {
    public static func read(_ path: String) throws(StrataError) -> [UInt8] {
        try WholeFile.read(path, what: "configuration file")
    }
}
