import StrataCore

/// Named starting configurations with the seeds' numbers: the tier models of seed 001
/// (`metabolic`: L1-L4) and seed 004 (`tiered`: hot / warm / cold / archive). Each is a JSON
/// document, so `strata init --preset` can write it out and users can change any number.
public enum ConfigurationPresets {
    /// Seed 001's metabolic model: working (1 h, 10 items, always recalled; used twice: moves on
    /// early; past its hour only memories of importance 0.5 or more move on, the rest are noise),
    /// session (24 h, 50; leaving it, a session's memories become one episode), episodic (7 d,
    /// 200), semantic (permanent, unbounded, summaries).
    public static let metabolic: JSONValue = [
        "tiers": [
            ["name": "working", "retention_hours": 1, "capacity": 10, "recall": "always",
             "promote": ["min_access_count": 2], "keep": ["min_importance": 0.5]],
            ["name": "session", "retention_hours": 24, "capacity": 50],
            ["name": "episodic", "retention_hours": 168, "capacity": 200],
            ["name": "semantic", "retention_hours": .null, "capacity": .null, "compression": "summary"],
        ],
        "defaults": ["tier": "working"],
        "lifecycle": [
            "consolidation": ["from_tier": "session", "group_by": "scope", "min_memories": 2, "category": "episodes"],
        ],
    ]

    /// Seed 004's storage tiers: hot (24 h, 1,000), warm (168 h, 5,000, light), cold (720 h,
    /// 10,000, summary), archive (permanent, patterns only), its six categories, its relevance
    /// score (minimum 0.3; hot and archive exempt), redundancy (cosine 0.85) and patterns
    /// (3 occurrences, confidence 0.7), with `success` and `profit` as the outcome fields.
    public static let tiered: JSONValue = [
        "tiers": [
            ["name": "hot", "retention_hours": 24, "capacity": 1000, "keep": ["min_importance": 0.5]],
            ["name": "warm", "retention_hours": 168, "capacity": 5000, "compression": "light",
             "keep_fields": ["type", "action", "success", "profit"], "keep": ["min_importance": 0.5]],
            ["name": "cold", "retention_hours": 720, "capacity": 10000, "compression": "summary",
             "keep_fields": ["type", "action", "success", "profit"]],
            ["name": "archive", "retention_hours": .null, "capacity": .null, "compression": "pattern-only"],
        ],
        // Seed 004's six categories, retention in days (null: never deleted) and importance.
        "categories": [
            ["name": "trades", "retention_days": 30, "importance": 0.9],
            ["name": "market_observations", "retention_days": 7, "importance": 0.6],
            ["name": "patterns", "retention_days": 365, "importance": 1.0],
            ["name": "failures", "retention_days": 60, "importance": 0.8],
            ["name": "opportunities", "retention_days": 3, "importance": 0.5],
            ["name": "user_preferences", "retention_days": .null, "importance": 1.0],
        ],
        "defaults": ["tier": "hot"],
        "lifecycle": [
            "outcome": ["success_field": "success", "numeric_field": "profit"],
            "relevance": ["min_score": 0.3, "exempt_tiers": ["hot", "archive"]],
            "redundancy": ["threshold": 0.85],
            "patterns": ["keys": ["type", "action"], "min_occurrences": 3, "min_confidence": 0.7, "category": "patterns", "tier": "archive"],
        ],
    ]

    /// Preset name -> document.
    public static let all: [String: JSONValue] = ["metabolic": metabolic, "tiered": tiered]
}
