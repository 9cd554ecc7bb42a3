import CStrata
import StrataCore

/// The host side of the plugin ABI, for code that calls a plugin's vtables directly instead
/// of through the adapters (`PluginVectorStore`, ...): the contract checker in StrataTesting,
/// which must see exactly what a plugin answers, before any host-side check or repair.
public enum PluginHost {
    /// The host table every plugin receives (valid for the life of the process).
    public static var table: UnsafePointer<strata_host_api> { UnsafePointer(HostAPI.table) }

    /// Forgets any message a plugin left with `host->fail` on this thread.
    public static func clearMessage() { pluginFailure.clear() }

    /// The message a plugin left with `host->fail` on this thread since the last clear: nil when
    /// it did not call `fail`, "" when it passed NULL or "".
    public static func takeMessage() -> String? {
        defer { pluginFailure.clear() }
        return pluginFailure.message
    }

    /// Runs `body` with a host filter for `filter` as plugins receive it (`const strata_filter *`),
    /// NULL when `filter` is nil or matches everything.
    public static func withFilter<T>(_ filter: Filter?, _ body: (OpaquePointer?) throws(StrataError) -> T) throws(StrataError) -> T {
        try HostFilter.with(filter, body)
    }
}

extension PluginFactory {
    /// The factory's vtable, for direct calls (see `PluginHost`).
    public var rawVTable: UnsafeRawPointer { vtable }
}
