import CStrata
import StrataCore
import StrataMiniLM
import StrataPlugins

/// all-MiniLM-L6-v2 as a run-time plugin (libstrata-minilm.so): one embedder, "minilm", 384
/// dimensions, from the model folder scripts/install-model fills (options: `model_dir`,
/// `threads`; see `MiniLMEmbedder`).
@c public func strata_plugin_entry(_ host: UnsafePointer<strata_host_api>?) -> UnsafePointer<strata_plugin_descriptor>? {
    PluginExport.descriptor(
        host: host, name: "minilm", version: "0.1.0",
        description: "sentence embedder: all-MiniLM-L6-v2 (384 dimensions, BERT WordPiece, packed-weight AVX-512/AVX2 products), run natively",
        embedder: .init(name: "minilm") { options throws(StrataError) in try MiniLMEmbedder(options: options) })
}
