import CStrata
import StrataCore

/// The C vtable of a Swift `MemoryKernel` in a plugin (see `PluginExport`).
enum MemoryKernelExport {
    nonisolated(unsafe) static var factory: PluginExport.Factory<any MemoryKernel>?

    /// The kernel and its log names as C strings that live as long as the instance.
    final class Instance {
        let kernel: any MemoryKernel
        let logNames: [UnsafeMutablePointer<CChar>]
        init(_ k: any MemoryKernel) {
            kernel = k
            logNames = k.logNames.map { strdup($0) }
        }
        deinit { logNames.forEach { free($0) } }
    }

    private static func kernel(_ p: UnsafeMutableRawPointer?) -> any MemoryKernel { PluginExport.object(p, as: Instance.self).kernel }

    nonisolated(unsafe) static let vtable: UnsafePointer<strata_memory_kernel_vtable> = {
        let p = UnsafeMutablePointer<strata_memory_kernel_vtable>.allocate(capacity: 1)
        p.initialize(to: strata_memory_kernel_vtable(
            struct_size: UInt32(MemoryLayout<strata_memory_kernel_vtable>.size),
            flags: UInt32(STRATA_INSTANCE_THREAD_SAFE),
            create: { config, out in
                PluginExport.run { () throws(StrataError) in
                    guard let out else { throw StrataError(.invalidArgument, "out_self is NULL") }
                    guard let factory else { throw StrataError(.internal, "no memory kernel factory registered") }
                    out.pointee = PluginExport.retain(Instance(try factory.make(try PluginExport.json(config, what: "config"))))
                }
            },
            destroy: { PluginExport.release($0) },
            dimension: { kernel($0).dimension },
            state_size: { kernel($0).stateSize },
            log_count: { kernel($0).logNames.count },
            log_name: { me, i in
                let names = PluginExport.object(me, as: Instance.self).logNames
                return i < names.count ? UnsafePointer(names[i]) : nil
            },
            parameter_count: { UInt64(kernel($0).parameterCount) },
            initial_state: { me, batch, state in
                PluginExport.run { () throws(StrataError) in
                    let k = kernel(me)
                    guard let state else { throw StrataError(.invalidArgument, "state is NULL") }
                    try k.initialState(batch: batch, into: UnsafeMutableBufferPointer(start: state, count: batch * k.stateSize))
                }
            },
            step: { me, batch, state, hidden, done, read, logs in
                PluginExport.run { () throws(StrataError) in
                    let k = kernel(me)
                    guard let state, let hidden, let read else { throw StrataError(.invalidArgument, "state, hidden or read is NULL") }
                    try k.step(
                        batch: batch, state: UnsafeMutableBufferPointer(start: state, count: batch * k.stateSize),
                        hidden: UnsafeBufferPointer(start: hidden, count: batch * k.dimension),
                        doneMask: done.map { UnsafeBufferPointer(start: $0, count: batch) },
                        read: UnsafeMutableBufferPointer(start: read, count: batch * k.dimension),
                        logs: logs.map { UnsafeMutableBufferPointer(start: $0, count: batch * k.logNames.count) })
                }
            },
            reset: { me, batch, state, keep in
                PluginExport.run { () throws(StrataError) in
                    let k = kernel(me)
                    guard let state, let keep else { throw StrataError(.invalidArgument, "state or keep_mask is NULL") }
                    try k.reset(batch: batch, state: UnsafeMutableBufferPointer(start: state, count: batch * k.stateSize),
                                keepMask: UnsafeBufferPointer(start: keep, count: batch))
                }
            },
            sequence: { me, steps, batch, state, hidden, done, read, logs in
                PluginExport.run { () throws(StrataError) in
                    let k = kernel(me)
                    guard let state, let hidden, let read else { throw StrataError(.invalidArgument, "state, hidden or read is NULL") }
                    let rows = steps * batch
                    try k.sequence(
                        steps: steps, batch: batch, state: UnsafeMutableBufferPointer(start: state, count: batch * k.stateSize),
                        hidden: UnsafeBufferPointer(start: hidden, count: rows * k.dimension),
                        doneMasks: done.map { UnsafeBufferPointer(start: $0, count: rows) },
                        read: UnsafeMutableBufferPointer(start: read, count: rows * k.dimension),
                        logs: logs.map { UnsafeMutableBufferPointer(start: $0, count: rows * k.logNames.count) })
                }
            },
            write_weights: { me, path in
                PluginExport.run { () throws(StrataError) in
                    guard let path else { throw StrataError(.invalidArgument, "path is NULL") }
                    try kernel(me).writeWeights(to: String(cString: path))
                }
            }, create_with_host: nil))
        return UnsafePointer(p)
    }()
}

#if canImport(Glibc)
import Glibc
#endif
