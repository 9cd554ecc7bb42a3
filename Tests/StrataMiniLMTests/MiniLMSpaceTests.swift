import StrataCore
@testable import StrataMiniLM
import Testing

@Suite struct MiniLMSpaceTests {
    /// The model id a store records as its embedding space names the weights by their digest:
    /// the wheel scripts/install-model checks by sha256 always gives this one.
    @Test func theModelIDNamesTheDigestOfTheWeights() throws {
        let embedder = try installedEmbedder()
        #expect(embedder.modelID == "minilm:sentence-transformers/all-MiniLM-L6-v2@crc32c:e3d12b74")
        #expect(embedder.model.weightsDigest == 0xe3d1_2b74)
    }
}
