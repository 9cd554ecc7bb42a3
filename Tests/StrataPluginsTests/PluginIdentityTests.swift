#if canImport(Glibc)
import Glibc
#endif
import CStrata
import StrataCore
import StrataPlugins
import StrataTesting
import Testing

/// The plugin note is read from the file before anything in it runs (plugin.h, ABI 1.4).
@Suite struct PluginIdentityTests {
    let memoryPlugin = buildFolder + "/libstrata-memory.so"

    func bytes(_ path: String) throws -> [UInt8] { try WholeFile.read(path) }

    func parse(_ b: [UInt8]) throws(StrataError) -> PluginIdentity {
        try PluginIdentity.parse(size: b.count, what: "test image") { offset, count in
            offset >= 0 && count >= 0 && offset + count <= b.count ? Array(b[offset..<(offset + count)]) : nil
        }
    }

    @Test func eachSwiftPluginCarriesTheNoteOfThisABI() throws {
        for name in ["memory", "sqlite", "file", "tensor"] {
            let identity = try PluginIdentity.read(path: buildFolder + "/libstrata-\(name).so")
            #expect(identity.abiVersion == PluginABI.hostVersion, "libstrata-\(name).so")
        }
        // libstrata.so is the host, not a plugin.
        #expect { try PluginIdentity.read(path: buildFolder + "/libstrata.so") } throws: { error in
            (error as? StrataError)?.message.contains("no Strata plugin note") == true
        }
    }

    @Test func aFileWithoutTheNoteIsRefusedBeforeLoading() throws {
        var b = try bytes(memoryPlugin)
        let owner = Array("Strata\0".utf8)
        var found = 0
        for i in 0..<(b.count - owner.count) where Array(b[i..<(i + owner.count)]) == owner {
            b[i] = UInt8(ascii: "X")  // the note's owner name, and any other copy of it
            found += 1
        }
        #expect(found >= 1)
        #expect { try parse(b) } throws: { error in
            let e = error as? StrataError
            return e?.code == .plugin && e!.message.contains("no Strata plugin note") && e!.message.contains("not loaded")
        }
    }

    @Test func aNoteOfAnotherMajorIsAnABIMismatchNamingBothVersions() throws {
        let source = "\(repository)/Tests/fixtures/plugins/abi_mismatch.c"
        let path = try compilePlugin(source, name: "identity-abi-mismatch")
        #expect { try PluginIdentity.read(path: path) } throws: { error in
            let e = error as? StrataError
            return e?.code == .abiMismatch && e!.message.contains("2.0") && e!.message.contains(PluginABI.describe(PluginABI.hostVersion))
        }
    }

    @Test func damagedImagesGiveErrorsNeverACrash() throws {
        let b = try bytes(memoryPlugin)
        #expect(try parse(b).abiVersion == PluginABI.hostVersion)
        // Every prefix length up to the program headers and a spread beyond: each one either
        // still finds the note (it sits near the start) or is refused.
        var rng = SeededRandom(seed: 7)
        var lengths = Array(0..<200)
        for _ in 0..<200 { lengths.append(Int(rng.next() % UInt64(b.count))) }
        for n in lengths {
            do { _ = try parse(Array(b.prefix(n))) } catch { #expect(error.code == .plugin || error.code == .abiMismatch) }
        }
        // Random bytes written over the ELF header's table offsets and counts.
        for _ in 0..<500 {
            var c = b
            for _ in 0..<4 {
                let at = 16 + Int(rng.next() % 48)
                c[at] = UInt8(truncatingIfNeeded: rng.next())
            }
            do { _ = try parse(c) } catch { #expect(error.code == .plugin || error.code == .abiMismatch) }
        }
    }
}
