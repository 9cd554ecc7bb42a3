import StrataCore
import StrataEngine
import StrataTesting
import Synchronization
import Testing

@Suite struct AnomaliesTests {
    let clock = ManualClock()

    func engine(_ anomalies: JSONValue = [:]) throws -> Engine {
        try Engine(configuration: EngineConfiguration(json: ["dedupe": ["enabled": false], "anomalies": anomalies]), clock: clock)
    }

    /// 200 vectors close to one centre, then 3 pointing elsewhere.
    func vectors(dimension: Int = 256) -> (ordinary: [[Float]], far: [[Float]]) {
        var rng = SeededRandom(seed: 11)
        let centre = (0..<dimension).map { _ in rng.gaussian() }
        let ordinary = (0..<200).map { _ in centre.map { Float($0 + 0.05 * rng.gaussian()) } }
        let far = (0..<3).map { _ in (0..<dimension).map { _ in Float(rng.gaussian()) } }
        return (ordinary, far)
    }

    @Test func farVectorsAreTheTopThreeAndEachGetsAnEvent() throws {
        let e = try engine()
        let (ordinary, far) = vectors()
        _ = try e.store(ordinary.indices.map { NewMemory("ordinary \($0)") }, vectors: ordinary)
        let farIDs = Set(try e.store(far.indices.map { NewMemory("far \($0)") }, vectors: far).map(\.id))
        let events = Mutex<[MemoryEvent]>([])
        let token = e.subscribe { event in events.withLock { $0.append(event) } }
        defer { e.unsubscribe(token) }

        let report = try e.anomalies(AnomalyQuery(threshold: 0))
        #expect(report.scored == 203 && report.anomalies.count == 203 && report.threshold == 0)
        #expect(Set(report.anomalies.prefix(3).map(\.memory.id)) == farIDs, "\(report.anomalies.prefix(5).map { ($0.memory.content, $0.score) })")
        #expect(report.anomalies.map(\.score) == report.anomalies.map(\.score).sorted(by: >))
        #expect(report.anomalies.allSatisfy { $0.score > 0 && $0.score <= 1 })

        let top = try e.anomalies(AnomalyQuery(limit: 3))
        #expect(Set(top.anomalies.map(\.memory.id)) == farIDs)
        #expect(top.anomalies.allSatisfy { $0.score >= 0.6 }, "the configured threshold applies: \(top.anomalies.map(\.score))")
        let seen = events.withLock { $0 }.filter { $0.kind == .anomalyDetected }
        #expect(seen.count == 203 + 3, "one event per memory answered")
        let last = seen.suffix(3)
        #expect(last.map(\.memoryID) == top.anomalies.map(\.memory.id))
        #expect(last.map(\.score) == top.anomalies.map { Optional($0.score) })
        #expect(last.allSatisfy { $0.memory != nil })
    }

    @Test func extremeNumericMetadataIsTheTopThreeAndNaNOrMissingValuesAreImputed() throws {
        let e = try engine(["projection_dims": 0, "numeric_fields": ["profit", "latency.ms"]])
        var rng = SeededRandom(seed: 3)
        var items = (0..<200).map { i in
            NewMemory("trade \(i)", metadata: ["profit": .number(100 + 10 * rng.gaussian()), "latency": ["ms": .number(20 + rng.gaussian())]])
        }
        items[5].metadata["profit"] = .number(.nan)
        items[6].metadata["profit"] = "lots"
        items[7].metadata = [:]
        items[8].metadata["latency"] = ["ms": .number(.infinity)]
        items += [
            NewMemory("huge win", metadata: ["profit": 1e6, "latency": ["ms": 21]]),
            NewMemory("huge loss", metadata: ["profit": -5e5, "latency": ["ms": 19]]),
            NewMemory("slow trade", metadata: ["profit": 101, "latency": ["ms": 9000]]),
        ]
        let ids = try e.store(items, vectors: items.map { _ in [Float](repeating: 1, count: 256) }).map(\.id)
        let report = try e.anomalies(AnomalyQuery(threshold: 0, limit: 3))
        #expect(Set(report.anomalies.map(\.memory.id)) == Set(ids.suffix(3)), "\(report.anomalies.map { ($0.memory.content, $0.score) })")
        let all = try e.anomalies(AnomalyQuery(threshold: 0)).anomalies
        let imputed = Set(ids[5...8])
        #expect(all.filter { imputed.contains($0.memory.id) }.allSatisfy { $0.score < 0.6 }, "a missing value is the median, not an outlier")
    }

    @Test func memoryFieldsCanBeTheOnlyFeatures() throws {
        let e = try engine(["projection_dims": 0, "memory_fields": ["importance"]])
        var items = (0..<100).map { i in NewMemory("note \(i)", importance: 0.5 + Double(i % 5) / 100) }
        items.append(NewMemory("critical", importance: 1))
        let ids = try e.store(items, vectors: items.map { _ in [Float](repeating: 1, count: 256) }).map(\.id)
        #expect(try e.anomalies(AnomalyQuery(threshold: 0, limit: 1)).anomalies.first?.memory.id == ids.last)
    }

