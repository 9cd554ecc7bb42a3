import CStrata
import StrataCore

/// A seam's `create` (ABI 1.0) and `create_with_host` (ABI 1.5) function types.
typealias CreateFunction = @convention(c) (UnsafePointer<CChar>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?) -> Int32
typealias CreateWithHostFunction = @convention(c) (
    UnsafePointer<strata_host_api>?, UnsafePointer<CChar>?, UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> Int32

/// Makes one instance through whichever create function the vtable fills: `create_with_host`
/// when the plugin offers it (it then keeps the host table in the instance, no global needed),
/// otherwise `create`. Reads the options as JSON text, exactly as the plugin will see them.
func createInstance(
    _ create: CreateFunction?, _ createWithHost: CreateWithHostFunction?, config: String, plugin: LoadedPlugin, factory: String
) throws(StrataError) -> UnsafeMutableRawPointer? {
    var out: UnsafeMutableRawPointer?
    let status: Int32 = config.withCString { c in
        if let createWithHost { return createWithHost(UnsafePointer(HostAPI.table), c, &out) }
        if let create { return create(c, &out) }
        return Int32(STRATA_ERR_PLUGIN)
    }
    if create == nil && createWithHost == nil {
        throw StrataError(.plugin, "plugin \(plugin.name) (\(plugin.path)): \(factory) leaves both create and create_with_host NULL")
    }
    try pluginCheck(status, plugin.name, "create \(factory)")
    return out
}
