#if canImport(Glibc)
import Glibc
#endif
import CStrata
import CStrataShim
import StrataCore
import Synchronization

/// One backend a plugin offers.
public struct PluginFactory: @unchecked Sendable {
    // @unchecked: `vtable` points into the plugin's static data, immutable and alive for the
    // life of the process (plugins are never unloaded).
    public let kind: strata_seam_kind
    public let name: String
    let vtable: UnsafeRawPointer

    public var kindName: String { Self.name(of: kind) }

    /// "vector_store", "embedder", "summarizer", "memory_kernel".
    public static func name(of kind: strata_seam_kind) -> String {
        switch kind {
        case STRATA_SEAM_VECTOR_STORE: "vector_store"
        case STRATA_SEAM_EMBEDDER: "embedder"
        case STRATA_SEAM_SUMMARIZER: "summarizer"
        case STRATA_SEAM_MEMORY_KERNEL: "memory_kernel"
        default: "unknown(\(kind.rawValue))"
        }
    }
}

/// A plugin file loaded into the process. Never unloaded: Swift plugins keep runtime
/// references into their image, and vtables handed out must stay valid.
public struct LoadedPlugin: Sendable {
    public let path: String
    public let name: String
    public let version: String
    public let description: String
    public let abiVersion: UInt32
    public let factories: [PluginFactory]

    public func factory(_ kind: strata_seam_kind, named backend: String) throws(StrataError) -> PluginFactory {
        if let f = factories.first(where: { $0.kind == kind && $0.name == backend }) { return f }
        let offered = factories.map { "\($0.kindName) \"\($0.name)\"" }.joined(separator: ", ")
        throw StrataError(.plugin, "plugin \(name) (\(path)) has no \(PluginFactory.name(of: kind)) named \"\(backend)\"; it offers: \(offered.isEmpty ? "nothing" : offered)")
    }
}

/// Finds and loads plugins.
///
/// Search order for a plugin named N (include/strata/plugin.h): a path (anything with a "/"
/// or ending in ".so") is used as is; otherwise each folder of `plugin_dirs` from the
/// configuration, then of `STRATA_PLUGIN_PATH` (colon-separated), then the settings file's
/// `trusted_plugin_dirs`, then the folder of libstrata.so, then the system folders, is tried
/// for `libstrata-N.so`, `strata-N.so`, `libN.so` and `N.so`.
///
/// Nothing runs from a place the user did not choose (`PluginTrust`): a plugin found by name
/// in a folder that is not trusted is refused, as is a path named by a configuration file
/// outside the trusted folders; every file is identified by its ELF note and checked for
/// ownership before it is loaded.
public struct PluginLoader: Sendable {
    public let directories: [String]
    /// The folders plugins may be loaded from by name.
    public let trust: PluginTrust
    /// The configuration file the plugin names and `plugin_dirs` came from, or nil when the
    /// program passed them (as configuration text, a command-line argument).
    public let configurationFile: String?

    /// - Parameters:
    ///   - configuredDirectories: the configuration's `plugin_dirs`, searched first.
    ///   - configurationFile: the file they were read from, when they were: then they, and the
    ///     plugin paths the file names, count only where they are trusted folders already.
    public init(configuredDirectories: [String] = [], configurationFile: String? = nil) {
        self.configurationFile = configurationFile
        trust = PluginTrust(also: configurationFile == nil ? configuredDirectories : [])
        var dirs = configuredDirectories + PluginTrust.environmentFolders
        dirs += trust.settingsFolders
        if let own = Self.libraryDirectory { dirs.append(own) }
        dirs += PluginTrust.systemFolders
        var seen = Set<String>()
        directories = dirs.filter { seen.insert($0).inserted }
    }

