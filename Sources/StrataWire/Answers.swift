import StrataCore
import StrataEngine

/// The engine's typed answers as JSON values, one shape per answer for every face (the C ABI,
/// the CLI's `--json`, the server). `Wire.text` writes them as the bytes those faces send.
///
/// Keys are snake_case; a value the engine does not know is `null` rather than left out, so a
/// client sees every key of a shape on every answer (the one exception: a hit's `scores.kernel`
/// and an event's `score` appear only where a working kernel or an anomaly scan produced them).
public enum Answer {
    /// `{"id", "deduplicated": [...]}` for one memory, `{"ids": [...], "deduplicated": [...]}` for
    /// a batch: the ids of the memories that merged into a near-identical one are listed again.
    public static func store(_ outcomes: [StoreOutcome], batch: Bool) -> JSONValue {
        var answer: [String: JSONValue] = batch
            ? ["ids": .array(outcomes.map { .string($0.id) })] : ["id": .string(outcomes[0].id)]
        answer["deduplicated"] = .array(outcomes.filter(\.deduplicated).map { .string($0.id) })
        return .object(answer)
    }

    /// `{"hits": [...]}`, best first (`RecallAnswerWriter` writes the same bytes directly).
    public static func recall(_ hits: [Hit]) -> JSONValue {
        .object(["hits": .array(hits.map(hit))])
    }

    /// One hit: `{"id", "content", "metadata", "scope", "tier", "category", "score", "scores"}`.
    public static func hit(_ hit: Hit) -> JSONValue {
        let m = hit.memory
        return .object([
            "id": .string(m.id), "content": .string(m.content), "metadata": .object(m.metadata),
            "scope": .string(m.scope.description), "tier": .string(m.tier),
            "category": .string(m.category), "score": .number(hit.score), "scores": hit.scores.json,
        ])
    }

    /// `{"memories": [memory, ...], "total": N}`: a page of a listing and how many match in all.
    public static func list(_ l: MemoryList) -> JSONValue {
        .object(["memories": .array(l.memories.map(memory)), "total": .number(Double(l.total))])
    }

    /// `{"total": N}`: how many memories a listing with the same selection holds.
    public static func count(_ total: Int) -> JSONValue {
        .object(["total": .number(Double(total))])
    }

    /// `{"vectors": [[...], ...], "dimension", "model"}`: row i for text i, each float written
    /// as its exact double, so a client reading the numbers back as float32 gets the engine's
    /// values (`JSONWriter` writes -0 as 0, which compares equal); `dimension` gives the shape of
    /// an empty batch too, `model` the embedding space.
    public static func embeddings(_ vectors: [[Float]], dimension: Int, model: String) -> JSONValue {
        .object([
            "vectors": .array(vectors.map { row in .array(row.map { .number(Double($0)) }) }),
            "dimension": .number(Double(dimension)), "model": .string(model),
        ])
    }

    /// One memory record, every public field (`get`, `update`, export lines, history values).
    public static func memory(_ m: Memory) -> JSONValue { m.publicJSON }

    /// `{"history": [{"event", "memory_id", "at", "reason", "old", "new"}]}`, oldest first.
    public static func history(_ entries: [HistoryEntry]) -> JSONValue {
        .object(["history": .array(entries.map(\.json))])
    }

    /// `{"forgotten": [ids]}`.
    public static func forgotten(_ ids: [String]) -> JSONValue {
        .object(["forgotten": .array(ids.map { .string($0) })])
    }

    /// The stats object: `{"memories", "expired", "by_tier", "by_category", "by_scope",
    /// "dimension", "store", "embedder", "summarizer", "operations", "access", "patterns",
    /// "lifecycle", "space", "index"}`. "index" is `IndexReport.json`, or null when the store
    /// does not report its index (always present, so a client tells "no report" from an old
    /// server by the key alone).
    public static func stats(_ s: EngineStats) -> JSONValue {
        func counts(_ d: [String: Int]) -> JSONValue { .object(d.mapValues { .number(Double($0)) }) }
        let a = s.access
        let access: JSONValue = .object([
            "never": .number(Double(a.never)), "last_day": .number(Double(a.lastDay)), "last_week": .number(Double(a.lastWeek)),
            "mean_count": .number(a.meanCount), "max_count": .number(Double(a.max)),
        ])
        return .object([
            "memories": .number(Double(s.memories)), "expired": .number(Double(s.expired)), "by_tier": counts(s.byTier),
            "by_category": counts(s.byCategory), "by_scope": counts(s.byScope), "dimension": .number(Double(s.dimension)),
            "store": .string(s.store), "embedder": .string(s.embedder), "summarizer": .string(s.summarizer),
            "operations": counts(s.operations), "access": access, "patterns": .number(Double(s.patterns)),
            "lifecycle": s.lifecycle.json, "space": s.space.json, "index": s.index?.json ?? .null,
        ])
    }

