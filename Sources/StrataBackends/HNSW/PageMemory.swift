#if canImport(Glibc)
import Glibc
#endif

/// A block for a big array that is replaced whole (layer 0's packed run and loose lists), taken
/// from the kernel with `mmap` rather than from malloc once it is 128 KiB or more.
///
/// Why: glibc raises its mmap threshold to the size of each mmapped block it frees (up to
/// 32 MiB). After a pack freed the 12.8 MB of loose lists of a 100k-row build, later blocks up to
/// that size came from the heap instead, and stayed resident once freed: measured, 15 MB more
/// resident growth at the end of `strata bench ann` at 100k x 384 (199.6 MB against 184.7 with the
/// threshold pinned).
struct PageMemory {
    let base: UnsafeMutableRawPointer
    let bytes: Int
    private let mapped: Bool

    static let mapFrom = 128 << 10

    /// An uninitialized block of at least `bytes` bytes (16-byte aligned).
    init(bytes: Int) {
        self.bytes = max(bytes, 1)
        if self.bytes >= Self.mapFrom {
            guard let p = mmap(nil, self.bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), p != MAP_FAILED else {
                fatalError("HNSW: out of memory mapping \(self.bytes) bytes for the graph's lists")
            }
            base = p
            mapped = true
        } else {
            base = .allocate(byteCount: self.bytes, alignment: 16)
            mapped = false
        }
    }

    func free() {
        if mapped { munmap(base, bytes) } else { base.deallocate() }
    }
}
