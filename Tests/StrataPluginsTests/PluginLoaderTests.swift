#if canImport(Glibc)
import Glibc
#endif
import CStrata
import StrataCore
import StrataEngine
@testable import StrataPlugins
import StrataTesting
import Testing

/// Where `swift build` put the plugins: beside the test executable.
let buildFolder = PluginLoader.libraryDirectory!
let repository: String = {
    var path = #filePath
    for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
    return path
}()

/// Compiles a C plugin source with `cc` alone (no Strata library), as a third party would.
func compilePlugin(_ source: String, name: String, defines: [String] = []) throws -> String {
    let dir = buildFolder + "/test-plugins"
    mkdir(dir, 0o755)
    let out = "\(dir)/\(name).so"
    let flags = defines.map { "-D\($0)" }.joined(separator: " ")
    let command = "cc -std=c11 -O1 -shared -fPIC -fvisibility=hidden \(flags) -I '\(repository)/include' '\(source)' -o '\(out)' 2>&1"
    guard let pipe = popen(command, "r") else { throw StrataError(.io, "cannot run cc") }
    var output = ""
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = fread(&buffer, 1, buffer.count, pipe)
        if n <= 0 { break }
        output += String(decoding: buffer[0..<n], as: UTF8.self)
    }
    let status = pclose(pipe)
    guard status == 0 else { throw StrataError(.io, "cc failed for \(source): \(output)") }
    return out
}

@Suite(.serialized) struct PluginLoaderTests {
    @Test func theSwiftMemoryPluginPassesTheConformanceSuite() throws {
        let (plugin, results) = try PluginCheck.run("memory", loader: PluginLoader(configuredDirectories: [buildFolder]))
        #expect(plugin.name == "memory")
        #expect(plugin.factories.map(\.name) == ["memory"])
        #expect(results.count >= 10)
        #expect(results.count >= 10, "the conformance suite ran its cases (an empty list passes every loop)")
        for r in results { #expect(r.passed, "\(r.name): \(r.failure ?? "")") }
    }

    @Test func theEngineRunsOnAPluginStore() throws {
        let config = try EngineConfiguration(json: ["plugin_dirs": [.string(buildFolder)], "store": ["backend": "memory", "plugin": "memory"]])
        let e = try Engine(configuration: config, backends: PluginBackends(pluginDirectories: config.pluginDirectories))
        #expect(e.store.name == "plugin:memory/memory")
        let id = try e.store(NewMemory("plugins keep memories too", metadata: ["k": 1])).id
        try e.store(NewMemory("unrelated text about lunch"))
        let hits = try e.recall(RecallQuery("plugins memories", filter: try Filter.parse(["k": 1], prefix: ["metadata"])))
        #expect(hits.map(\.memory.id) == [id])
        #expect(try e.get(id: id).content == "plugins keep memories too")
    }

    @Test func theThirdPartyCPluginPassesTheConformanceSuite() throws {
        let path = try compilePlugin("\(repository)/examples/plugins/flat_store.c", name: "libstrata-flat")
        let (plugin, results) = try PluginCheck.run(path)
        #expect(plugin.name == "flat")
        #expect(results.count >= 10, "the conformance suite ran its cases (an empty list passes every loop)")
        for r in results { #expect(r.passed, "\(r.name): \(r.failure ?? "")") }
        // Without keyword search of its own, the engine keeps a BM25 index for it.
        let config = try EngineConfiguration(json: ["store": ["backend": "flat", "plugin": .string(path)]])
        let e = try Engine(configuration: config, backends: PluginBackends())
        #expect(!e.store.providesKeywordSearch)
        let id = try e.store(NewMemory("flat stores work through the engine")).id
        try e.store(NewMemory("something else entirely"))
        #expect(try e.recall(RecallQuery("flat stores")).first?.memory.id == id)
    }

    @Test func aPluginBuiltForAnOlderMinorABILoadsWithoutTheAppendedFunctions() throws {
        let path = try compilePlugin("\(repository)/examples/plugins/flat_store.c", name: "libstrata-flat-1-0",
                                     defines: ["FLAT_STORE_AS_ABI_1_0"])
        let (plugin, results) = try PluginCheck.run(path)
        #expect(PluginABI.describe(plugin.abiVersion) == "1.0")
        #expect(results.count >= 10, "the conformance suite ran its cases (an empty list passes every loop)")
        for r in results { #expect(r.passed, "\(r.name): \(r.failure ?? "")") }
        let config = try EngineConfiguration(json: ["store": ["backend": "flat", "plugin": .string(path)]])
        let e = try Engine(configuration: config, backends: PluginBackends())
        #expect(!e.store.keepsHistory, "a 1.0 vtable has no history: the engine keeps it")
        let id = try e.store(NewMemory("an old plugin still stores")).id
        try e.update(MemoryUpdate(id: id, content: "an old plugin still updates"))
        #expect(try e.history(id: id).map(\.event) == [.add, .update])
    }

    @Test func aVTableOfABI11LoadsWithSnapshotsReportedUnsupported() throws {
        let plugin = try PluginLoader(configuredDirectories: [buildFolder]).load("memory")
        let factory = try #require(plugin.factories.first)
        let current = try PluginVectorStore(plugin: plugin, factory: factory, dimension: 8, options: [:])
        #expect(current.providesSnapshots, "the memory plugin exports snapshots at ABI 1.2")
        // The same functions behind a vtable whose struct_size ends where ABI 1.1 ended.
        let table = UnsafeMutablePointer<strata_vector_store_vtable>.allocate(capacity: 1)
        defer { table.deallocate() }
        table.initialize(to: factory.vtable.assumingMemoryBound(to: strata_vector_store_vtable.self).pointee)
        table.pointee.struct_size = UInt32(MemoryLayout<strata_vector_store_vtable>.offset(of: \.snapshot)!)
        let old = try PluginVectorStore(plugin: plugin, factory: PluginFactory(kind: factory.kind, name: factory.name, vtable: table),
                                        dimension: 8, options: [:])
        #expect(!old.providesSnapshots)
        let error = try #require(throws: StrataError.self) { _ = try old.snapshot(name: "s", at: Timestamp(milliseconds: 0)) }
        #expect(error.code == .unsupported && error.message.contains(old.name))
        try old.upsert([StoredRecord(memory: Memory(id: "a", content: "a", createdAt: Timestamp(milliseconds: 0)), vector: [Float](repeating: 1, count: 8))])
        #expect(try old.count() == 1, "the rest of the vtable works")
    }

    @Test func aMissingPluginNamesTheFoldersSearched() {
        let loader = PluginLoader(configuredDirectories: ["/nowhere/a", "/nowhere/b"])
        #expect { _ = try loader.load("ghost") } throws: { error in
            let e = error as! StrataError
            return e.code == .plugin && e.message.contains("ghost") && e.message.contains("/nowhere/a") && e.message.contains("/nowhere/b")
        }
    }

    @Test func aFileThatIsNotALibraryIsRefused() throws {
        let path = buildFolder + "/test-plugins-garbage.so"
        let f = fopen(path, "w")!
        fputs("this is not an ELF file", f)
        fclose(f)
        #expect { _ = try PluginLoader().load(path) } throws: { error in
            let e = error as! StrataError
            return e.code == .plugin && e.message.contains(path)
        }
    }

    @Test(arguments: [
        ("abi_mismatch", StrataError.Code.abiMismatch, "2.0"),
        ("no_entry", .plugin, "strata_plugin_entry"),
        ("null_descriptor", .plugin, "NULL"),
    ])
    func fixturePluginsFailToLoadWithTheRightCode(fixture: String, code: StrataError.Code, culprit: String) throws {
        let path = try compilePlugin("\(repository)/Tests/fixtures/plugins/\(fixture).c", name: "fixture-\(fixture)")
        #expect { _ = try PluginLoader().load(path) } throws: { error in
            let e = error as! StrataError
            return e.code == code && e.message.contains(culprit) && e.message.contains(path)
        }
    }

