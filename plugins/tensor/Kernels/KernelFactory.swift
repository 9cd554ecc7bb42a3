import StrataCore

/// Makes a kernel from its JSON configuration: `type` picks it (pmm, slot, kv, ring, fractal).
public enum KernelFactory {
    /// The kernel types, each with what makes it.
    nonisolated(unsafe) public static var makers: [String: (inout KernelOptions) throws(StrataError) -> any TensorKernel] = [
        "pmm": { (o: inout KernelOptions) throws(StrataError) -> any TensorKernel in try PMMKernel(&o) },
        "ring": { (o: inout KernelOptions) throws(StrataError) -> any TensorKernel in try RingKernel(&o) },
        "slot": { (o: inout KernelOptions) throws(StrataError) -> any TensorKernel in try SlotKernel(&o) },
        "kv": { (o: inout KernelOptions) throws(StrataError) -> any TensorKernel in try KVKernel(&o) },
        "fractal": { (o: inout KernelOptions) throws(StrataError) -> any TensorKernel in try FractalKernel(&o) },
    ]

    public static func make(_ json: JSONValue) throws(StrataError) -> any TensorKernel {
        var options = try KernelOptions(json)
        guard let make = makers[options.type] else {
            throw StrataError(.invalidConfig, "kernel config.type must be one of \(makers.keys.sorted().map { "\"\($0)\"" }.joined(separator: ", ")), got \"\(options.type)\"")
        }
        return try make(&options)
    }
}
