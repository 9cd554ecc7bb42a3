import CStrata
import StrataCore
import StrataPlugins

/// What a `strata_kernel *` points to: the kernel (served by a plugin) and its description.
final class KernelHandle: Sendable {
    let kernel: any MemoryKernel
    let type: String
    let plugin: String
    /// The configuration without the host's keys, as saved with states.
    let description: String

    init(config: JSONValue) throws(StrataError) {
        guard case .object(var o) = config else { throw StrataError(.invalidConfig, "kernel config must be a JSON object") }
        var plugin = "tensor"
        if let p = o.removeValue(forKey: "plugin") {
            guard case .string(let s) = p, !s.isEmpty else { throw StrataError(.invalidConfig, "kernel config.plugin must be a plugin name or path") }
            plugin = s
        }
        var directories: [String] = []
        if let d = o.removeValue(forKey: "plugin_dirs") {
            guard case .array(let items) = d else { throw StrataError(.invalidConfig, "kernel config.plugin_dirs must be an array of folders") }
            for item in items {
                guard case .string(let s) = item else { throw StrataError(.invalidConfig, "kernel config.plugin_dirs must be an array of folders") }
                directories.append(s)
            }
        }
        guard case .string(let t)? = o["type"] else { throw StrataError(.invalidConfig, "kernel config.type is required (pmm, slot, kv, ring, fractal)") }
        type = t
        self.plugin = plugin
        description = JSONWriter.string(.object(o))
        kernel = try PluginBackends(pluginDirectories: directories).makeMemoryKernel(
            BackendChoice(backend: "tensor", plugin: plugin, options: .object(o)), path: "kernel config")
    }

    static func from(_ pointer: OpaquePointer?) throws(StrataError) -> KernelHandle {
        guard let pointer else { throw StrataError(.invalidArgument, "kernel is NULL") }
        return Unmanaged<KernelHandle>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
    }
}

@implementation @c public func strata_kernel_open(_ out: UnsafeMutablePointer<OpaquePointer?>!, _ config_json: UnsafePointer<CChar>!) -> strata_status {
    out?.pointee = nil
    return cCall { () throws(StrataError) in
        guard let out else { throw StrataError(.invalidArgument, "out is NULL") }
        let handle = try KernelHandle(config: try cJSON(config_json, what: "kernel config"))
        out.pointee = OpaquePointer(Unmanaged.passRetained(handle).toOpaque())
    }
}

@implementation @c public func strata_kernel_close(_ kernel: OpaquePointer!) {
    guard let kernel else { return }
    Unmanaged<KernelHandle>.fromOpaque(UnsafeRawPointer(kernel)).release()
}

@implementation @c public func strata_kernel_dimension(_ kernel: OpaquePointer!) -> Int {
    (try? KernelHandle.from(kernel).kernel.dimension) ?? 0
}

@implementation @c public func strata_kernel_state_size(_ kernel: OpaquePointer!) -> Int {
    (try? KernelHandle.from(kernel).kernel.stateSize) ?? 0
}

@implementation @c public func strata_kernel_log_count(_ kernel: OpaquePointer!) -> Int {
    (try? KernelHandle.from(kernel).kernel.logNames.count) ?? 0
}

@implementation @c public func strata_kernel_info(_ kernel: OpaquePointer!, _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!) -> strata_status {
    out_json?.pointee = nil
    return cCall { () throws(StrataError) in
        guard let out_json else { throw StrataError(.invalidArgument, "out_json is NULL") }
        let h = try KernelHandle.from(kernel)
        let k = h.kernel
        out_json.pointee = mallocString(JSONWriter.string(.object([
            "type": .string(h.type), "dimension": .number(Double(k.dimension)), "state_size": .number(Double(k.stateSize)),
            "logs": .array(k.logNames.map { .string($0) }), "parameters": .number(Double(k.parameterCount)),
            "plugin": .string(h.plugin),
        ])))
    }
}

/// A caller's buffer of `count` floats; NULL is an error naming `what`.
private func buffer(_ p: UnsafePointer<Float>?, _ count: Int, _ what: String) throws(StrataError) -> UnsafeBufferPointer<Float> {
    guard let p else { throw StrataError(.invalidArgument, "\(what) is NULL") }
    return UnsafeBufferPointer(start: p, count: count)
}

private func mutableBuffer(_ p: UnsafeMutablePointer<Float>?, _ count: Int, _ what: String) throws(StrataError) -> UnsafeMutableBufferPointer<Float> {
    guard let p else { throw StrataError(.invalidArgument, "\(what) is NULL") }
    return UnsafeMutableBufferPointer(start: p, count: count)
}

/// Checks a batch (or step) count before any size is multiplied with it.
private func rows(_ n: Int, _ what: String) throws(StrataError) -> Int {
    guard n >= 1, n <= 1 << 30 else { throw StrataError(.invalidArgument, "\(what) must be in 1...\(1 << 30), got \(n)") }
    return n
}

