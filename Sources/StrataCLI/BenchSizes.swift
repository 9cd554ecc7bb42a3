import ArgumentParser

/// The store sizes the engine benchmarks run at (`bench engine`, `bench abi`).
struct BenchSizes: ParsableArguments {
    @Option(name: .long, parsing: .unconditional, help: "Comma-separated store sizes.", transform: { text in
        try text.split(separator: ",").map { part in
            guard let v = Int(part), v >= 1 else { throw ValidationError("--n takes sizes like 10000,100000") }
            return v
        }
    })
    var n: [Int] = [10_000, 100_000]

    @Option(name: .long, help: "Memories for the text store and recall measurement (0: skip).")
    var textN = 10_000
}