    /// A `metabolize` cycle's report, with `"moves": [{"id", "action", "from", "to", "reason"}]`
    /// unless `moves` is false.
    public static func metabolize(_ r: MetabolizeReport, moves: Bool = true) -> JSONValue {
        func n(_ x: Int) -> JSONValue { .number(Double(x)) }
        var o: [String: JSONValue] = [
            "at": .string(r.at.iso8601), "dry_run": .bool(r.dryRun), "before": n(r.before), "after": n(r.after),
            "migrated": .object(r.migrated.mapValues(n)), "pruned": r.pruned.json,
            "consolidated": n(r.consolidated), "consolidated_sources": n(r.consolidatedSources),
            "patterns": n(r.patterns), "compressed": n(r.compressed),
            "bytes_before_compression": n(r.bytesBeforeCompression), "bytes_after_compression": n(r.bytesAfterCompression),
            "pinned_kept": n(r.pinnedKept), "duration_ms": .number(r.durationMilliseconds),
            "errors": .array(r.errors.map { .string($0) }),
        ]
        if moves {
            o["moves"] = .array(r.moves.map { m in
                .object(["id": .string(m.id), "action": .string(m.action.rawValue), "from": .string(m.from),
                         "to": m.to.map { .string($0) } ?? .null, "reason": .string(m.reason)])
            })
        }
        return .object(o)
    }

    /// `{"anomalies": [{"id", "content", "metadata", "scope", "tier", "category", "score"}], "scored", "threshold"}`.
    public static func anomalies(_ r: AnomalyReport) -> JSONValue {
        let list: [JSONValue] = r.anomalies.map { a in
            let m = a.memory
            return .object([
                "id": .string(m.id), "content": .string(m.content), "metadata": .object(m.metadata),
                "scope": .string(m.scope.description), "tier": .string(m.tier),
                "category": .string(m.category), "score": .number(a.score),
            ])
        }
        return .object(["anomalies": .array(list), "scored": .number(Double(r.scored)), "threshold": .number(r.threshold)])
    }

    /// `{"snapshots": [{"name", "created_at", "memories", "bytes"}, ...]}`, oldest first.
    public static func snapshots(_ list: [SnapshotInfo]) -> JSONValue {
        .object(["snapshots": .array(list.map(\.json))])
    }

    /// `{"from", "to", "memories", "embedded", "kept", "removed", "batches"}`.
    public static func reembed(_ r: ReembedReport) -> JSONValue {
        func n(_ x: Int) -> JSONValue { .number(Double(x)) }
        return .object([
            "from": r.from.json, "to": r.to.json, "memories": n(r.memories), "embedded": n(r.embedded), "kept": n(r.kept),
            "removed": n(r.removed), "batches": n(r.batches),
        ])
    }

    /// One engine event: `{"type", "memory_id", "at", "memory", "score"?, "message"?}` (`score`
    /// on `anomaly.detected` only, `message` on `lifecycle.failed` only).
    public static func event(_ e: MemoryEvent) -> JSONValue {
        var o: [String: JSONValue] = [
            "type": .string(e.kind.rawValue), "memory_id": .string(e.memoryID), "at": .string(e.at.iso8601),
            "memory": e.memory.map(memory) ?? .null,
        ]
        if let score = e.score { o["score"] = .number(score) }
        if let message = e.message { o["message"] = .string(message) }
        return .object(o)
    }

    /// An error as the JSON faces report it: `{"error": {"status", "code", "message"}}`, with
    /// `status` the C name (`STRATA_ERR_NOT_FOUND`) and `code` its number (`-2`).
    public static func error(_ error: StrataError) -> JSONValue {
        .object(["error": .object([
            "status": .string(error.code.cName), "code": .number(Double(error.code.rawValue)), "message": .string(error.message),
        ])])
    }
}