@implementation @c public func strata_kernel_initial_state(_ kernel: OpaquePointer!, _ batch: Int, _ state: UnsafeMutablePointer<Float>!) -> strata_status {
    cCall { () throws(StrataError) in
        let k = try KernelHandle.from(kernel).kernel
        let b = try rows(batch, "batch")
        try k.initialState(batch: b, into: try mutableBuffer(state, b * k.stateSize, "state"))
    }
}

@implementation @c public func strata_kernel_step(
    _ kernel: OpaquePointer!, _ batch: Int, _ state: UnsafeMutablePointer<Float>!, _ hidden: UnsafePointer<Float>!,
    _ done_mask: UnsafePointer<Float>!, _ read: UnsafeMutablePointer<Float>!, _ logs: UnsafeMutablePointer<Float>!
) -> strata_status {
    cCall { () throws(StrataError) in
        let k = try KernelHandle.from(kernel).kernel
        let b = try rows(batch, "batch")
        try k.step(
            batch: b, state: try mutableBuffer(state, b * k.stateSize, "state"), hidden: try buffer(hidden, b * k.dimension, "hidden"),
            doneMask: done_mask.map { UnsafeBufferPointer(start: $0, count: b) },
            read: try mutableBuffer(read, b * k.dimension, "read"),
            logs: logs.map { UnsafeMutableBufferPointer(start: $0, count: b * k.logNames.count) })
    }
}

@implementation @c public func strata_kernel_sequence(
    _ kernel: OpaquePointer!, _ steps: Int, _ batch: Int, _ state: UnsafeMutablePointer<Float>!, _ hidden: UnsafePointer<Float>!,
    _ done_masks: UnsafePointer<Float>!, _ read: UnsafeMutablePointer<Float>!, _ logs: UnsafeMutablePointer<Float>!
) -> strata_status {
    cCall { () throws(StrataError) in
        let k = try KernelHandle.from(kernel).kernel
        let b = try rows(batch, "batch"), t = try rows(steps, "steps")
        guard t.multipliedReportingOverflow(by: b * max(k.dimension, k.stateSize)).overflow == false else {
            throw StrataError(.invalidArgument, "steps x batch x dimension overflows")
        }
        try k.sequence(
            steps: t, batch: b, state: try mutableBuffer(state, b * k.stateSize, "state"),
            hidden: try buffer(hidden, t * b * k.dimension, "hidden"),
            doneMasks: done_masks.map { UnsafeBufferPointer(start: $0, count: t * b) },
            read: try mutableBuffer(read, t * b * k.dimension, "read"),
            logs: logs.map { UnsafeMutableBufferPointer(start: $0, count: t * b * k.logNames.count) })
    }
}

@implementation @c public func strata_kernel_reset(
    _ kernel: OpaquePointer!, _ batch: Int, _ state: UnsafeMutablePointer<Float>!, _ keep_mask: UnsafePointer<Float>!
) -> strata_status {
    cCall { () throws(StrataError) in
        let k = try KernelHandle.from(kernel).kernel
        let b = try rows(batch, "batch")
        try k.reset(batch: b, state: try mutableBuffer(state, b * k.stateSize, "state"), keepMask: try buffer(keep_mask, b, "keep_mask"))
    }
}

@implementation @c public func strata_kernel_save_state(
    _ kernel: OpaquePointer!, _ path: UnsafePointer<CChar>!, _ batch: Int, _ state: UnsafePointer<Float>!
) -> strata_status {
    cCall { () throws(StrataError) in
        let h = try KernelHandle.from(kernel)
        let b = try rows(batch, "batch")
        guard let file = try cString(path, what: "path") else { throw StrataError(.invalidArgument, "path is NULL") }
        let values = Array(try buffer(state, b * h.kernel.stateSize, "state"))
        try Safetensors.write(["state": .init(shape: [b, h.kernel.stateSize], values: values)], to: file,
                              metadata: ["strata.kernel": h.description])
    }
}

@implementation @c public func strata_kernel_load_state(
    _ kernel: OpaquePointer!, _ path: UnsafePointer<CChar>!, _ batch: Int, _ state: UnsafeMutablePointer<Float>!
) -> strata_status {
    cCall { () throws(StrataError) in
        let k = try KernelHandle.from(kernel).kernel
        let b = try rows(batch, "batch")
        guard let file = try cString(path, what: "path") else { throw StrataError(.invalidArgument, "path is NULL") }
        let out = try mutableBuffer(state, b * k.stateSize, "state")
        guard let saved = try Safetensors.read(file)["state"] else {
            throw StrataError(.corrupt, "\(file) holds no tensor \"state\": not a saved kernel state")
        }
        guard saved.shape == [b, k.stateSize] else {
            throw StrataError(.dimension, "\(file) holds a state of shape \(saved.shape); this call wants [\(b), \(k.stateSize)]")
        }
        _ = out.update(from: saved.values)
    }
}

@implementation @c public func strata_kernel_save_weights(_ kernel: OpaquePointer!, _ path: UnsafePointer<CChar>!) -> strata_status {
    cCall { () throws(StrataError) in
        let k = try KernelHandle.from(kernel).kernel
        guard let file = try cString(path, what: "path") else { throw StrataError(.invalidArgument, "path is NULL") }
        try k.writeWeights(to: file)
    }
}
