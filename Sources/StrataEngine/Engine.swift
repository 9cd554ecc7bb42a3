import StrataBackends
import StrataCore
import Synchronization

/// The Strata engine: composes a vector store, an embedder and a summarizer, and offers the
/// memory verbs: store, recall, get, update, forget, history, stats, events.
///
/// Thread-safe: any number of threads may call any method at once. Writes are serialised by one
/// lock (the writer lock); recall never waits for it (see `SharedState`), and a lifecycle cycle
/// makes its plan, summarizer calls included, without it (see `metabolize`).
///
///     let engine = try Engine()                       // the embedded default
///     let id = try engine.store(NewMemory("Alice prefers tea")).id
///     let hits = try engine.recall(RecallQuery("what does Alice drink?"))
public final class Engine: Sendable {
    public let configuration: EngineConfiguration
    public let store: any VectorStore
    public let embedder: any Embedder
    public let summarizer: any Summarizer
    public let clock: any Clock
    /// The memory kernel run over stored embeddings and read at recall (`working_kernel`), or nil.
    public let workingKernel: (any MemoryKernel)?

    /// What only writers touch, under the writer lock (nothing yet: the lock itself orders the
    /// writes).
    struct WriterState {}

    /// What recall reads or records besides the store, under a lock of its own that is only ever
    /// held for a few operations: a lifecycle cycle holds the writer lock for as long as its
    /// summarizer takes (seconds, for a remote model), and recall must not wait for that.
    /// Lock order: `writer`, then `shared`, never the other way round.
    struct SharedState {
        /// The last id's millisecond and its sequence within it (`nextID`).
        var lastIDMillis: Int64 = 0
        var idSequence: UInt32 = 0
        /// History of every memory, when the store keeps none itself (`VectorStore.keepsHistory`);
        /// written only with the writer lock held too.
        var history: [String: [HistoryEntry]] = [:]
        var operations: [String: Int] = [:]
        /// Keyword index kept by the engine when the store has no keyword search.
        var keywords: KeywordIndex?
        /// The working-memory kernel's state (one batch row), when one is configured.
        var kernelState: [Float] = []
        /// Access counts recorded by recalls that found the writer lock taken (`recordAccess`).
        var pendingAccess = PendingAccess()
    }

    let writer: Mutex<WriterState>
    let shared: Mutex<SharedState>
    /// Held for the whole of a lifecycle cycle (before `writer`, which the cycle takes only to
    /// commit), so a second cycle plans from what the first committed instead of paying the
    /// summarizer for the same work and then planning again under the writer lock.
    let cycles = Mutex(())
    let hub = EventHub()
    private let schedule = LifecycleSchedule()
    /// The store's embedding space, checked at open and recorded on the first write (EmbeddingSpace.swift).
    let spaceLedger: EmbeddingSpaceLedger

    /// The embedding space the store holds: the one it records (normalisation included), else
    /// the configured embedder's, which it adopts on its first write.
    public var space: EmbeddingSpace { spaceLedger.space }

    /// Opens an engine.
    /// - Parameters:
    ///   - configuration: the typed configuration (default: the embedded default).
    ///   - backends: who makes the configured backends (default: the built-in ones only).
    ///   - clock: where "now" comes from (default: the system clock).
    public init(
        configuration: EngineConfiguration = .embeddedDefault, backends: any BackendProvider = BuiltinBackends(),
        clock: any Clock = SystemClock()
    ) throws(StrataError) {
        self.configuration = configuration
        self.clock = clock
        embedder = try backends.makeEmbedder(configuration.embedder, path: "config.embedder")
        let space = EmbeddingSpace(choice: configuration.embedder, embedder: embedder)
        let dimension = embedder.dimension
        func open(_ choice: BackendChoice, _ path: String) throws(StrataError) -> any VectorStore {
            do {
                return try backends.makeVectorStore(choice, dimension: dimension, path: path)
            } catch {
                throw space.explaining(error, of: choice, configured: configuration.embedder, backends: backends, path: path)
            }
        }
        let main = try open(configuration.store, "config.store")
        var tierStores: [String: any VectorStore] = [:]
        for (i, tier) in configuration.tiers.enumerated() {
            guard let choice = tier.store else { continue }
            tierStores[tier.name] = try open(choice, "config.tiers[\(i)].store")
        }
        store = tierStores.isEmpty ? main : try TieredVectorStore(main: main, tiers: tierStores)
        guard store.dimension == embedder.dimension else {
            throw StrataError(.invalidConfig,
                              "config.store \(store.name) has dimension \(store.dimension) but the embedder \(embedder.modelID) makes \(embedder.dimension)")
        }
        spaceLedger = try EmbeddingSpaceLedger(main: main, tiers: tierStores, current: space, choice: configuration.embedder)
        summarizer = try backends.makeSummarizer(configuration.summarizer, path: "config.summarizer")
        var state = SharedState()
        if let wk = configuration.workingKernel {
            let kernel = try Self.makeWorkingKernel(wk, dimension: embedder.dimension, backends: backends)
            state.kernelState = [Float](repeating: 0, count: kernel.stateSize)
            try state.kernelState.withUnsafeMutableBufferPointer { (b) throws(StrataError) in try kernel.initialState(batch: 1, into: b) }
            workingKernel = kernel
        } else {
            workingKernel = nil
        }
        if !store.providesKeywordSearch {
            var index = KeywordIndex()
            try store.scan(filter: nil) { (r: StoredRecord) throws(StrataError) -> Bool in
                index.add(id: r.memory.id, text: r.memory.content)
                return true
            }
            state.keywords = index
        }
        writer = Mutex(WriterState())
        shared = Mutex(state)
        if let minutes = configuration.lifecycle.scheduleMinutes { schedule.start(everySeconds: minutes * 60, engine: self) }
    }

