#if canImport(Glibc)
import Glibc
#endif
import StrataCore
import StrataEngine
@testable import StrataWire
import Testing

/// A fresh folder under /tmp holding the files a test writes; removed when the test ends.
private final class TemporaryFolder {
    let path: String

    init() throws {
        var template = Array("/tmp/strata-config-test-XXXXXX".utf8CString)
        guard let made = mkdtemp(&template) else { throw StrataError(.io, "mkdtemp failed") }
        path = String(cString: made)
    }

    deinit {
        // Every test writes files one level deep, so a shallow removal is enough.
        if let dir = opendir(path) {
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(cString: $0.bindMemory(to: CChar.self).baseAddress!) }
                if name != "." && name != ".." { unlink(path + "/" + name) }
            }
            closedir(dir)
        }
        rmdir(path)
    }

    /// Writes `bytes` to `name` in the folder and returns the file's path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) -> String {
        let file = path + "/" + name
        let f = fopen(file, "wb")!
        _ = bytes.withUnsafeBufferPointer { fwrite($0.baseAddress, 1, $0.count, f) }
        fclose(f)
        return file
    }

    @discardableResult
    func write(_ name: String, _ text: String) -> String { write(name, Array(text.utf8)) }
}

@Suite struct ConfigurationFileTests {
    @Test func relativeStorePathIsResolvedAgainstTheFolderOfTheFile() throws {
        let folder = try TemporaryFolder()
        let file = folder.write("strata.json", #"{"store": {"backend": "sqlite", "plugin": "sqlite", "options": {"path": "strata.db"}}}"#)
        let config = try EngineConfiguration(contentsOfFile: file)
        #expect(config.store.options.objectValue?["path"] == .string(folder.path + "/strata.db"))
        #expect(config.store.backend == "sqlite" && config.store.plugin == "sqlite", "the rest of the choice is kept")
    }

    @Test func embedderAndSummarizerPathsAreResolvedToo() throws {
        let folder = try TemporaryFolder()
        let file = folder.write("strata.json", """
            {"embedder": {"backend": "model", "options": {"path": "models/mini.onnx", "dimension": 384}},
             "summarizer": {"backend": "llm", "options": {"path": "./llm.gguf"}}}
            """)
        let config = try EngineConfiguration(contentsOfFile: file)
        #expect(config.embedder.options.objectValue?["path"] == .string(folder.path + "/models/mini.onnx"))
        #expect(config.embedder.options.objectValue?["dimension"] == 384)
        #expect(config.summarizer.options.objectValue?["path"] == .string(folder.path + "/llm.gguf"), "./ is dropped")
    }

    @Test func tierStorePathsAreResolvedToo() throws {
        let folder = try TemporaryFolder()
        let file = folder.write("strata.json", """
            {"store": {"backend": "sqlite", "plugin": "sqlite", "options": {"path": "main.db"}},
             "tiers": [{"name": "working", "store": {"backend": "sqlite", "plugin": "sqlite", "options": {"path": "working.db"}}},
                       {"name": "episodic"}]}
            """)
        let config = try EngineConfiguration(contentsOfFile: file)
        #expect(config.tiers.map(\.name) == ["working", "episodic"])
        #expect(config.tiers[0].store?.options.objectValue?["path"] == .string(folder.path + "/working.db"))
        #expect(config.tiers[1].store == nil, "a tier without a store of its own keeps none")
    }

    @Test func absoluteAndNonTextPathsAndOtherKeysAreLeftAlone() throws {
        let folder = try TemporaryFolder()
        let file = folder.write("strata.json", """
            {"plugin_dirs": ["plugins"],
             "store": {"backend": "file", "plugin": "./lib/libstrata-file.so", "options": {"path": "/var/lib/strata.log"}},
             "embedder": {"backend": "hashing", "options": {"path": 3}}}
            """)
        let config = try EngineConfiguration(contentsOfFile: file)
        #expect(config.store.options.objectValue?["path"] == "/var/lib/strata.log")
        #expect(config.store.plugin == "./lib/libstrata-file.so", "plugin paths are not rewritten")
        #expect(config.pluginDirectories == ["plugins"], "plugin_dirs are not rewritten")
        #expect(config.embedder.options.objectValue?["path"] == 3, "a non-string path is the backend's to refuse")
    }

    @Test func aRelativeFileNameGivesAnAbsoluteFolder() throws {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let cwd = String(cString: try #require(getcwd(&buffer, buffer.count)))
        #expect(ConfigurationFilePaths.absoluteFolder(of: "strata.json") == cwd)
        #expect(ConfigurationFilePaths.absoluteFolder(of: ".strata/strata.json") == cwd + "/.strata")
        #expect(ConfigurationFilePaths.absoluteFolder(of: "./a//b/strata.json") == cwd + "/a/b")
        #expect(ConfigurationFilePaths.absoluteFolder(of: "/strata.json") == "/")
        #expect(ConfigurationFilePaths.joined("/", "x.db") == "/x.db")
    }

    @Test func anEmptyFileIsTheEmbeddedDefault() throws {
        let folder = try TemporaryFolder()
        let file = folder.write("strata.json", "  \n")
        #expect(try EngineConfiguration(contentsOfFile: file) == .embeddedDefault)
    }

    @Test func aMissingFileIsAnIOErrorNamingThePath() throws {
        let folder = try TemporaryFolder()
        let missing = folder.path + "/nope/strata.json"
        let error = try #require(throws: StrataError.self) { try EngineConfiguration(contentsOfFile: missing) }
        #expect(error.code == .io)
        #expect(error.message.contains(missing) && error.message.contains("No such file"))
    }

    @Test func aFolderIsAnIOErrorNamingThePath() throws {
        let folder = try TemporaryFolder()
        let error = try #require(throws: StrataError.self) { try EngineConfiguration(contentsOfFile: folder.path) }
        #expect(error.code == .io)
        #expect(error.message.contains(folder.path))
    }

    @Test func badJSONNamesTheFileAndTheByte() throws {
        let folder = try TemporaryFolder()
        let file = folder.write("strata.json", #"{"store": }"#)
        let error = try #require(throws: StrataError.self) { try EngineConfiguration(contentsOfFile: file) }
        #expect(error.code == .invalidJSON)
        #expect(error.message.hasPrefix(file + ":") && error.message.contains("at byte 10"))
    }

    @Test func anUnknownKeyIsInvalidConfigNamingTheFileAndKey() throws {
        let folder = try TemporaryFolder()
        let file = folder.write("strata.json", #"{"store": {"backend": "memory", "colour": "red"}}"#)
        let error = try #require(throws: StrataError.self) { try EngineConfiguration(contentsOfFile: file) }
        #expect(error.code == .invalidConfig)
        #expect(error.message.contains(file) && error.message.contains("colour"))
    }

    @Test func invalidUTF8NamesTheFile() throws {
        let folder = try TemporaryFolder()
        let file = folder.write("strata.json", Array(#"{"defaults": {"tier": ""#.utf8) + [0xC3, 0x28] + Array(#""}}"#.utf8))
        let error = try #require(throws: StrataError.self) { try EngineConfiguration(contentsOfFile: file) }
        #expect(error.code == .invalidUTF8)
        #expect(error.message.contains(file))
    }
}
