#if canImport(Glibc)
import Glibc
#endif
import StrataPlugins

/// The plugin loader for the CLI: the configured folders, then STRATA_PLUGIN_PATH, then the
/// folder of the strata executable.
///
/// `PluginLoader` finds its own folder with dladdr, which reports the main executable by the
/// name it was started with: started through PATH as plain `strata`, that name has no folder
/// and the plugins next to the binary are not found. The kernel's /proc/self/exe always names
/// the real file, so the CLI adds its folder last when the loader found none.
enum PluginSearch {
    static func loader(configuredDirectories: [String] = []) -> PluginLoader {
        let loader = PluginLoader(configuredDirectories: configuredDirectories)
        guard PluginLoader.libraryDirectory == nil, let own = executableDirectory else { return loader }
        // The loader's list already holds the configured folders and STRATA_PLUGIN_PATH, in
        // order; passed back as configured folders they keep that order (repeats are dropped).
        return PluginLoader(configuredDirectories: loader.directories + [own])
    }

    static var executableDirectory: String? {
        guard let path = realpath("/proc/self/exe", nil) else { return nil }
        defer { free(path) }
        let text = String(cString: path)
        return text.lastIndex(of: "/").map { String(text[..<$0]) }
    }
}
