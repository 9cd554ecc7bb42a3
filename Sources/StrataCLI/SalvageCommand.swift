import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import StrataEngine
import StrataWire

/// `strata salvage OUT`: copies every readable memory of a damaged store into a new store.
struct SalvageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "salvage",
        abstract: "Copy every readable memory of a (damaged) store into a new store in the folder OUT.",
        discussion: """
            Reads the store's files as strata doctor does, without opening the store for use \
            and without changing them, and writes a new store folder OUT: the same \
            configuration with each store's file placed in OUT, holding every memory that \
            could be read, with its id, fields and vector as stored (history is not copied). \
            OUT must not exist or be an empty folder, and must not be inside the store folder. \
            Prints what was copied and each damaged part skipped; exits 0 when nothing was \
            damaged and 26 (STRATA_ERR_CORRUPT) when something was skipped, the copy made \
            either way.

            Example:
              strata salvage /tmp/rescued && strata stats --dir /tmp/rescued
            """)

    @Argument(help: ArgumentHelp("The new store folder to write.", valueName: "out"))
    var out: String

    @OptionGroup var store: StoreLocation
    @OptionGroup var output: OutputOptions

    func run() throws {
        try withEngineErrors(json: output.json) {
            let configuration = try store.configuration()
            try store.files(configuration).refuseOverwrite(out + "/" + StoreLocation.configurationFileName, what: "salvaged store")
            try Self.prepareEmptyFolder(out)
            let inspection = try StoreInspection(configuration: configuration, file: store.configurationFile)
            let file = out + "/" + StoreLocation.configurationFileName
            try FileSystem.writeFile(file, JSONWriter.string(Self.relocated(try Self.document(store.configurationFile)), pretty: true) + "\n")
            let target = try StoreLocation.openEngine(configurationFile: file)
            var copy = StoreCopy(into: target.store)
            var reports: [JSONValue] = []
            var skipped = 0
            for part in inspection.parts {
                let before = copy.copied
                let (_, findings) = try inspection.read(part) { (r: StoredRecord) throws(StrataError) in try copy.add(r) }
                try copy.flush()
                skipped += findings.count
                reports.append(.object([
                    "store": .string(part.path), "backend": .string(part.choice.label),
                    "copied": .number(Double(copy.copied - before)), "findings": .array(findings.map(\.json)),
                ]))
                if !output.json {
                    print("\(part.path) (\(part.choice.label)): copied \(copy.copied - before) memor\(copy.copied - before == 1 ? "y" : "ies")")
                    for f in findings { print("  skipped: \(f.line)") }
                }
            }
            if output.json {
                printJSON(.object(["out": .string(out), "copied": .number(Double(copy.copied)), "stores": .array(reports)]))
            } else {
                print("Salvaged \(copy.copied) memor\(copy.copied == 1 ? "y" : "ies") into \(out)\(skipped == 0 ? "; nothing was damaged" : "; \(skipped) damaged part\(skipped == 1 ? " was" : "s were") skipped").")
            }
            if skipped > 0 { throw ExitCode(StrataError.Code.corrupt.exitCode) }
        }
    }

    /// Creates `path` (0700), or accepts an existing empty folder.
    static func prepareEmptyFolder(_ path: String) throws(StrataError) {
        if access(path, F_OK) == 0 {
            guard let d = opendir(path) else { throw StrataError(.conflict, "\(path) exists and is not a folder") }
            defer { closedir(d) }
            while let entry = readdir(d) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
                }
                if name != ".", name != ".." { throw StrataError(.conflict, "\(path) is not empty; salvage writes a new store into an empty folder") }
            }
            return
        }
        try FileSystem.makeDirectories(path)
    }

    /// The configuration document as written (not decoded, so nothing is added or lost).
    static func document(_ file: String) throws(StrataError) -> JSONValue {
        let bytes = try ConfigurationFileBytes.read(file)
        if bytes.isEmpty { return .object([:]) }
        return try bytes.withUnsafeBufferPointer { (b) throws(StrataError) -> JSONValue in try JSONParser.parse(bytes: b, what: file) }
    }

    /// The document with each store's `path` option reduced to its file name, which a
    /// configuration file resolves inside its own folder: the new store lives in OUT.
    static func relocated(_ document: JSONValue) -> JSONValue {
        func rebase(_ choice: JSONValue?) -> JSONValue? {
            guard case .object(var c)? = choice, case .object(var o)? = c["options"], case .string(let p)? = o["path"], !p.isEmpty else { return choice }
            o["path"] = .string(String(p.split(separator: "/").last ?? Substring(p)))
            c["options"] = .object(o)
            return .object(c)
        }
        guard case .object(var d) = document else { return document }
        if let s = rebase(d["store"]) { d["store"] = s }
        if case .array(let tiers)? = d["tiers"] {
            d["tiers"] = .array(tiers.map { tier in
                guard case .object(var t) = tier, let s = rebase(t["store"]) else { return tier }
                t["store"] = s
                return .object(t)
            })
        }
        return .object(d)
    }
}
