#if canImport(Glibc)
import Glibc
#endif

/// OpenBLAS, opened at run time by the benchmarks that measure it beside Strata's own kernels
/// (`MachineBounds`), and by nothing else.
///
/// Why not linked: OpenBLAS starts its thread pool when it is loaded, and each worker spins on
/// `sched_yield` for about a tenth of a second before it sleeps. Every `strata` command paid
/// that: in a fresh `strata recall` on the 100k store (bench/open_cost.py) the spinning was
/// about a fifth of the process's CPU samples, on the core the command's own threads use. No
/// command but the benchmarks calls OpenBLAS.
struct OpenBLASLibrary {
    // cblas.h's enum values, stable across CBLAS implementations.
    static let rowMajor: Int32 = 101
    static let noTrans: Int32 = 111
    static let trans: Int32 = 112

    typealias Sgemm = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
                                      UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias Sasum = @convention(c) (Int32, UnsafePointer<Float>?, Int32) -> Float
    typealias Sdot = @convention(c) (Int32, UnsafePointer<Float>?, Int32, UnsafePointer<Float>?, Int32) -> Float
    typealias Threads = @convention(c) () -> Int32

    let sgemm: Sgemm
    let sasum: Sasum
    let sdot: Sdot
    let threads: Threads

    /// The system's OpenBLAS (Debian's libopenblas0), or nil when it is not installed: the
    /// benchmarks then measure their bounds without it and say so.
    static let shared: OpenBLASLibrary? = {
        guard let handle = dlopen("libopenblas.so.0", RTLD_NOW | RTLD_LOCAL) else { return nil }
        func symbol<T>(_ name: String, _: T.Type) -> T? {
            dlsym(handle, name).map { unsafeBitCast($0, to: T.self) }
        }
        guard let sgemm = symbol("cblas_sgemm", Sgemm.self), let sasum = symbol("cblas_sasum", Sasum.self),
              let sdot = symbol("cblas_sdot", Sdot.self), let threads = symbol("openblas_get_num_threads", Threads.self) else {
            return nil
        }
        return OpenBLASLibrary(sgemm: sgemm, sasum: sasum, sdot: sdot, threads: threads)
    }()

    /// "N" threads, or "not found".
    static var threadsText: String { shared.map { String($0.threads()) } ?? "not found" }
}
