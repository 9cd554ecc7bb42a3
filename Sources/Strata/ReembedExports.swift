import CStrata
import StrataCore
import StrataEngine
import StrataWire

@implementation @c public func strata_engine_reembed(
    _ engine: OpaquePointer!, _ target: OpaquePointer!, _ request_json: UnsafePointer<CChar>!,
    _ out_json: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>!
) -> strata_status {
    out_json?.pointee = nil
    return cCall { () throws(StrataError) in
        guard let out_json else { throw StrataError(.invalidArgument, "out_json is NULL") }
        let e = try EngineHandle.from(engine)
        guard let target else { throw StrataError(.invalidArgument, "target is NULL") }
        let t = try EngineHandle.from(target)
        out_json.pointee = mallocString(Wire.text(try e.reembedJSON(into: t, try cJSON(request_json, what: "reembed request"))))
    }
}
