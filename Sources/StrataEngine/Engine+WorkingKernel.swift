import StrataCore

extension Engine {
    /// Makes the configured kernel with `memory_dim` set to the embedder's dimension.
    static func makeWorkingKernel(
        _ settings: WorkingKernelSettings, dimension: Int, backends: any BackendProvider
    ) throws(StrataError) -> any MemoryKernel {
        var options = settings.options
        if case .object(let o) = options, o["memory_dim"] == nil { options = options.setting("memory_dim", .number(Double(dimension))) }
        let kernel = try backends.makeMemoryKernel(BackendChoice(backend: "tensor", plugin: settings.plugin, options: options),
                                                   path: "config.working_kernel")
        guard kernel.dimension == dimension else {
            throw StrataError(.invalidConfig, "config.working_kernel: the kernel reads \(kernel.dimension) floats, the embedder makes \(dimension)")
        }
        return kernel
    }

    /// Steps the working kernel once per stored embedding, in order (writer and shared locks held).
    func feedWorkingKernel(_ embeddings: [[Float]], _ state: inout SharedState) throws(StrataError) {
        guard let kernel = workingKernel, !embeddings.isEmpty else { return }
        let hidden = embeddings.flatMap { $0 }
        var read = [Float](repeating: 0, count: hidden.count)
        try state.kernelState.withUnsafeMutableBufferPointer { (s) throws(StrataError) in
            try hidden.withUnsafeBufferPointer { (h) throws(StrataError) in
                try read.withUnsafeMutableBufferPointer { (r) throws(StrataError) in
                    try kernel.sequence(steps: embeddings.count, batch: 1, state: s, hidden: h, doneMasks: nil, read: r, logs: nil)
                }
            }
        }
    }

    /// The kernel's read for `query` from a copy of its state: reading does not change what the
    /// working memory holds.
    func readWorkingKernel(_ query: [Float]) throws(StrataError) -> [Float]? {
        guard let kernel = workingKernel else { return nil }
        var copy = shared.withLock { $0.kernelState }
        var read = [Float](repeating: 0, count: kernel.dimension)
        try copy.withUnsafeMutableBufferPointer { (s) throws(StrataError) in
            try query.withUnsafeBufferPointer { (h) throws(StrataError) in
                try read.withUnsafeMutableBufferPointer { (r) throws(StrataError) in
                    try kernel.step(batch: 1, state: s, hidden: h, doneMask: nil, read: r, logs: nil)
                }
            }
        }
        return read
    }
}
