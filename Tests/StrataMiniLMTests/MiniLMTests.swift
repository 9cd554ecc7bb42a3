#if canImport(Glibc)
import Glibc
#endif
import StrataCore
@testable import StrataMiniLM
import StrataTesting
import Testing

let repository: String = {
    var path = #filePath
    for _ in 0..<3 { path = String(path[..<path.lastIndex(of: "/")!]) }
    return path
}()

/// The model where scripts/setup installs it. A missing model fails the test that needs it,
/// saying how to install it: never a silent skip.
func installedModel() throws -> MiniLMModel {
    do {
        return try Shared.model.get()
    } catch {
        Issue.record("""
            The minilm tests need the all-MiniLM-L6-v2 model. Install it with `scripts/setup` (or \
            `scripts/install-model`) from the repository. \(error)
            """)
        throw error
    }
}

/// The embedder on `installedModel()`, failing the same way when the model is missing.
func installedEmbedder() throws -> MiniLMEmbedder {
    _ = try installedModel()
    return try Shared.embedder.get()
}

enum Shared {
    /// Read once for the whole suite: loading and packing takes a second in a debug build.
    static let model = Result { () throws(StrataError) in try MiniLMModel(directory: MiniLMModel.defaultDirectory()) }
    static let embedder = model.map { MiniLMEmbedder(model: $0) }
}

/// The 20 texts of ../shared/data/minilm-reference-embeddings.json (a copy in Tests/fixtures):
/// their token ids and embeddings from sentence-transformers on PyTorch.
struct Reference {
    let text: String
    let ids: [Int32]
    let embedding: [Float]

    static let all: [Reference] = {
        let bytes = try! WholeFile.read(repository + "/Tests/fixtures/minilm-reference-embeddings.json")
        let json = try! bytes.withUnsafeBufferPointer { try JSONParser.parse(bytes: $0) }
        guard case .object(let o) = json, case .array(let items)? = o["items"] else { fatalError("reference: no items") }
        return items.map { item in
            guard case .object(let i) = item, case .string(let text)? = i["text"], case .array(let ids)? = i["input_ids"],
                  case .array(let e)? = i["embedding"] else { fatalError("reference: a malformed item") }
            func number(_ v: JSONValue) -> Double {
                guard case .number(let x) = v else { fatalError("reference: not a number") }
                return x
            }
            return Reference(text: text, ids: ids.map { Int32(number($0)) }, embedding: e.map { Float(number($0)) })
        }
    }()
}

@Suite struct MiniLMTokenizerTests {
    @Test func tokenIDsMatchTheReferenceOnAll20Texts() throws {
        let tokenizer = try installedModel().tokenizer
        var scratch = BertTokenizer.Scratch()
        #expect(Reference.all.count == 20)
        for r in Reference.all {
            var ids: [Int32] = []
            tokenizer.encode(r.text, maxTokens: MiniLMModel.maxTokens, into: &ids, scratch: &scratch)
            #expect(ids == r.ids, "text \(r.text.debugDescription)")
        }
    }

    @Test func cStringsTokenizeAsTheirStringsDo() throws {
        let tokenizer = try installedModel().tokenizer
        var scratch = BertTokenizer.Scratch()
        func both(_ bytes: [UInt8]) -> ([Int32], [Int32]) {
            var fromString: [Int32] = [], fromBytes: [Int32] = []
            let text = (bytes + [0]).withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            tokenizer.encode(text, maxTokens: 256, into: &fromString, scratch: &scratch)
            (bytes + [0]).withUnsafeBufferPointer {
                $0.baseAddress!.withMemoryRebound(to: CChar.self, capacity: bytes.count + 1) {
                    tokenizer.encode(cString: $0, maxTokens: 256, into: &fromBytes, scratch: &scratch)
                }
            }
            return (fromString, fromBytes)
        }
        for r in Reference.all {
            let (a, b) = both(Array(r.text.utf8))
            #expect(a == r.ids && b == r.ids)
        }
        // Invalid UTF-8 (a stray byte, an overlong form, a surrogate, past U+10FFFF, cut short)
        // and random bytes: the same ids as String(cString:)'s repair.
        let bad: [UInt8] = Array("ab".utf8) + [0xFF] + Array("cd".utf8) + [0xE0, 0x80, 0x80] + Array("ef".utf8) + [0xED, 0xA0, 0x80]
            + Array("gh".utf8) + [0xF4, 0x90, 0x80, 0x80] + Array("ij".utf8) + [0xC3] + Array(" é".utf8) + [0xE2, 0x82]
        let (a, b) = both(bad)
        #expect(a == b)
        var random = SeededRandom(seed: 7)
        for _ in 0..<2_000 {
            let bytes = (0..<Int(random.next() % 40)).map { _ in UInt8(truncatingIfNeeded: random.next() % 255 + 1) }
            let (x, y) = both(bytes)
            #expect(x == y, "bytes \(bytes)")
        }
    }

