import CStrata
import StrataCore
import Synchronization

/// Serialises the calls into one plugin instance unless its vtable sets
/// STRATA_INSTANCE_THREAD_SAFE (include/strata/plugin.h, "the host serializes it if not").
final class InstanceLock: Sendable {
    private let serial = Mutex<Void>(())
    let threadSafe: Bool

    init(flags: UInt32) { threadSafe = flags & UInt32(STRATA_INSTANCE_THREAD_SAFE) != 0 }

    func run<T>(_ body: () -> T) -> T {
        if threadSafe { return body() }
        return serial.withLock { _ in body() }
    }
}

/// Checks that a plugin's vtable is at least as large as the struct this library was built with.
func checkVTableSize(_ size: UInt32, expected: Int, seam: String, plugin: LoadedPlugin) throws(StrataError) {
    guard size >= UInt32(expected) else {
        throw StrataError(.abiMismatch,
                          "plugin \(plugin.name) (\(plugin.path)): \(seam) vtable is \(size) bytes, this library needs \(expected)")
    }
}

/// Copies a vtable that may come from an older minor ABI: the host reads only the `size` bytes
/// the plugin declared (at least `minimum`, the size at ABI x.0) and sees appended fields as zero
/// (NULL functions).
func readVTable<VTable>(_ table: UnsafePointer<VTable>, size: UInt32, minimum: Int, seam: String, plugin: LoadedPlugin)
    throws(StrataError) -> VTable
{
    try checkVTableSize(size, expected: minimum, seam: seam, plugin: plugin)
    let full = MemoryLayout<VTable>.size
    let out = UnsafeMutableRawPointer.allocate(byteCount: full, alignment: MemoryLayout<VTable>.alignment)
    defer { out.deallocate() }
    out.initializeMemory(as: UInt8.self, repeating: 0, count: full)
    out.copyMemory(from: UnsafeRawPointer(table), byteCount: min(full, Int(size)))
    return out.load(as: VTable.self)
}