    @Test func fewerThanTwoMemoriesAnswerAnEmptyReport() throws {
        let e = try engine()
        let events = Mutex(0)
        let token = e.subscribe { _ in events.withLock { $0 += 1 } }
        defer { e.unsubscribe(token) }
        let empty = try e.anomalies(AnomalyQuery(threshold: 0))
        #expect(empty.anomalies.isEmpty && empty.scored == 0)
        try e.store(NewMemory("alone"))
        let one = try e.anomalies(AnomalyQuery(threshold: 0))
        #expect(one.anomalies.isEmpty && one.scored == 1)
        #expect(events.withLock { $0 } == 1, "only the store event")
    }

    @Test func scopeCategoryTiersFilterAndExpiryRestrictWhatIsScored() throws {
        let e = try engine()
        let team = try ScopePath("org/team")
        _ = try e.store((0..<4).map { NewMemory("team note \($0)", scope: team, category: "ops") })
        _ = try e.store((0..<3).map { NewMemory("root note \($0)", metadata: ["kind": "x"], tier: "archive") })
        try e.store(NewMemory("short lived", ttlSeconds: 60))
        #expect(try e.anomalies(AnomalyQuery(threshold: 0)).scored == 8)
        #expect(try e.anomalies(AnomalyQuery(threshold: 0, scope: team)).scored == 4)
        #expect(try e.anomalies(AnomalyQuery(threshold: 0, category: "ops")).scored == 4)
        #expect(try e.anomalies(AnomalyQuery(threshold: 0, tiers: ["archive"])).scored == 3)
        #expect(try e.anomalies(AnomalyQuery(threshold: 0, filter: .condition(path: ["metadata", "kind"], .eq("x")))).scored == 3)
        clock.advance(hours: 1)
        #expect(try e.anomalies(AnomalyQuery(threshold: 0)).scored == 7, "expired memories are not scored")
    }

    @Test func theSameSeedGivesTheSameScoresAndAnotherSeedOthers() throws {
        let (ordinary, far) = vectors(dimension: 256)
        let items = (0..<203).map { NewMemory("m \($0)") }
        let e = try engine(["seed": 7])
        _ = try e.store(items, vectors: ordinary + far)
        let a = try e.anomalies(AnomalyQuery(threshold: 0)).anomalies
        let b = try e.anomalies(AnomalyQuery(threshold: 0)).anomalies
        #expect(a.map(\.memory.id) == b.map(\.memory.id) && a.map(\.score) == b.map(\.score))
        let other = try Engine(configuration: EngineConfiguration(json: ["dedupe": ["enabled": false], "anomalies": ["seed": 8]]), clock: clock)
        _ = try other.store(items, vectors: ordinary + far)
        #expect(try other.anomalies(AnomalyQuery(threshold: 0)).anomalies.map(\.score) != a.map(\.score))
    }

    @Test func badRequestsAreInvalidArgument() throws {
        let e = try engine()
        #expect(throws: StrataError.self) { try e.anomalies(AnomalyQuery(threshold: 1.5)) }
        #expect { try e.anomalies(AnomalyQuery(limit: 0)) } throws: { ($0 as! StrataError).code == .invalidArgument }
    }

    @Test(arguments: [
        (["trees": 0] as JSONValue, "config.anomalies.trees"),
        (["sample_size": 1], "config.anomalies.sample_size"),
        (["projection_dims": -1], "config.anomalies.projection_dims"),
        (["threshold": 1.2], "config.anomalies.threshold"),
        (["seed": 1.5], "config.anomalies.seed"),
        (["numeric_fields": ["a..b"]], "config.anomalies.numeric_fields[0]"),
        (["numeric_fields": ["p", "p"]], "config.anomalies.numeric_fields[1]"),
        (["numeric_fields": "profit"], "config.anomalies.numeric_fields"),
        (["memory_fields": ["size"]], "config.anomalies.memory_fields[0]"),
        (["treez": 3], "config.anomalies.treez"),
        (["projection_dims": 0], "config.anomalies has no feature"),
        ("on", "config.anomalies"),
    ] as [(JSONValue, String)])
    func badConfigurationNamesTheKey(json: JSONValue, key: String) {
        #expect {
            _ = try EngineConfiguration(json: ["anomalies": json])
        } throws: { error in
            let e = error as! StrataError
            return e.code == .invalidConfig && e.message.contains(key)
        }
    }

    @Test func configurationIsWrittenOutAndReadBack() throws {
        var c = EngineConfiguration()
        #expect(c.json.objectValue?["anomalies"] == [
            "trees": 100, "sample_size": 256, "projection_dims": 16, "numeric_fields": [], "memory_fields": [],
            "threshold": 0.6, "seed": 42,
        ])
        c.anomalies.trees = 50
        c.anomalies.numericFields = ["profit", "latency.ms"]
        c.anomalies.memoryFields = [.age, .importance]
        c.anomalies.seed = 1 << 40
        #expect(try EngineConfiguration(json: c.json) == c)
    }
}