    @Test func edgeCasesOfCleaningSplittingAndWordPiece() throws {
        let tokenizer = try installedModel().tokenizer
        var scratch = BertTokenizer.Scratch()
        func ids(_ text: String, max: Int = 256) -> [Int32] {
            var out: [Int32] = []
            tokenizer.encode(text, maxTokens: max, into: &out, scratch: &scratch)
            return out
        }
        let (cls, sep, unk) = (tokenizer.clsID, tokenizer.sepID, tokenizer.unkID)
        // Control, format and private-use characters and U+FFFD vanish; other whitespace splits.
        #expect(ids("the\u{0}\u{200B}\u{E000}\u{FFFD}cat") == ids("thecat"))
        #expect(ids("the\u{3000}cat\u{2028}sat") == ids("the cat sat"))
        // A word of 101 characters is one [UNK]; of 100 it is looked up.
        #expect(ids(String(repeating: "a", count: 101)) == [cls, unk, sep])
        #expect(ids(String(repeating: "a", count: 100)).count > 3)
        // Accents go (NFD then Mn dropped), capitals too; Hangul decomposes to jamo.
        #expect(ids("ÉCOLE") == ids("ecole"))
        #expect(ids("한") == ids("\u{1112}\u{1161}\u{11AB}"))
        // Truncation keeps [SEP] at the end.
        let cut = ids(String(repeating: "word ", count: 50), max: 10)
        #expect(cut.count == 10 && cut.first == cls && cut.last == sep)
    }
}

@Suite struct MiniLMEmbedderTests {
    @Test func embeddingsMatchTheReferenceOnAll20Texts() throws {
        let embedder = try installedEmbedder()
        // One batch of all 20: texts stacked without padding, attention per text.
        let vectors = try embedder.embed(Reference.all.map(\.text))
        var worstCosine = 1.0, worstDifference: Float = 0
        for (r, v) in zip(Reference.all, vectors) {
            var dot = 0.0, a = 0.0, b = 0.0
            var difference: Float = 0
            for (x, y) in zip(v, r.embedding) {
                dot += Double(x) * Double(y)
                a += Double(x) * Double(x)
                b += Double(y) * Double(y)
                difference = max(difference, abs(x - y))
            }
            let cosine = dot / (a * b).squareRoot()
            #expect(v.count == 384)
            #expect(cosine >= 0.99999, "text \(r.text.debugDescription): cosine \(cosine)")
            #expect(difference <= 1e-4, "text \(r.text.debugDescription): max difference \(difference)")
            worstCosine = min(worstCosine, cosine)
            worstDifference = max(worstDifference, difference)
        }
        print("minilm parity: worst cosine \(worstCosine), worst max abs difference \(worstDifference) over 20 texts")
    }

    @Test func aBatchEqualsItsTextsOneByOne() throws {
        let embedder = try installedEmbedder()
        let texts = Reference.all.map(\.text)
        let batch = try embedder.embed(texts)
        for (i, text) in texts.enumerated() {
            let single = try embedder.embed([text])[0]
            // The products sum every element in one order whatever the rows around it
            // (strata_gemm.h), and attention and pooling are per text: the same bits.
            #expect(single == batch[i], "text \(i)")
        }
    }

    @Test func theEmptyTextIsAFiniteUnitVector() throws {
        let v = try installedEmbedder().embed([""])[0]
        #expect(v.allSatisfy { $0.isFinite })
        let norm = v.reduce(0) { $0 + Double($1) * Double($1) }
        #expect(abs(norm - 1) < 1e-5)
    }

    @Test func aTextOf100000CharactersIsCutTo256Tokens() throws {
        let model = try installedModel()
        let text = String(repeating: "memory engines keep what agents learn. ", count: 2_600).prefix(100_000)
        #expect(text.count == 100_000)
        var ids: [Int32] = []
        var scratch = BertTokenizer.Scratch()
        model.tokenizer.encode(String(text), maxTokens: MiniLMModel.maxTokens, into: &ids, scratch: &scratch)
        #expect(ids.count == 256 && ids.last == model.tokenizer.sepID)
        let v = try installedEmbedder().embed([String(text), String(repeating: "x", count: 100_000)])
        #expect(v.count == 2 && v.allSatisfy { $0.count == 384 && $0.allSatisfy { $0.isFinite } })
    }

