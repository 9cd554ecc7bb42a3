#if canImport(Glibc)
import Glibc
#endif
import StrataCore

/// Which plugin files may be loaded: no code runs from a place the user did not choose.
///
/// - A plugin found **by name** is loaded only from a trusted folder: the folder of
///   libstrata.so (or of the `strata` executable), the system folders
///   `/usr/lib/strata/plugins` and `/usr/local/lib/strata/plugins`, each folder of
///   `STRATA_PLUGIN_PATH`, each folder the user lists under `"trusted_plugin_dirs"` in their
///   settings file (`$STRATA_SETTINGS`, else `$XDG_CONFIG_HOME/strata/settings.json`, else
///   `~/.config/strata/settings.json`), and the `plugin_dirs` of a configuration a program
///   passes as text. The `plugin_dirs` and plugin paths of a configuration **file** (such as a
///   `.strata/strata.json` found in the working folder, which anyone who can write a folder
///   can plant) are trusted only when they are trusted folders already.
/// - Every file, however it was found, must be owned by the user running the host (or root)
///   and writable by no one else, and so must its folder: like git's `safe.directory`, a
///   file another user could have replaced is refused.
public struct PluginTrust: Sendable {
    /// Trusted folders, resolved (symbolic links followed).
    public let folders: Set<String>
    /// The settings file's `trusted_plugin_dirs`, as written.
    public let settingsFolders: [String]
    /// Why the settings file was not read (a bad document, a file others can write), if it
    /// was not: its folders are then not trusted, and messages about untrusted plugins say why.
    public let settingsProblem: StrataError?

    /// The system-wide plugin folders.
    public static let systemFolders = ["/usr/local/lib/strata/plugins", "/usr/lib/strata/plugins"]

    /// - Parameter also: further folders the caller chose (a program's configuration text).
    public init(also extra: [String] = []) {
        var all = extra + Self.environmentFolders + Self.systemFolders
        if let own = PluginLoader.libraryDirectory { all.append(own) }
        do {
            settingsFolders = try Self.readSettingsFolders()
            settingsProblem = nil
        } catch {
            settingsFolders = []
            settingsProblem = error
        }
        all += settingsFolders
        folders = Set(all.compactMap(Self.resolved))
    }

    /// `STRATA_PLUGIN_PATH`, colon-separated.
    static var environmentFolders: [String] {
        guard let env = getenv("STRATA_PLUGIN_PATH") else { return [] }
        return String(cString: env).split(separator: ":").map(String.init).filter { !$0.isEmpty }
    }

    /// The settings file: `$STRATA_SETTINGS`, `$XDG_CONFIG_HOME/strata/settings.json` or
    /// `~/.config/strata/settings.json`.
    public static var settingsFile: String? {
        func env(_ name: String) -> String? { getenv(name).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 } }
        if let explicit = env("STRATA_SETTINGS") { return explicit }
        if let xdg = env("XDG_CONFIG_HOME") { return xdg + "/strata/settings.json" }
        return env("HOME").map { $0 + "/.config/strata/settings.json" }
    }

    /// The settings file's `trusted_plugin_dirs`; none when there is no file.
    /// - Throws: `.invalidConfig` naming the file for a bad document, a file writable by others.
    static func readSettingsFolders() throws(StrataError) -> [String] {
        guard let file = settingsFile, access(file, F_OK) == 0 else { return [] }
        if let why = unsafeOwnership(file) { throw StrataError(.invalidConfig, "settings file \(file) is ignored: \(why)") }
        let bytes = try WholeFile.read(file, what: "settings file")
        let value = try bytes.withUnsafeBufferPointer { (b) throws(StrataError) -> JSONValue in try JSONParser.parse(bytes: b, what: file) }
        var r = try JSONObjectReader(value, path: file, code: .invalidConfig)
        let dirs = try r.optionalStrings("trusted_plugin_dirs") ?? []
        try r.finish()
        return dirs
    }

    /// Whether `folder` is trusted.
    public func trusts(folder: String) -> Bool {
        Self.resolved(folder).map { folders.contains($0) } ?? false
    }

    /// Throws `.plugin` naming the file when it, or its folder, could have been replaced by
    /// another user: owned by someone other than this user or root, or writable by group or
    /// others.
    public static func checkOwnership(of file: String) throws(StrataError) {
        if let why = unsafeOwnership(file) { throw StrataError(.plugin, "plugin file \(file) is refused: \(why); nothing in it was run") }
        let folder = resolved(file).map(folderOf) ?? folderOf(file)
        if let why = unsafeOwnership(folder) {
            throw StrataError(.plugin, "plugin file \(file) is refused: its folder \(why); nothing in it was run")
        }
    }

    /// Why `path` is unsafe to trust, or nil when it is owned by this user or root and
    /// writable by no one else.
    public static func unsafeOwnership(_ path: String) -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else { return "\(path) cannot be examined (\(String(cString: strerror(errno))))" }
        let me = geteuid()
        if st.st_uid != me && st.st_uid != 0 {
            return "\(path) is owned by user \(st.st_uid), not by this user (\(me)) or root"
        }
        if st.st_mode & (S_IWGRP | S_IWOTH) != 0 {
            // /tmp and other sticky world-writable folders are safe to hold files: only the
            // owner of a file can replace it there.
            let sticky = st.st_mode & S_IFMT == S_IFDIR && st.st_mode & S_ISVTX != 0
            if !sticky { return "\(path) is writable by other users (mode \(String(st.st_mode & 0o7777, radix: 8)))" }
        }
        return nil
    }

    /// The folder holding `path` as written: `a/b.json` -> `a`, `b.json` -> `.`, `/b.json` -> `/`.
    public static func folderOf(_ path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    static func resolved(_ path: String) -> String? {
        guard let r = realpath(path, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }
}
