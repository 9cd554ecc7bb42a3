import ArgumentParser
import StrataCore
import StrataPlugins
import StrataTesting

/// `strata plugins`: what the loader finds, where, and why a file was refused.
struct PluginsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins",
        abstract: "List the plugins found in the search folders, and why any file was refused.",
        discussion: """
            Folders searched, in order: each --dir, then STRATA_PLUGIN_PATH (colon-separated), \
            then the folder of libstrata.so (for the CLI: the folder of the strata executable).
            """)

    @Option(name: .customLong("dir"), help: "A folder to search first (repeatable).")
    var directories: [String] = []

    @OptionGroup var output: OutputOptions

    func run() throws {
        let loader = PluginLoader(configuredDirectories: directories)
        let found = loader.discover()
        if output.json {
            printJSON(.object([
                "folders": .array(loader.directories.map { .string($0) }),
                "plugins": .array(found.map { d in
                    switch d.result {
                    case .success(let p):
                        return .object([
                            "path": .string(d.path), "name": .string(p.name), "version": .string(p.version),
                            "abi": .string(PluginABI.describe(p.abiVersion)), "description": .string(p.description),
                            "backends": .array(p.factories.map { .object(["kind": .string($0.kindName), "name": .string($0.name)]) }),
                        ])
                    case .failure(let e):
                        return .object(["path": .string(d.path), "refused": .string(e.message), "status": .string(e.code.cName)])
                    }
                }),
            ]))
            return
        }
        print("Searched: \(loader.directories.isEmpty ? "(no folders)" : loader.directories.joined(separator: ", "))")
        if found.isEmpty { print("No plugin files found.") }
        for d in found {
            switch d.result {
            case .success(let p):
                let backends = p.factories.map { "\($0.kindName) \"\($0.name)\"" }.joined(separator: ", ")
                print("  \(p.name) \(p.version) (ABI \(PluginABI.describe(p.abiVersion)))  \(d.path)")
                if !p.description.isEmpty { print("      \(p.description)") }
                print("      provides: \(backends.isEmpty ? "nothing" : backends)")
            case .failure(let e):
                print("  refused  \(d.path)")
                print("      \(e.code.cName): \(e.message)")
            }
        }
    }
}

/// `strata plugin check PATH`.
struct PluginCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugin", abstract: "Work with one plugin file.", subcommands: [CheckCommand.self])

    struct CheckCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Run the conformance suite of every backend a plugin offers and report each case.",
            discussion: """
                Each case checks one rule of the plugin headers and names it (docs/plugins.md lists \
                them). Cases run in a separate process: a plugin that crashes or hangs fails the case \
                that was running and the check goes on. Exits 0 when every case passes, 1 when any \
                fails, and 14 or 15 when the file cannot be loaded.
                """)

        @Argument(help: "The plugin file (a path), or a plugin name to search for.")
        var plugin: String

        @Option(help: #"Options JSON passed to each backend's create; {n} in a string becomes a fresh number per case (e.g. '{"path": "/tmp/check/{n}.db"}')."#)
        var options: String = "{}"

        @Option(help: "Seconds a case may run before it fails as hung.")
        var caseTimeout: Int32 = 300

        @Flag(help: "Run the cases in this process (a crash then ends the check).")
        var inProcess = false

        @Option(help: .hidden)
        var childFrom: Int?

        @OptionGroup var output: OutputOptions

        func validate() throws {
            guard caseTimeout >= 1 else { throw ValidationError("--case-timeout must be at least 1") }
        }

        func run() throws {
            try withEngineErrors(json: output.json) {
                let opts = try JSONParser.parse(options, what: "--options")
                if let start = childFrom {
                    IsolatedPluginCheck.child(plugin: plugin, options: opts, start: start)
                    return
                }
                let p: (name: String, path: String, version: String)
                let results: [ConformanceResult]
                if inProcess {
                    let (loaded, r) = try PluginCheck.run(plugin, options: opts, loader: PluginLoader())
                    (p, results) = ((loaded.name, loaded.path, loaded.version), r)
                } else {
                    let outcome = try IsolatedPluginCheck.run(plugin: plugin, options: options, caseTimeout: caseTimeout)
                    (p, results) = (outcome.plugin ?? (plugin, plugin, "?"), outcome.results)
                }
                let failed = results.filter { !$0.passed }
                if output.json {
                    printJSON(.object([
                        "plugin": .string(p.name), "path": .string(p.path), "version": .string(p.version),
                        "passed": .number(Double(results.count - failed.count)), "failed": .number(Double(failed.count)),
                        "cases": .array(results.map {
                            .object(["suite": .string($0.suite), "rule": .string($0.rule), "name": .string($0.name), "passed": .bool($0.passed),
                                     "failure": $0.failure.map { .string($0) } ?? .null])
                        }),
                    ]))
                } else {
                    print("Plugin \(p.name) \(p.version) at \(p.path)")
                    for r in results {
                        print("  \(r.passed ? "pass" : "FAIL")  \(r.suite)\(r.rule == r.name ? ":" : " [\(r.rule)]") \(r.name)")
                        if let f = r.failure { print("        \(f)") }
                    }
                    print("\(results.count - failed.count) passed, \(failed.count) failed")
                }
                if !failed.isEmpty { throw ExitCode(1) }
            }
        }
    }
}