    /// Writes the access counts recalls queued while a writer held the lock and no writer has
    /// applied yet (`recordAccess`), so closing an engine loses none.
    deinit { try? writer.withLock { (_: inout WriterState) throws(StrataError) in try applyPendingAccess() } }

    /// Floats per vector.
    public var dimension: Int { embedder.dimension }

    // MARK: - Store

    /// Stores one memory. See `store(_:vectors:)` for the batch form.
    @discardableResult
    public func store(_ item: NewMemory) throws(StrataError) -> StoreOutcome {
        try store([item])[0]
    }

    /// How far ahead of the clock a memory's `at` may be: clocks of machines differ, but a
    /// memory dated years ahead would never age out of its tier or lose recency.
    public static let maximumFutureSkewSeconds = 86_400.0

    /// The rules a memory must meet to be stored, beyond what its fields' types say: content
    /// without NUL (`TextRules`), `at` no more than `maximumFutureSkewSeconds` ahead of `now`,
    /// importance in 0...1, a positive TTL. `store` applies them to every item before anything
    /// is embedded; a caller that validates memories before storing them (`strata import
    /// --check`) applies the same ones, so a check never passes what a store refuses.
    /// - Parameters:
    ///   - what: names the item in the message ("item 3", "line 12").
    ///   - atName: the name of the `at` field where the caller's input calls it otherwise ("created_at").
    public static func check(_ item: NewMemory, what: String, atName: String = "at", now: Timestamp) throws(StrataError) {
        try TextRules.rejectNUL(item.content, what: "\(what): content")
        if let id = item.id { try checkCallerID(id, what: what) }
        if let at = item.at, now.adding(seconds: maximumFutureSkewSeconds) < at {
            throw StrataError(.invalidArgument, "\(what): \(atName) \(at.iso8601) is more than a day ahead of the engine's clock; a memory cannot have happened in the future (it would never age out)")
        }
        if let imp = item.importance, !(0...1).contains(imp) {
            throw StrataError(.invalidArgument, "\(what): importance must be in 0...1, got \(imp)")
        }
        if let ttl = item.ttlSeconds, !(ttl > 0) {
            throw StrataError(.invalidArgument, "\(what): ttl_seconds must be positive, got \(ttl)")
        }
    }

    /// Throws `.invalidArgument` naming the first of `names` that is not a configured tier, when
    /// tiers are configured: a memory stored in, or a recall limited to, a tier no rule knows
    /// would silently never move or never be found.
    func requireConfiguredTiers(_ names: [String], what: String) throws(StrataError) {
        let known = configuration.tiers.map(\.name)
        guard !known.isEmpty else { return }
        for name in names where !known.contains(name) {
            throw StrataError(.invalidArgument, "\(what) \"\(name)\" is not a configured tier (\(known.joined(separator: ", ")))")
        }
    }

    /// The longest id a caller may choose, in UTF-8 bytes.
    public static let maximumIDBytes = 256

