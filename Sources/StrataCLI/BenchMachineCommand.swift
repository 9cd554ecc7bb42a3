import ArgumentParser
import StrataBackends
import StrataCore

/// `strata bench machine`: only this machine's limits (sgemm GFLOP/s, streaming-read GB/s), for
/// benchmarks in other languages (bench/persist_bench.py, bench/kernel_bench.py) to report their
/// figures against. The sgemm bound is the better of OpenBLAS and the kernels' packed sgemm.
struct BenchMachineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "machine",
        abstract: "Measure this machine's sgemm GFLOP/s and streaming-read GB/s (the bounds of exact search).",
        discussion: "The same measurements as `strata bench search` prints as its bounds, without a data set.")

    @Option(name: .long, help: "Size of the streaming-read buffer in MiB.")
    var streamMib = 1024

    @OptionGroup var output: OutputOptions

    func validate() throws {
        guard streamMib >= 64 else { throw ValidationError("--stream-mib must be at least 64") }
    }

    func run() throws {
        let bytes = streamMib << 20
        let stream1 = MachineBounds.streamReadGBps(bytes: bytes, threads: 1, runs: 3)
        let streamAll = MachineBounds.streamReadGBps(bytes: bytes, threads: MachineBounds.onlineCores, runs: 3)
        let blas = MachineBounds.blasReadGBps(bytes: bytes, runs: 3)
        let stream = max(stream1, streamAll, blas?.sasum ?? 0, blas?.sdot ?? 0)
        // The search shape of 1,000 queries over 100k x 384 (InMemoryVectorStore.batchBlockRows).
        let bound = MachineBounds.SgemmBound.measure(m: 1000, n: InMemoryVectorStore.batchBlockRows(rows: 100_000, queries: 1000), k: 384)
        let sgemm = bound.best.gflops
        if output.json {
            func num(_ x: Double) -> JSONValue { .number((x * 1000).rounded() / 1000) }
            printJSON(.object([
                "cpu": .string(MachineBounds.cpuModel), "cores": .number(Double(MachineBounds.onlineCores)),
                "stream_read_gb_per_s": num(stream), "stream_read_1_thread_gb_per_s": num(stream1),
                "stream_read_all_cores_gb_per_s": num(streamAll), "sgemm_gflop_per_s": num(sgemm),
                "sgemm_best": .string(bound.best.name), "sgemm_candidates": bound.json,
            ]))
        } else {
            print("machine    \(MachineBounds.cpuModel), \(MachineBounds.onlineCores) cores")
            print(fmt("stream     %.2f GB/s (1 thread %.2f, %d threads %.2f, OpenBLAS sasum %.2f, sdot %.2f)",
                      stream, stream1, MachineBounds.onlineCores, streamAll, blas?.sasum ?? .nan, blas?.sdot ?? .nan))
            print(fmt("sgemm      %.1f GFLOP/s, best: ", sgemm) + bound.best.name
                  + " (of: \(bound.summary); OpenBLAS threads \(OpenBLASLibrary.threadsText), packed on \(MachineBounds.onlineCores) threads)")
        }
    }
}
