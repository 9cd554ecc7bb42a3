#if canImport(Glibc)
import Glibc
#endif
import CStrata
import StrataBackends
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

    /// A copy of `factory`'s vector-store vtable whose struct_size ends at `offset`: the same
    /// functions as a plugin built for the older ABI that ended there would hand over.
    static func vtable(of factory: PluginFactory, endingAt offset: Int) -> UnsafeMutablePointer<strata_vector_store_vtable> {
        let table = UnsafeMutablePointer<strata_vector_store_vtable>.allocate(capacity: 1)
        table.initialize(to: factory.vtable.assumingMemoryBound(to: strata_vector_store_vtable.self).pointee)
        table.pointee.struct_size = UInt32(offset)
        return table
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

    @Test func aPluginBuiltForABI17LoadsAndItsStatsHaveNoIndex() throws {
        let old = try compilePlugin("\(repository)/examples/plugins/flat_store.c", name: "libstrata-flat-1-7",
                                    defines: ["FLAT_STORE_AS_ABI_1_7"])
        let current = try compilePlugin("\(repository)/examples/plugins/flat_store.c", name: "libstrata-flat-1-8")
        func engine(_ path: String) throws -> Engine {
            let e = try Engine(configuration: try EngineConfiguration(json: ["store": ["backend": "flat", "plugin": .string(path)]]),
                               backends: PluginBackends())
            _ = try e.store([NewMemory("an exact store reports its rows"), NewMemory("two rows of floats")])
            return e
        }
        #expect(PluginABI.describe(try PluginLoader().load(old).abiVersion) == "1.7")
        let oldEngine = try engine(old)
        #expect(try oldEngine.stats().index == nil, "a 1.7 vtable ends before index_report")
        #expect(try oldEngine.stats().memories == 2, "and the rest of the stats are there")
        let (_, results) = try PluginCheck.run(old)
        for r in results { #expect(r.passed, "\(r.name): \(r.failure ?? "")") }
        let report = try #require(try engine(current).stats().index)
        let dimension = try engine(current).dimension
        #expect(report == IndexReport(kind: .exact, rows: 2, bytes: IndexReport.Bytes(vectors: 2 * dimension * 4)))
    }

    @Test func theIndexReportCrossesTheABIAsTheStoreMadeIt() throws {
        let plugin = try PluginLoader(configuredDirectories: [buildFolder]).load("memory")
        let factory = try #require(plugin.factories.first)
        let options: JSONValue = ["index": ["type": "hnsw", "m": 8, "ef_construction": 40, "compression": "int8"]]
        let store = try PluginVectorStore(plugin: plugin, factory: factory, dimension: 8, options: options)
        let local = try InMemoryVectorStore(options: options.setting("dimension", 8), path: "memory options")
        let records = (0..<50).map { i in
            StoredRecord(memory: Memory(id: "m\(i)", content: "row \(i)", createdAt: Timestamp(milliseconds: 0)),
                         vector: (0..<8).map { Float(($0 * 7 + i * 3) % 11) - 5 })
        }
        try store.upsert(records)
        try local.upsert(records)
        let crossed = try #require(try store.indexReport())
        #expect(crossed.kind == .hnsw && crossed.compression == .int8 && crossed.bytes.codes > 0)
        #expect(crossed == (try local.indexReport()), "the same store in process reports the same bytes")
        // The same functions behind a vtable whose struct_size ends where ABI 1.7 ended.
        let table = Self.vtable(of: factory, endingAt: MemoryLayout<strata_vector_store_vtable>.offset(of: \.index_report)!)
        defer { table.deallocate() }
        let old = try PluginVectorStore(plugin: plugin, factory: PluginFactory(kind: factory.kind, name: factory.name, vtable: table),
                                        dimension: 8, options: options)
        try old.upsert(records)
        #expect(try old.indexReport() == nil)
        #expect(try old.count() == 50)
    }

    @Test func theHistoryTailCrossesTheABIAndAnABI18VTableFallsBackToTheWholeHistory() throws {
        let plugin = try PluginLoader(configuredDirectories: [buildFolder]).load("sqlite")
        let factory = try #require(plugin.factories.first)
        let options: JSONValue = ["path": .string(scratchFolder("plugin-loader-tests", "tail") + "/s.db")]
        let store = try PluginVectorStore(plugin: plugin, factory: factory, dimension: 4, options: options)
        let memory = Memory(id: "m", content: "row", createdAt: Timestamp(milliseconds: 0))
        let rows = (0..<6).map { i in
            HistoryEntry(event: i == 0 ? .add : .update, memoryID: "m", at: Timestamp(milliseconds: Int64(i)), old: nil, new: memory,
                         reason: "step \(i)")
        }
        try store.commit(StoreChange(upserts: [StoredRecord(memory: memory, vector: [1, 0, 0, 0])], history: rows))
        // The same functions behind a vtable whose struct_size ends where ABI 1.8 ended.
        let table = Self.vtable(of: factory, endingAt: MemoryLayout<strata_vector_store_vtable>.offset(of: \.history_tail)!)
        defer { table.deallocate() }
        let old = try PluginVectorStore(plugin: plugin, factory: PluginFactory(kind: factory.kind, name: factory.name, vtable: table),
                                        dimension: 4, options: options)
        #expect(factory.vtable.assumingMemoryBound(to: strata_vector_store_vtable.self).pointee.history_tail != nil)
        for limit in [0, 2, 6, 8] {
            for s in [store, old] {
                let (got, total) = try s.historyTail(id: "m", limit: limit)
                #expect(total == 6 && got.map(\.reason) == rows.suffix(limit).map(\.reason), "limit \(limit)")
            }
        }
        #expect(try old.historyTail(id: "none", limit: 2).total == 0)
    }

    @Test func anIndexReportHandedBackTwiceIsAPluginFailureNamingIt() throws {
        let path = try compilePlugin("\(repository)/Tests/fixtures/contract/contract_store.c", name: "fixture-report-twice",
                                     defines: ["FAULT=report_twice"])
        let plugin = try PluginLoader().load(path)
        let store = try PluginVectorStore(plugin: plugin, factory: try #require(plugin.factories.first), dimension: 4, options: [:])
        let error = try #require(throws: StrataError.self) { _ = try store.indexReport() }
        #expect(error.code == .backend && error.message.contains("2 times") && error.message.contains(plugin.name))
    }

    @Test func aVTableOfABI11LoadsWithSnapshotsReportedUnsupported() throws {
        let plugin = try PluginLoader(configuredDirectories: [buildFolder]).load("memory")
        let factory = try #require(plugin.factories.first)
        let current = try PluginVectorStore(plugin: plugin, factory: factory, dimension: 8, options: [:])
        #expect(current.providesSnapshots, "the memory plugin exports snapshots at ABI 1.2")
        // The same functions behind a vtable whose struct_size ends where ABI 1.1 ended.
        let table = Self.vtable(of: factory, endingAt: MemoryLayout<strata_vector_store_vtable>.offset(of: \.snapshot)!)
        defer { table.deallocate() }
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