    @Test(arguments: [
        ("create_fails", StrataError.Code.backend, "refused on purpose"),
        ("bad_vtable", .abiMismatch, "vtable"),
        ("null_functions", .plugin, "NULL"),
    ])
    func fixtureStoresFailToOpenWithTheRightCode(fixture: String, code: StrataError.Code, culprit: String) throws {
        let path = try compilePlugin("\(repository)/Tests/fixtures/plugins/\(fixture).c", name: "fixture-\(fixture)")
        let plugin = try PluginLoader().load(path)
        let factory = try #require(plugin.factories.first)
        #expect { _ = try PluginVectorStore(plugin: plugin, factory: factory, dimension: 8, options: [:]) } throws: { error in
            let e = error as! StrataError
            return e.code == code && e.message.contains(culprit)
        }
    }

    @Test func aFailingBatchInAPluginLosesNothing() throws {
        let path = try compilePlugin("\(repository)/Tests/fixtures/plugins/failing_store.c", name: "fixture-failing_store")
        let config = try EngineConfiguration(json: ["store": ["backend": .string(try PluginLoader().load(path).factories[0].name), "plugin": .string(path)]])
        let e = try Engine(configuration: config, backends: PluginBackends())
        try e.store(NewMemory("first memory stays"))
        #expect { _ = try e.store([NewMemory("fine"), NewMemory("FAIL-ME please")]) } throws: { error in
            let err = error as! StrataError
            return err.code == .io && err.message.contains("disk full")
        }
        #expect(try e.stats().memories == 1)
        #expect(try e.recall(RecallQuery("first memory")).count == 1)
    }

    @Test func abiCompatibilityFollowsTheVersionRule() {
        let host = PluginABI.hostVersion
        #expect(PluginABI.isCompatible(host))
        #expect(PluginABI.isCompatible(host & 0xFFFF_0000), "an older minor works")
        #expect(!PluginABI.isCompatible(host + 1), "a newer minor does not")
        #expect(!PluginABI.isCompatible(host + (1 << 16)), "another major does not")
    }
}