    /// Throws `.invalidArgument` naming `what` unless `id` is 1 to `maximumIDBytes` UTF-8 bytes
    /// without control characters and outside the `strata:` prefix the engine keeps for its own
    /// ledgers (`strata:space`, `strata:lifecycle`).
    static func checkCallerID(_ id: String, what: String) throws(StrataError) {
        guard !id.isEmpty, id.utf8.count <= maximumIDBytes else {
            throw StrataError(.invalidArgument, "\(what): id must be 1 to \(maximumIDBytes) bytes of UTF-8, got \(id.utf8.count)")
        }
        if id.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw StrataError(.invalidArgument, "\(what): id \"\(id.debugDescription.dropFirst().dropLast())\" holds a control character")
        }
        if id.hasPrefix("strata:") {
            throw StrataError(.invalidArgument, "\(what): id \"\(id)\" starts with \"strata:\", which the engine keeps for its own records")
        }
    }

    /// Stores a batch atomically: either every item is stored or none is.
    ///
    /// Each item is embedded (unless `vectors` gives its vector), then compared with the nearest
    /// memory in the same scope: at or above the dedupe threshold the existing memory is updated
    /// (content replaced, metadata merged, importance raised) instead of adding a copy.
    ///
    /// An item with an `id` of the caller's is never de-duplicated: a new id adds the memory
    /// under it; the id of a memory that exists replaces that memory (an upsert: content,
    /// metadata, scope and vector from the item, the fields it leaves nil kept, creation time,
    /// access count and history kept, one UPDATE history row and a `memory.updated` event).
    /// - Parameters:
    ///   - vectors: caller-computed embeddings, one per item, or nil to embed the content.
    ///   - dedupe: whether items are compared with near neighbours at all; nil: the
    ///     configuration's `dedupe.enabled`. False suits a bulk import of texts known to differ.
    /// - Complexity: one embedding call; with de-duplication, one nearest-neighbour search per
    ///   item and a comparison with the earlier items of the batch that share enough of its
    ///   words to pass `dedupe.min_word_overlap` (`BatchWordIndex`).
    public func store(_ items: [NewMemory], vectors: [[Float]]? = nil, dedupe: Bool? = nil) throws(StrataError) -> [StoreOutcome] {
        guard !items.isEmpty else { return [] }
        let dedupes = dedupe ?? configuration.dedupe.enabled
        let defaults = configuration.defaults
        let checkedAt = clock.now()
        for (i, item) in items.enumerated() {
            try Self.check(item, what: "item \(i)", now: checkedAt)
            if let tier = item.tier { try requireConfiguredTiers([tier], what: "item \(i): tier") }
        }
        let embeddings: [[Float]]
        if let vectors {
            guard vectors.count == items.count else {
                throw StrataError(.invalidArgument, "\(items.count) items but \(vectors.count) vectors")
            }
            for (i, v) in vectors.enumerated() { try Vectors.validate(v, dimension: dimension, what: "vector \(i)") }
            embeddings = vectors
        } else {
            embeddings = try embed(items.map(\.content))
        }
        let now = clock.now()
        let model = vectors == nil ? embedder.modelID : "caller"
        let units = dedupes ? embeddings.map(Vectors.normalized) : []

        let (outcomes, events) = try write { (_: inout WriterState) throws(StrataError) -> ([StoreOutcome], [MemoryEvent]) in
            var records: [StoredRecord] = []
            var recordUnits: [[Float]] = []  // unit vectors of `records`, for de-duplication within the batch
            var indexOfID: [String: Int] = [:]
            var wordIndex = dedupes ? BatchWordIndex(texts: items.map(\.content), minOverlap: configuration.dedupe.minWordOverlap) : nil
            var outcomes: [StoreOutcome] = []
            var history: [HistoryEntry] = []
            var events: [MemoryEvent] = []
            for (i, item) in items.enumerated() {
                let at = item.at ?? now
                let words = dedupes ? Set(Tokenizer.words(item.content)) : []
                var replacing: StoredRecord?
                if let id = item.id { replacing = if let j = indexOfID[id] { records[j] } else { try store.get(id: id) } }
                if let id = item.id, var replaced = replacing {
                    // The caller named a memory that exists: the item replaces it (an upsert).
                    let old = replaced.memory
                    replaced.memory.content = item.content
                    replaced.memory.metadata = item.metadata
                    replaced.memory.scope = item.scope
                    replaced.memory.visibility = item.visibility ?? old.visibility
                    replaced.memory.tier = item.tier ?? old.tier
                    replaced.memory.category = item.category ?? old.category
                    replaced.memory.importance = item.importance ?? old.importance
                    replaced.memory.pinned = item.pinned
                    replaced.memory.model = model
                    replaced.memory.updatedAt = max(old.updatedAt, at)
                    if let ttl = item.ttlSeconds { replaced.memory.expiresAt = at.adding(seconds: ttl) }
                    replaced.vector = embeddings[i]
                    if let j = indexOfID[id] {
                        records[j] = replaced
                        if dedupes { recordUnits[j] = units[i] }
                    } else {
                        indexOfID[id] = records.count
                        records.append(replaced)
                        if dedupes { recordUnits.append(units[i]) }
                    }
                    wordIndex?.add(indexOfID[id]!, words: words)
                    outcomes.append(StoreOutcome(id: id, deduplicated: false))
                    history.append(HistoryEntry(event: .update, memoryID: id, at: now, old: old, new: replaced.memory,
                                                reason: "stored again with its id: replaced"))
                    events.append(MemoryEvent(kind: .updated, memoryID: id, at: now, memory: replaced.memory))
                    continue
                }
                if item.id == nil, let index = wordIndex,
                    var existing = try nearDuplicate(of: embeddings[i], unit: units[i], words: words, scope: item.scope, model: model,
                                                     pending: records, pendingUnits: recordUnits, pendingIndex: indexOfID,
                                                     candidates: index.candidates(for: words))
                {
                    let old = existing.memory
                    existing.memory.content = item.content
                    existing.memory.metadata.merge(item.metadata) { _, new in new }
                    existing.memory.importance = max(old.importance, item.importance ?? startingImportance(item))
                    existing.memory.pinned = old.pinned || item.pinned
                    existing.memory.updatedAt = max(old.updatedAt, at)
                    existing.vector = embeddings[i]
                    if let j = indexOfID[old.id] {
                        records[j] = existing
                        recordUnits[j] = units[i]
                    } else {
                        indexOfID[old.id] = records.count
                        records.append(existing)
                        recordUnits.append(units[i])
                    }
                    wordIndex?.add(indexOfID[old.id]!, words: words)
                    outcomes.append(StoreOutcome(id: old.id, deduplicated: true))
                    history.append(HistoryEntry(event: .update, memoryID: old.id, at: now, old: old, new: existing.memory,
                                                reason: "deduplicated: a near-identical memory was stored in scope \"\(item.scope)\""))
                    events.append(MemoryEvent(kind: .deduplicated, memoryID: old.id, at: now, memory: existing.memory))
                    continue
                }
                let memory = Memory(
                    id: item.id ?? nextID(now: now), content: item.content, metadata: item.metadata, scope: item.scope,
                    visibility: item.visibility ?? defaults.visibility, tier: item.tier ?? defaults.tier,
                    category: item.category ?? defaults.category, importance: item.importance ?? startingImportance(item),
                    pinned: item.pinned, createdAt: at, model: model,
                    expiresAt: item.ttlSeconds.map { at.adding(seconds: $0) })
                indexOfID[memory.id] = records.count
                wordIndex?.add(records.count, words: words)
                records.append(StoredRecord(memory: memory, vector: embeddings[i]))
                if dedupes { recordUnits.append(units[i]) }
                outcomes.append(StoreOutcome(id: memory.id, deduplicated: false))
                history.append(HistoryEntry(event: .add, memoryID: memory.id, at: now, old: nil, new: memory, reason: "stored"))
                events.append(MemoryEvent(kind: .stored, memoryID: memory.id, at: now, memory: memory))
            }
            try commit(StoreChange(upserts: records, history: history))
            try shared.withLock { (s: inout SharedState) throws(StrataError) in
                for r in records { s.keywords?.add(id: r.memory.id, text: r.memory.content) }
                try feedWorkingKernel(embeddings, &s)
                s.operations["store", default: 0] += items.count
            }
            return (outcomes, events)
        }
        hub.publish(events)
        return outcomes
    }

    /// The importance a memory without one of its own starts with: its category's, else the default.
    private func startingImportance(_ item: NewMemory) -> Double {
        let category = item.category ?? configuration.defaults.category
        return configuration.categories.first { $0.name == category }?.importance ?? configuration.defaults.importance
    }

    /// The nearest memory in the same scope and model at or above the dedupe threshold, looking
    /// first at the records of the batch being stored.
    /// - Parameters:
    ///   - words: the item's words (`Tokenizer.words`).
    ///   - pendingIndex: the index in `pending` of each id.
    ///   - candidates: the indexes in `pending` that may pass the word rule (`BatchWordIndex`),
    ///     ascending; nil: all.
    private func nearDuplicate(
        of vector: [Float], unit: [Float], words: Set<String>, scope: ScopePath, model: String, pending: [StoredRecord],
        pendingUnits: [[Float]], pendingIndex: [String: Int], candidates: [Int]?
    ) throws(StrataError) -> StoredRecord? {
        let threshold = Float(configuration.dedupe.threshold)
        func sameWords(_ other: String) -> Bool {
            let o = Set(Tokenizer.words(other))
            let union = words.union(o).count
            return union == 0 || Double(words.intersection(o).count) / Double(union) >= configuration.dedupe.minWordOverlap
        }
        var best: (StoredRecord, Float)?
        // Unit vectors computed once per batch: one dot product per pair, not three. In index
        // order, so that of equal similarities the earliest record wins, whatever the candidates.
        for j in candidates ?? Array(pending.indices) {
            let r = pending[j]
            guard r.memory.scope == scope, r.memory.model == model else { continue }
            let c = Vectors.dot(unit, pendingUnits[j])
            if c >= threshold, c > best?.1 ?? -.infinity, sameWords(r.memory.content) { best = (r, c) }
        }
        let filter = Filter.and([
            .condition(path: ["scope"], .eq(.string(scope.description))),
            .condition(path: ["model"], .eq(.string(model))),
        ])
        // A few neighbours, not one: the nearest may fail the word check while the next passes.
        for hit in try store.search(vector, k: 4, filter: filter) {
            let c = Vectors.cosine(vector, hit.record.vector)
            if c >= threshold, c > best?.1 ?? -.infinity, sameWords(hit.record.memory.content),
                pendingIndex[hit.record.memory.id] == nil
            {
                best = (hit.record, c)
            }
        }
        return best?.0
    }

    func nextID(now: Timestamp) -> String {
        // Time-ordered ids: 12 hex digits of milliseconds, a sequence within the millisecond, random bits.
        let (ms, sequence) = shared.withLock { s -> (Int64, UInt32) in
            let ms = max(now.milliseconds, s.lastIDMillis)
            if ms == s.lastIDMillis { s.idSequence &+= 1 } else { s.idSequence = 0 }
            s.lastIDMillis = ms
            return (ms, s.idSequence)
        }
        var rng = SystemRandomNumberGenerator()
        let random = UInt32.random(in: 0...UInt32.max, using: &rng)
        return "m-" + hex(UInt64(ms), 12) + hex(UInt64(sequence & 0xFFFF), 4) + hex(UInt64(random), 8)
    }

    private func hex(_ v: UInt64, _ width: Int) -> String {
        let s = String(v, radix: 16)
        return s.count >= width ? String(s.suffix(width)) : String(repeating: "0", count: width - s.count) + s
    }

    /// Embeds texts with the engine's embedder, as `store` embeds content and `recall` a query,
    /// and stores nothing: one embedder call for the whole batch, row i for text i, each row
    /// `dimension` finite floats (what `store(_:vectors:)` and a vector recall take).
    ///
    ///     let rows = try engine.embed(["Alice prefers a window seat", "Where does Alice sit?"])
    ///
    /// - Throws: `.invalidArgument` naming the first text holding a NUL character; `.backend`
    ///   when the embedder fails or answers the wrong count, dimension or a non-finite float.
    /// - Complexity: one embedder call, which holds the embedder for the whole batch (a store or
    ///   recall on another thread waits for it); an empty batch calls nothing. The C ABI takes at
    ///   most `STRATA_EMBED_MAX_TEXTS` texts a call for that reason; Swift callers size their own.
    public func embed(_ texts: [String]) throws(StrataError) -> [[Float]] {
        for (i, text) in texts.enumerated() { try TextRules.rejectNUL(text, what: "text \(i)") }
        guard !texts.isEmpty else { return [] }
        let vectors = try embedder.embed(texts)
        guard vectors.count == texts.count else {
            throw StrataError(.backend, "embedder \(embedder.modelID) returned \(vectors.count) vectors for \(texts.count) texts")
        }
        for (i, v) in vectors.enumerated() {
            do { try Vectors.validate(v, dimension: dimension, what: "embedding of text \(i)") } catch {
                throw StrataError(.backend, "embedder \(embedder.modelID): \(error.message)")
            }
        }
        return vectors
    }

    // MARK: - Recall

    /// The filter that restricts a recall to what `scope` may see, the tiers, the category and
    /// unexpired memories (when `now` is given), joined with the caller's metadata filter.
    func visibilityFilter(_ q: RecallQuery, now: Timestamp?) -> Filter {
        var parts: [Filter] = []
        if let filter = q.filter { parts.append(filter) }
        if let node = q.scope { parts.append(node.visibleFilter) }
        if let tiers = q.tiers {
            // Tiers whose rule is `recall: always` (the working tier) are searched whatever the
            // request names.
            let always = configuration.tiers.filter { $0.recall == .always }.map(\.name)
            let searched = tiers + always.filter { !tiers.contains($0) }
            parts.append(.condition(path: ["tier"], .in(searched.map { .string($0) })))
        } else {
            // Tiers whose rule is `recall: named` are searched only when a request names them.
            let named = configuration.tiers.filter { $0.recall == .named }.map { JSONValue.string($0.name) }
            if !named.isEmpty { parts.append(.condition(path: ["tier"], .nin(named))) }
        }
        if let category = q.category { parts.append(.condition(path: ["category"], .eq(.string(category)))) }
        if let now {
            parts.append(.any([.condition(path: ["expires_at"], .exists(false)),
                               .condition(path: ["expires_at"], .gt(.string(now.iso8601)))]))
        }
        return Filter.and(parts)
    }

    /// Hybrid recall: vector and keyword candidates fused as `recall.fusion` says for this
    /// embedder, then weighted by recency, importance and access. Each hit reports every part.
    public func recall(_ q: RecallQuery) throws(StrataError) -> [Hit] {
        let settings = configuration.recall
        let k = q.k ?? settings.k
        guard k >= 1, k <= 10_000 else { throw StrataError(.invalidArgument, "k must be in 1...10000, got \(k)") }
        if let tiers = q.tiers { try requireConfiguredTiers(tiers, what: "recall tiers:") }
        let now = clock.now()
        let filter = visibilityFilter(q, now: now)
        let candidates = max(settings.candidates, k)
        let queryVector: [Float]?
        if let v = q.vector {
            try Vectors.validate(v, dimension: dimension, what: "query vector")
            queryVector = v
        } else if !q.text.isEmpty {
            queryVector = try embed([q.text])[0]
        } else {
            queryVector = nil
        }
        var vectorHits: [ScoredRecord]?
        var keywordHits: [ScoredRecord]?
        if let queryVector { vectorHits = try store.search(queryVector, k: candidates, filter: filter) }
        if !q.text.isEmpty { keywordHits = try keywordCandidates(q.text, k: candidates, filter: filter) }
        var vectorScore: [String: Double] = [:]
        var keywordScore: [String: Double] = [:]
        // No query at all: every memory in view is a candidate, ranked by recency, importance
        // and access alone (its relevance parts are nil and fused 0).
        var records: [String: StoredRecord] = queryVector == nil && q.text.isEmpty ? try inView(filter) : [:]
        for h in vectorHits ?? [] {
            vectorScore[h.record.memory.id] = Double(h.score)
            records[h.record.memory.id] = h.record
        }
        for h in keywordHits ?? [] {
            keywordScore[h.record.memory.id] = Double(h.score)
            records[h.record.memory.id] = h.record
        }
        let fused = Ranking.fuse(
            vector: vectorHits?.map { (id: $0.record.memory.id, score: Double($0.score)) },
            keyword: keywordHits?.map { (id: $0.record.memory.id, score: Double($0.score)) },
            by: settings.fusion(forEmbedder: configuration.embedder.backend))
        let halfLife = settings.recencyHalfLifeHours * 3600
        let kernelRead = try queryVector.map { (v: [Float]) throws(StrataError) -> [Float]? in try readWorkingKernel(v) } ?? nil
        let kernelWeight = configuration.workingKernel?.weight ?? 0
        var hits: [Hit] = records.values.map { r in
            let m = r.memory
            let parts = ScoreParts(
                vector: vectorScore[m.id], keyword: keywordScore[m.id], fused: fused[m.id] ?? 0,
                recency: Ranking.recency(ageSeconds: now.seconds(since: m.accessedAt), halfLifeSeconds: halfLife),
                importance: m.importance, access: Ranking.access(count: m.accessCount),
                kernel: kernelRead.map { Double(Vectors.cosine($0, r.vector)) })
            let total = Ranking.total(parts, weights: settings.weights) + kernelWeight * (parts.kernel ?? 0)
            return Hit(memory: m, score: total, scores: parts)
        }
        hits.sort { $0.score > $1.score || ($0.score == $1.score && $0.memory.id < $1.memory.id) }
        if hits.count > k { hits.removeLast(hits.count - k) }
        if q.trackAccess ?? settings.trackAccess, !hits.isEmpty { try recordAccess(hits.map(\.memory.id), now: now) }
        shared.withLock { $0.operations["recall", default: 0] += 1 }
        return hits
    }

    private func keywordCandidates(_ text: String, k: Int, filter: Filter) throws(StrataError) -> [ScoredRecord] {
        if store.providesKeywordSearch { return try store.keywordSearch(text, k: k, filter: filter) }
        // The engine's own index cannot see the store's records, so the filter is checked after:
        // ask for the top k, and four times as many each time the filter leaves fewer than k, so
        // the cost follows what the filter refuses rather than every match.
        guard k > 0 else { return [] }
        var wanted = k
        var checked = Set<String>()
        var out: [ScoredRecord] = []
        while true {
            let ranked = shared.withLock { $0.keywords?.search(text, k: wanted) ?? [] }
            for (id, score) in ranked where checked.insert(id).inserted {
                guard let r = try store.get(id: id), filter.matches(r.memory) else { continue }
                out.append(ScoredRecord(record: r, score: Float(score)))
                if out.count == k { return out }
            }
            guard ranked.count == wanted, wanted < Int.max else { return out }
            wanted = wanted > Int.max / 4 ? Int.max : wanted * 4
        }
    }


    // MARK: - Get, update, forget

    /// One memory by id. Throws `.notFound` naming the id.
    public func get(id: String) throws(StrataError) -> Memory {
        guard let r = try store.get(id: id) else { throw StrataError(.notFound, "no memory with id \"\(id)\"") }
        return r.memory
    }

    /// Changes one memory; a new content is re-embedded. Returns the memory as stored.
    @discardableResult
    public func update(_ change: MemoryUpdate) throws(StrataError) -> Memory {
        if let imp = change.importance, !(0...1).contains(imp) {
            throw StrataError(.invalidArgument, "importance must be in 0...1, got \(imp)")
        }
        if let content = change.content {
            guard !content.isEmpty else { throw StrataError(.invalidArgument, "content must be non-empty text: an empty memory would be embedded as nothing") }
            try TextRules.rejectNUL(content, what: "content")
        }
        let newVector = try change.content.map { (c: String) throws(StrataError) -> [Float] in try embed([c])[0] }
        let now = clock.now()
        let updated = try write { (_: inout WriterState) throws(StrataError) -> Memory in
            guard var r = try store.get(id: change.id) else {
                throw StrataError(.notFound, "no memory with id \"\(change.id)\"")
            }
            let old = r.memory
            if let c = change.content {
                r.memory.content = c
                r.vector = newVector!
                r.memory.model = embedder.modelID
            }
            if let m = change.metadata { r.memory.metadata = m }
            if let c = change.category { r.memory.category = c }
            if let i = change.importance { r.memory.importance = i }
            if let p = change.pinned { r.memory.pinned = p }
            if let v = change.visibility { r.memory.visibility = v }
            r.memory.updatedAt = max(now, old.updatedAt)
            try commit(StoreChange(upserts: [r], history: [
                HistoryEntry(event: .update, memoryID: r.memory.id, at: now, old: old, new: r.memory, reason: "updated"),
            ]))
            shared.withLock { s in
                if change.content != nil { s.keywords?.add(id: r.memory.id, text: r.memory.content) }
                s.operations["update", default: 0] += 1
            }
            return r.memory
        }
        hub.publish([MemoryEvent(kind: .updated, memoryID: updated.id, at: now, memory: updated)])
        return updated
    }

    /// Forgets one memory by id; `.notFound` if there is none. Its history stays.
    public func forget(id: String) throws(StrataError) {
        let removed = try forget(ids: { () throws(StrataError) -> [Memory] in
            guard let r = try store.get(id: id) else { throw StrataError(.notFound, "no memory with id \"\(id)\"") }
            return [r.memory]
        })
        precondition(removed.count == 1)
    }

    /// Forgets every memory matching a metadata filter; with `scope`, only the memories that
    /// node owns (stored at it), never those it can merely see (another node's GLOBAL or
    /// SHARED memories). Expired memories are forgotten too.
    /// Returns the ids forgotten; a filter matching nothing returns an empty list.
    /// - Parameter all: must be true when `filter` has no condition at all (`{}`,
    ///   `{"$or": [{}]}`): forgetting everything in view is never done by accident.
    /// - Throws: `.invalidArgument` for a filter without a condition and `all` false.
    @discardableResult
    public func forget(filter: Filter, scope: ScopePath? = nil, all: Bool = false) throws(StrataError) -> [String] {
        if filter.isAlways, !all {
            throw StrataError(.invalidArgument, "the filter has no condition, so it would forget every memory\(scope.map { " of scope \"\($0)\"" } ?? " in the store"); say all to do that")
        }
        return try forget(ids: { () throws(StrataError) -> [Memory] in
            let full = Filter.and([filter, scope?.ownedFilter ?? .always])
            var found: [Memory] = []
            try store.scan(filter: full) { (r: StoredRecord) throws(StrataError) -> Bool in
                found.append(r.memory)
                return true
            }
            return found
        }).map(\.id)
    }

    private func forget(ids select: () throws(StrataError) -> [Memory]) throws(StrataError) -> [Memory] {
        let now = clock.now()
        let forgotten = try write { (_: inout WriterState) throws(StrataError) -> [Memory] in
            let memories = try select()
            guard !memories.isEmpty else { return [] }
            try commit(StoreChange(removals: memories.map(\.id), history: memories.map { m in
                HistoryEntry(event: .delete, memoryID: m.id, at: now, old: m, new: nil, reason: "forgotten")
            }))
            shared.withLock { s in
                for m in memories { s.keywords?.remove(id: m.id) }
                s.operations["forget", default: 0] += memories.count
            }
            return memories
        }
        hub.publish(forgotten.map { MemoryEvent(kind: .forgotten, memoryID: $0.id, at: now, memory: $0) })
        return forgotten
    }

    // MARK: - History, stats, events

    /// Every change to a memory, oldest first; `.notFound` for an id never seen.
    public func history(id: String) throws(StrataError) -> [HistoryEntry] {
        let entries = store.keepsHistory ? try store.history(id: id) : history(of: id)
        guard !entries.isEmpty else { throw StrataError(.notFound, "no history for id \"\(id)\"") }
        return entries
    }

    /// The newest `limit` rows of `history(id:)` (all when there are fewer), oldest first, and
    /// how many rows there are (0 for an id never seen: no error), reading only those rows where
    /// the store can (`VectorStore.historyTail`): the lifecycle ledger grows by a row a cycle.
    public func historyTail(id: String, limit: Int) throws(StrataError) -> (rows: [HistoryEntry], total: Int) {
        if store.keepsHistory { return try store.historyTail(id: id, limit: limit) }
        let rows = history(of: id)
        return (Array(rows.suffix(max(0, limit))), rows.count)
    }

    /// Writes one change through the store; history stays in memory when the store keeps none.
    /// The first change with vectors also records the stores' embedding space, in the same
    /// change (and, for tiers' own stores, in one just before: `EmbeddingSpaceLedger`). Called
    /// with the writer lock held.
    func commit(_ change: StoreChange) throws(StrataError) {
        var change = change
        let recording = spaceLedger.recording(for: change, at: clock.now())
        if let recording {
            if !recording.tiers.isEmpty {
                for tierStore in recording.tiers { try tierStore.commit(StoreChange(history: [recording.row])) }
                spaceLedger.tiersCommitted(recording)
            }
            if recording.main { change.history.append(recording.row) }
        }
        try store.commit(change)
        if let recording { spaceLedger.committed(recording) }
        if !store.keepsHistory { record(change.history) }
    }

    /// Appends history rows the engine keeps itself (writer lock held).
    func record(_ rows: [HistoryEntry]) {
        shared.withLock { s in for h in rows { s.history[h.memoryID, default: []].append(h) } }
    }

    /// The rows the engine keeps itself for `id` (stores without history).
    func history(of id: String) -> [HistoryEntry] { shared.withLock { $0.history[id] } ?? [] }

    public func stats() throws(StrataError) -> EngineStats {
        var byTier: [String: Int] = [:], byCategory: [String: Int] = [:], byScope: [String: Int] = [:]
        var total = 0, expired = 0, patterns = 0
        var access = AccessStatistics()
        let patternCategory = configuration.lifecycle.patterns?.category ?? "patterns"
        let now = clock.now()
        try store.scan(filter: nil) { (r: StoredRecord) throws(StrataError) -> Bool in
            // Expired memories are no longer recalled; they are counted apart until forgotten.
            if let end = r.memory.expiresAt, end <= now {
                expired += 1
                return true
            }
            total += 1
            access.add(r.memory, now: now)
            if r.memory.category == patternCategory { patterns += 1 }
            byTier[r.memory.tier, default: 0] += 1
            byCategory[r.memory.category, default: 0] += 1
            byScope[r.memory.scope.description, default: 0] += 1
            return true
        }
        let operations = shared.withLock { $0.operations }
        return EngineStats(
            memories: total, expired: expired, byTier: byTier, byCategory: byCategory, byScope: byScope, dimension: dimension,
            store: store.name, embedder: embedder.modelID, summarizer: summarizer.name, operations: operations, access: access,
            patterns: patterns, lifecycle: try lifecycleTotals(), space: space, index: try store.indexReport())
    }

    /// Calls `handler` for every event from now on; returns a token for `unsubscribe`.
    public func subscribe(_ handler: @escaping @Sendable (MemoryEvent) -> Void) -> UInt64 { hub.subscribe(handler) }

    /// Stops a subscription; after it returns the handler is not running and is never called again.
    @discardableResult
    public func unsubscribe(_ token: UInt64) -> Bool { hub.unsubscribe(token) }

    /// Every event from now on, as an async sequence.
    public func events() -> AsyncStream<MemoryEvent> { hub.stream() }

    /// Summarizes the given memories with the configured summarizer.
    public func summarize(ids: [String], maxCharacters: Int = 0) throws(StrataError) -> String {
        var texts: [String] = []
        for id in ids { texts.append(try get(id: id).content) }
        return try summarizer.summarize(texts, maxCharacters: maxCharacters)
    }
}