    @Test func unknownOptionsAndAnotherDimensionAreRefused() throws {
        let dir = try installedModel().directory
        #expect(throws: StrataError.self) { try MiniLMEmbedder(options: .object(["model_dir": .string(dir), "colour": .string("red")])) }
        do {
            _ = try MiniLMEmbedder(options: .object(["model_dir": .string(dir), "modeldir": .string(dir)]))
            Issue.record("an unknown key was accepted")
        } catch {
            #expect(error.code == .invalidConfig && error.message.contains("modeldir"))
        }
        do {
            _ = try MiniLMEmbedder(options: .object(["model_dir": .string(dir), "dimension": .number(768)]))
            Issue.record("dimension 768 was accepted")
        } catch {
            #expect(error.code == .dimension)
        }
    }
}

/// A missing or damaged model is an error naming the folder and the install command.
@Suite struct MiniLMModelFolderTests {
    /// A fresh folder holding the installed model's vocab.txt and config.json (linked) and a copy
    /// of model.safetensors that `damage` may change.
    func folder(_ name: String, damage: (inout [UInt8]) -> Void) throws -> String {
        let model = try installedModel()
        let dir = scratchFolder("minilm-tests", name)
        for file in ["vocab.txt", "config.json"] {
            unlink(dir + "/" + file)
            symlink(model.directory + "/" + file, dir + "/" + file)
        }
        var bytes = try WholeFile.read(model.directory + "/model.safetensors")
        damage(&bytes)
        let f = fopen(dir + "/model.safetensors", "wb")!
        fwrite(bytes, 1, bytes.count, f)
        fclose(f)
        return dir
    }

    func remove(_ dir: String) {
        for file in ["vocab.txt", "config.json", "model.safetensors", WeightsDigestCache.fileName, PackedWeightsCache.fileName] {
            unlink(dir + "/" + file)
        }
        rmdir(dir)
    }

    /// The digest is remembered beside the model and used while the file is the same file; a
    /// changed file (same size, one weight changed) is digested again, and a remembered digest
    /// for another identity is never used.
    @Test func theWeightsDigestIsRememberedUntilTheFileChanges() throws {
        let dir = try folder("digest") { _ in }
        defer { remove(dir) }
        let first = try MiniLMModel(directory: dir).weightsDigest
        let cache = dir + "/" + WeightsDigestCache.fileName
        #expect(access(cache, F_OK) == 0, "the first load remembers the digest")
        #expect(try MiniLMModel(directory: dir).weightsDigest == first)
        // A remembered digest for another identity is ignored.
        let forged = fopen(cache, "wb")!
        fputs("\(WeightsDigestCache.header)\n1 2 3 4 5 6 7\ndeadbeef\n", forged)
        fclose(forged)
        #expect(try MiniLMModel(directory: dir).weightsDigest == first, "another identity: digested again")
        // The file changed in place, same size: one weight of a tensor the encoder reads.
        let model = dir + "/model.safetensors"
        let at = try #require(try Safetensors.Mapped(model, names: ["encoder.layer.3.output.dense.weight"]).entries["encoder.layer.3.output.dense.weight"]).bytes.lowerBound + 4000
        let f = fopen(model, "r+b")!
        fseek(f, at, SEEK_SET)
        var byte: UInt8 = 0
        fread(&byte, 1, 1, f)
        byte ^= 0x01
        fseek(f, at, SEEK_SET)
        fwrite(&byte, 1, 1, f)
        fclose(f)
        #expect(try MiniLMModel(directory: dir).weightsDigest != first, "a changed file is digested again")
    }