    /// The folder of the image holding this code (libstrata.so, or the CLI executable when linked statically).
    public static var libraryDirectory: String? {
        guard let p = cstrata_image_path(#dsohandle) else { return nil }
        // dladdr reports the path the image was loaded by, which may be relative: make it absolute.
        var path = realpath(p, nil).map { r in defer { free(r) }; return String(cString: r) } ?? String(cString: p)
        // For the main executable (the CLI links this code statically) it reports the name the
        // program was started by; started through PATH that is a bare name with no folder, so
        // ask the kernel for the real file.
        if !path.contains("/"), let exe = realpath("/proc/self/exe", nil) {
            path = String(cString: exe)
            free(exe)
        }
        guard let slash = path.lastIndex(of: "/") else { return nil }
        return String(path[..<slash])
    }

    static func candidateNames(_ name: String) -> [String] {
        ["libstrata-\(name).so", "strata-\(name).so", "lib\(name).so", "\(name).so"]
    }

    /// Resolves a plugin name or path to a file, or explains where it looked.
    public func locate(_ nameOrPath: String) throws(StrataError) -> String {
        if nameOrPath.contains("/") || nameOrPath.hasSuffix(".so") {
            guard access(nameOrPath, F_OK) == 0 else {
                throw StrataError(.plugin, "plugin file \(nameOrPath) does not exist")
            }
            if let configurationFile, !trust.trusts(folder: PluginTrust.folderOf(nameOrPath)) {
                throw untrusted(nameOrPath, folder: PluginTrust.folderOf(nameOrPath), configurationFile: configurationFile)
            }
            return nameOrPath
        }
        for dir in directories {
            for file in Self.candidateNames(nameOrPath) {
                let path = dir + "/" + file
                guard access(path, F_OK) == 0 else { continue }
                guard trust.trusts(folder: dir) else {
                    throw untrusted(path, folder: dir, configurationFile: configurationFile ?? "the configuration")
                }
                return path
            }
        }
        let names = Self.candidateNames(nameOrPath).joined(separator: ", ")
        let dirs = directories.isEmpty ? "(no folders: set plugin_dirs or STRATA_PLUGIN_PATH)" : directories.joined(separator: ", ")
        throw StrataError(.plugin, "plugin \"\(nameOrPath)\" not found: looked for \(names) in \(dirs)")
    }

    private func untrusted(_ path: String, folder: String, configurationFile: String) -> StrataError {
        let settings = PluginTrust.settingsFile ?? "~/.config/strata/settings.json"
        return StrataError(.plugin, "plugin file \(path) is in \(folder), which is not a trusted plugin folder, so it was not loaded: "
            + "plugin folders and paths that \(configurationFile) names are used only when the user trusts them. "
            + "To trust it, list it under \"trusted_plugin_dirs\" in \(settings) or in STRATA_PLUGIN_PATH"
            + (trust.settingsProblem.map { " (the settings file was not read: \($0.message))" } ?? ""))
    }

    /// Loads a plugin by name or path (once per file; later calls return the same plugin).
    public func load(_ nameOrPath: String) throws(StrataError) -> LoadedPlugin {
        try Self.open(path: try locate(nameOrPath))
    }

    private static let cache = Mutex<[String: LoadedPlugin]>([:])

    /// Opens a plugin file, calls its entry and checks its descriptor.
    public static func open(path given: String) throws(StrataError) -> LoadedPlugin {
        let path = realpath(given, nil).map { p in defer { free(p) }; return String(cString: p) } ?? given
        return try cache.withLock { (cache: inout [String: LoadedPlugin]) throws(StrataError) -> LoadedPlugin in
            if let hit = cache[path] { return hit }
            let plugin = try openUncached(path)
            cache[path] = plugin
            return plugin
        }
    }

    private static func openUncached(_ path: String) throws(StrataError) -> LoadedPlugin {
        // dlopen runs the file's constructors: first make sure it is a file no other user could
        // have put there, and a Strata plugin for this ABI, by reading it.
        try PluginTrust.checkOwnership(of: path)
        let identity = try PluginIdentity.read(path: path)
        // RTLD_LOCAL keeps the plugin's symbols out of the global namespace; RTLD_NOW fails here,
        // with the linker's message, rather than later at a call.
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            let why = dlerror().map { String(cString: $0) } ?? "unknown error"
            throw StrataError(.plugin, "cannot load plugin file \(path): \(why)")
        }
        guard let symbol = dlsym(handle, STRATA_PLUGIN_ENTRY_SYMBOL) else {
            throw StrataError(.plugin, "plugin file \(path) does not export \(STRATA_PLUGIN_ENTRY_SYMBOL); is it a Strata plugin?")
        }
        let entry = unsafeBitCast(symbol, to: strata_plugin_entry_fn.self)
        guard let descriptor = entry(HostAPI.table) else {
            throw StrataError(.plugin, "plugin file \(path): \(STRATA_PLUGIN_ENTRY_SYMBOL) returned NULL")
        }
        let minimumSize = MemoryLayout<strata_plugin_descriptor>.size
        guard descriptor.pointee.struct_size >= UInt32(minimumSize) else {
            throw StrataError(.plugin, "plugin file \(path): descriptor struct_size \(descriptor.pointee.struct_size) is smaller than \(minimumSize)")
        }
        let d = descriptor.pointee
        guard PluginABI.isCompatible(d.abi_version) else {
            throw StrataError(.abiMismatch,
                              "plugin file \(path) was built for Strata ABI \(PluginABI.describe(d.abi_version)), this library has ABI \(PluginABI.describe(PluginABI.hostVersion)) (a plugin needs the same major and a minor no newer)")
        }
        guard d.abi_version == identity.abiVersion else {
            throw StrataError(.plugin, "plugin file \(path): its note says ABI \(PluginABI.describe(identity.abiVersion)) but its descriptor says \(PluginABI.describe(d.abi_version))")
        }
        guard let namePointer = d.name else { throw StrataError(.plugin, "plugin file \(path): descriptor has no name") }
        let name = String(cString: namePointer)
        var factories: [PluginFactory] = []
        if d.factory_count > 0 {
            guard d.factory_count <= 1024, let list = d.factories else {
                throw StrataError(.plugin, "plugin \(name) (\(path)): factory_count \(d.factory_count) with factories NULL or too many")
            }
            for i in 0..<d.factory_count {
                let f = list[i]
                guard f.struct_size >= UInt32(MemoryLayout<strata_factory>.size), let fname = f.name, let vtable = f.vtable else {
                    throw StrataError(.plugin, "plugin \(name) (\(path)): factory \(i) is malformed (size, name or vtable)")
                }
                factories.append(PluginFactory(kind: strata_seam_kind(rawValue: f.kind), name: String(cString: fname), vtable: vtable))
            }
        }
        return LoadedPlugin(
            path: path, name: name, version: d.version.map { String(cString: $0) } ?? "",
            description: d.description.map { String(cString: $0) } ?? "", abiVersion: d.abi_version, factories: factories)
    }

    /// What a folder scan found: a plugin, or the reason a file was refused.
    public struct Discovery: Sendable {
        public let path: String
        public let result: Result<LoadedPlugin, StrataError>
    }

    /// Every `.so` file in the search folders, loaded or refused with the reason.
    public func discover() -> [Discovery] {
        var out: [Discovery] = []
        for dir in directories {
            guard let d = opendir(dir) else { continue }
            var files: [String] = []
            while let entry = readdir(d) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
                }
                // Only files named like plugins: the folder of libstrata.so also holds other libraries.
                if name.hasSuffix(".so"), name.hasPrefix("libstrata-") || name.hasPrefix("strata-") || dir != Self.libraryDirectory {
                    files.append(name)
                }
            }
            closedir(d)
            for name in files.sorted() {
                let path = dir + "/" + name
                // Only files that say they are Strata plugins are loaded: a folder's other
                // libraries are reported, never run.
                do { out.append(Discovery(path: path, result: .success(try Self.open(path: path)))) } catch {
                    out.append(Discovery(path: path, result: .failure(error)))
                }
            }
        }
        return out
    }
}
