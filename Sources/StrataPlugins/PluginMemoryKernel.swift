import CStrata
import StrataCore

/// A memory kernel served by a plugin through `strata_memory_kernel_vtable`.
///
/// `@unchecked Sendable`: `instance` is only used through the vtable under `lock`.
public final class PluginMemoryKernel: MemoryKernel, @unchecked Sendable {
    public let dimension: Int
    public let stateSize: Int
    public let logNames: [String]
    public let parameterCount: Int
    private let vtable: strata_memory_kernel_vtable
    private let instance: UnsafeMutableRawPointer?
    private let lock: InstanceLock
    private let pluginName: String

    public init(plugin: LoadedPlugin, factory: PluginFactory, options: JSONValue) throws(StrataError) {
        let table = factory.vtable.assumingMemoryBound(to: strata_memory_kernel_vtable.self)
        // Plugins built for ABI 1.2 end before `sequence`: read what they declare, the rest is NULL.
        let v = try readVTable(table, size: table.pointee.struct_size,
                               minimum: MemoryLayout<strata_memory_kernel_vtable>.offset(of: \.sequence)!,
                               seam: "memory kernel", plugin: plugin)
        guard v.create != nil || v.create_with_host != nil, v.destroy != nil, let dim = v.dimension, let stateSize = v.state_size,
            let logCount = v.log_count, let logName = v.log_name, let params = v.parameter_count, v.initial_state != nil,
            v.step != nil, v.reset != nil
        else {
            throw StrataError(.plugin, "plugin \(plugin.name) (\(plugin.path)): memory kernel \"\(factory.name)\" leaves a required function NULL")
        }
        vtable = v
        pluginName = plugin.name
        lock = InstanceLock(flags: v.flags)
        let out = try createInstance(v.create, v.create_with_host, config: JSONWriter.string(options), plugin: plugin, factory: factory.name)
        instance = out
        dimension = dim(out)
        self.stateSize = stateSize(out)
        logNames = (0..<logCount(out)).map { i in logName(out, i).map { String(cString: $0) } ?? "log\(i)" }
        parameterCount = Int(params(out))
    }

    deinit { vtable.destroy(instance) }

    public func initialState(batch: Int, into state: UnsafeMutableBufferPointer<Float>) throws(StrataError) {
        guard batch > 0, state.count == batch * stateSize else {
            throw StrataError(.dimension, "state has \(state.count) floats, expected \(batch) x \(stateSize)")
        }
        try pluginCheck(lock.run { vtable.initial_state(instance, batch, state.baseAddress) }, pluginName, "initial_state")
    }

    public func step(
        batch: Int, state: UnsafeMutableBufferPointer<Float>, hidden: UnsafeBufferPointer<Float>,
        doneMask: UnsafeBufferPointer<Float>?, read: UnsafeMutableBufferPointer<Float>, logs: UnsafeMutableBufferPointer<Float>?
    ) throws(StrataError) {
        try checkStep(batch: batch, state: state.count, hidden: hidden.count, doneMask: doneMask?.count, read: read.count, logs: logs?.count)
        let status = lock.run {
            vtable.step(instance, batch, state.baseAddress, hidden.baseAddress, doneMask?.baseAddress, read.baseAddress, logs?.baseAddress)
        }
        try pluginCheck(status, pluginName, "step")
    }

    public func sequence(
        steps: Int, batch: Int, state: UnsafeMutableBufferPointer<Float>, hidden: UnsafeBufferPointer<Float>,
        doneMasks: UnsafeBufferPointer<Float>?, read: UnsafeMutableBufferPointer<Float>, logs: UnsafeMutableBufferPointer<Float>?
    ) throws(StrataError) {
        try checkSequence(steps: steps, batch: batch, state: state.count, hidden: hidden.count, doneMasks: doneMasks?.count,
                          read: read.count, logs: logs?.count)
        guard let sequence = vtable.sequence else {
            // A plugin without `sequence`: one step per time step, as the header promises.
            let d = dimension, l = logNames.count
            for t in 0..<steps {
                try step(
                    batch: batch, state: state,
                    hidden: UnsafeBufferPointer(rebasing: hidden[(t * batch * d)..<((t + 1) * batch * d)]),
                    doneMask: doneMasks.map { UnsafeBufferPointer(rebasing: $0[(t * batch)..<((t + 1) * batch)]) },
                    read: UnsafeMutableBufferPointer(rebasing: read[(t * batch * d)..<((t + 1) * batch * d)]),
                    logs: logs.map { UnsafeMutableBufferPointer(rebasing: $0[(t * batch * l)..<((t + 1) * batch * l)]) })
            }
            return
        }
        let status = lock.run {
            sequence(instance, steps, batch, state.baseAddress, hidden.baseAddress, doneMasks?.baseAddress, read.baseAddress, logs?.baseAddress)
        }
        try pluginCheck(status, pluginName, "sequence")
    }

    public func writeWeights(to path: String) throws(StrataError) {
        guard let write = vtable.write_weights else {
            throw StrataError(.unsupported, "plugin \(pluginName): this memory kernel cannot write its weights")
        }
        try pluginCheck(lock.run { path.withCString { write(instance, $0) } }, pluginName, "write_weights")
    }

    public func reset(batch: Int, state: UnsafeMutableBufferPointer<Float>, keepMask: UnsafeBufferPointer<Float>) throws(StrataError) {
        guard batch > 0, state.count == batch * stateSize, keepMask.count == batch else {
            throw StrataError(.dimension, "reset needs state of \(batch) x \(stateSize) floats and \(batch) mask values")
        }
        try pluginCheck(lock.run { vtable.reset(instance, batch, state.baseAddress, keepMask.baseAddress) }, pluginName, "reset")
    }
}