    /// The packed products are kept beside the model and mapped by the next load, giving the same
    /// vectors bit for bit; a damaged or cut file, or one written for another model file, is
    /// packed again and written again.
    @Test func thePackedProductsAreKeptBesideTheModelUntilTheyDoNotMatch() throws {
        let dir = try folder("packed") { _ in }
        defer { remove(dir) }
        let texts = ["The cat sat on the mat.", "Quarterly revenue grew 12%", "", "naïve café résumé 東京"]
        func vectors(_ model: MiniLMModel) throws -> [[UInt32]] { try MiniLMEmbedder(model: model).embed(texts).map { $0.map(\.bitPattern) } }
        let cache = dir + "/" + PackedWeightsCache.fileName
        #expect(access(cache, F_OK) != 0, "a fresh folder has no packed products")
        let packed = try MiniLMModel(directory: dir)
        #expect(!packed.packedFromCache)
        #expect(access(cache, F_OK) == 0, "the first load keeps its packed products")
        let reference = try vectors(packed)
        let mapped = try MiniLMModel(directory: dir)
        #expect(mapped.packedFromCache, "the second load maps them")
        #expect(try vectors(mapped) == reference, "mapped products give the packed ones' bits")
        #expect(try vectors(installedModel()) == reference, "and the installed model's")

        func change(_ body: (UnsafeMutablePointer<FILE>, Int) -> Void) {
            var info = stat()
            stat(cache, &info)
            let f = fopen(cache, "r+b")!
            body(f, Int(info.st_size))
            fclose(f)
        }
        // One flipped bit in the middle of a product: the checksum catches it.
        change { f, size in
            fseek(f, size / 2, SEEK_SET)
            var byte: UInt8 = 0
            fread(&byte, 1, 1, f)
            byte ^= 0x10
            fseek(f, size / 2, SEEK_SET)
            fwrite(&byte, 1, 1, f)
        }
        let afterDamage = try MiniLMModel(directory: dir)
        #expect(!afterDamage.packedFromCache, "a damaged file is not used")
        #expect(try vectors(afterDamage) == reference)
        #expect(try MiniLMModel(directory: dir).packedFromCache, "and is written again whole")
        // Cut short.
        change { f, size in _ = ftruncate(fileno(f), off_t(size - 100)) }
        #expect(!(try MiniLMModel(directory: dir).packedFromCache), "a cut file is not used")
        #expect(try MiniLMModel(directory: dir).packedFromCache)
        // Written for another model file: the model's status-change time moves (chmod), so its
        // identity differs from the one the packed file names.
        chmod(dir + "/model.safetensors", 0o600)
        let otherIdentity = try MiniLMModel(directory: dir)
        #expect(!otherIdentity.packedFromCache, "products packed for another identity are not used")
        #expect(try vectors(otherIdentity) == reference)
        #expect(try MiniLMModel(directory: dir).packedFromCache)
    }

    func expectError(_ dir: String, _ code: StrataError.Code, mentioning: String) {
        do {
            _ = try MiniLMEmbedder(options: .object(["model_dir": .string(dir)]))
            Issue.record("the model in \(dir) loaded")
        } catch {
            #expect(error.code == code, "\(error)")
            #expect(error.message.contains(dir), "\(error)")
            #expect(error.message.contains("scripts/install-model"), "\(error)")
            #expect(error.message.contains(mentioning), "\(error)")
        }
    }

    @Test func aMissingFolderIsAnIOErrorNamingItAndTheInstallCommand() {
        expectError("/tmp/strata-minilm-nowhere-\(getpid())", .io, mentioning: "cannot open the folder")
    }

    @Test func aMissingVocabularyIsAnIOError() throws {
        let dir = try folder("novocab") { _ in }
        defer { remove(dir) }
        unlink(dir + "/vocab.txt")
        expectError(dir, .io, mentioning: "vocab")
    }

    @Test func aTruncatedSafetensorsFileIsCorrupt() throws {
        let dir = try folder("short") { $0.removeLast(1000) }
        defer { remove(dir) }
        expectError(dir, .corrupt, mentioning: "bytes, expected")
    }

    @Test func aBadSafetensorsHeaderIsCorrupt() throws {
        // Same size, header length overwritten: the header no longer fits the file.
        let dir = try folder("header") { for i in 0..<8 { $0[i] = 0xFF } }
        defer { remove(dir) }
        expectError(dir, .corrupt, mentioning: "header")
    }

    @Test func aMissingTensorIsCorruptNamingIt() throws {
        // Same size, one tensor renamed in the header.
        let dir = try folder("tensor") { bytes in
            let name = Array("encoder.layer.3.output.dense.weight".utf8)
            let at = (8..<20_000).first { bytes[$0..<($0 + name.count)].elementsEqual(name) }!
            bytes[at] = UInt8(ascii: "E")
        }
        defer { remove(dir) }
        expectError(dir, .corrupt, mentioning: "encoder.layer.3.output.dense.weight")
    }
}
