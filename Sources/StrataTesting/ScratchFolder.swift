#if canImport(Glibc)
import Glibc
#endif
import StrataPlugins

/// A new, empty folder for one test's files, under the build folder (so `swift package clean`
/// removes it): `<build>/<group>/<name>-<pid>-<random>`. Intermediate folders are created.
public func scratchFolder(_ group: String, _ name: String) -> String {
    let dir = (PluginLoader.libraryDirectory ?? "/tmp") + "/\(group)/\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    var path = ""
    for part in dir.split(separator: "/") {
        path += "/\(part)"
        mkdir(path, 0o755)
    }
    return dir
}
