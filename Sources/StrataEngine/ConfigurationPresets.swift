import StrataCore

/// Named starting configurations with the seeds' numbers: the tier models of seed 001
/// (`metabolic`: L1-L4) and seed 004 (`tiered`: hot / warm / cold / archive). Each is a JSON
/// document, so `strata init --preset` can write it out and users can change any number.
/// (The `metabolize` cycle that applies these rules is issue 4's next step.)
public enum ConfigurationPresets {
    /// Seed 001's metabolic model: working (1 h, 10 items, always recalled), session (24 h, 50),
    /// episodic (7 d, 200), semantic (permanent, unbounded).
    public static let metabolic: JSONValue = [
        "tiers": [
            ["name": "working", "retention_hours": 1, "capacity": 10, "recall": "always"],
            ["name": "session", "retention_hours": 24, "capacity": 50, "promote": ["min_importance": 0.7]],
            ["name": "episodic", "retention_hours": 168, "capacity": 200, "compression": "summary"],
            ["name": "semantic", "retention_hours": .null, "capacity": .null, "compression": "summary"],
        ],
        "defaults": ["tier": "working"],
    ]

    /// Seed 004's storage tiers: hot (24 h, 1,000), warm (168 h, 5,000, light), cold (720 h,
    /// 10,000, summary), archive (permanent, patterns only), and its six categories.
    public static let tiered: JSONValue = [
        "tiers": [
            ["name": "hot", "retention_hours": 24, "capacity": 1000],
            ["name": "warm", "retention_hours": 168, "capacity": 5000, "compression": "light", "keep_fields": ["type", "action", "outcome"]],
            ["name": "cold", "retention_hours": 720, "capacity": 10000, "compression": "summary"],
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
    ]

    /// Preset name -> document.
    public static let all: [String: JSONValue] = ["metabolic": metabolic, "tiered": tiered]
}
