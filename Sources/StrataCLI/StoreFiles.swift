#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import StrataEngine

/// The files a store lives in, so a command that writes a file (export, salvage) can refuse to
/// write over them: the store folder and everything in it, and every file a backend's `path`
/// option names, with the files a backend keeps beside it (`PATH-wal`, `PATH.snapshot`,
/// `PATH.snapshots/`, ...; each starts with `PATH`).
struct StoreFiles {
    /// The store folder, resolved (symbolic links followed).
    let folder: String?
    /// The configured `path` options (store and tier stores), absolute.
    let paths: [String]

    init(folder: String, configuration: EngineConfiguration) {
        self.folder = Self.resolved(folder)
        let choices = [configuration.store] + configuration.tiers.compactMap(\.store)
        paths = choices.compactMap { choice in
            guard case .object(let o) = choice.options, case .string(let p)? = o["path"], !p.isEmpty else { return nil }
            return Self.resolved(p) ?? p
        }
    }

    /// Why writing `target` would damage the store, or nil when it would not. The target need
    /// not exist; its folder is resolved, so `./x/../.strata/strata.db` and symbolic links are
    /// seen through, and a hard link to a store file is caught by its inode.
    func conflict(with target: String) -> String? {
        let full = Self.absolute(target)
        let final = Self.resolved(full) ?? full
        if let folder, final == folder || final.hasPrefix(folder + "/") {
            return "\(target) is inside the store folder \(folder)"
        }
        for p in paths where final == p || final.hasPrefix(p) {
            return "\(target) is one of the store's files (\(p) and the files beside it)"
        }
        var st = stat()
        if stat(full, &st) == 0 {
            for p in paths {
                var other = stat()
                if stat(p, &other) == 0, other.st_dev == st.st_dev, other.st_ino == st.st_ino {
                    return "\(target) is the store's file \(p) under another name"
                }
            }
        }
        return nil
    }

    /// Throws `.conflict` naming the culprit when writing `target` would damage the store.
    func refuseOverwrite(_ target: String, what: String) throws(StrataError) {
        if let why = conflict(with: target) {
            throw StrataError(.conflict, "refusing to write the \(what) to \(target): \(why); choose a file outside the store")
        }
    }

    /// `path` made absolute through its deepest existing ancestor (symbolic links there
    /// followed), the missing part appended: `.strata/new/x` is inside the store folder even
    /// before `new` exists.
    static func absolute(_ path: String) -> String {
        var head = path.isEmpty ? "." : path
        var tail: [Substring] = []
        while true {
            if let r = resolved(head) {
                return ([r == "/" ? "" : r] + tail.reversed().map(String.init)).joined(separator: "/")
            }
            guard let slash = head.lastIndex(of: "/") else {
                tail.append(Substring(head))
                head = "."
                continue
            }
            tail.append(head[head.index(after: slash)...])
            head = slash == head.startIndex ? "/" : String(head[..<slash])
        }
    }

    static func resolved(_ path: String) -> String? {
        guard let r = realpath(path, nil) else { return nil }
        defer { free(r) }
        return String(cString: r)
    }
}
