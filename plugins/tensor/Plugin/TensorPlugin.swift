import CStrata
import StrataCore
import StrataPlugins
import StrataTensor

/// The tensor memory kernels as a run-time plugin (libstrata-tensor.so): seed 003's PMM, Slot,
/// KV and Ring and seed 000's fractal levels, on packed-weight matrix products (CStrataSIMD).
/// One factory, "tensor"; the configuration's `type` picks the kernel.
@c public func strata_plugin_entry(_ host: UnsafePointer<strata_host_api>?) -> UnsafePointer<strata_plugin_descriptor>? {
    PluginExport.descriptor(
        host: host, name: "tensor", version: "0.1.0",
        description: "memory kernels for learning loops: pmm, slot, kv, ring, fractal (float32, packed-weight AVX-512/AVX2 products)",
        memoryKernel: .init(name: "tensor") { options throws(StrataError) in try KernelFactory.make(options) })
}
