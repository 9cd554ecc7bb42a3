import Foundation
import MCP
import StrataCore

// The MCP SDK's `Value` and Strata's `JSONValue` describe the same JSON. Tool arguments arrive
// as `Value` and become the `JSONValue` requests of StrataWire's decoders; answers go back the
// other way, so a tool's structured content is the JSON the REST answer carries.

extension JSONValue {
    /// The JSON of an MCP value. Integers become numbers (JSON has one number type); a data
    /// value (the SDK's data-URL strings) becomes its text form, as it arrived on the wire.
    public init(_ value: MCP.Value) {
        switch value {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .int(let i): self = .number(Double(i))
        case .double(let d): self = .number(d)
        case .string(let s): self = .string(s)
        case .data(let mimeType, let data):
            self = .string("data:\(mimeType ?? "application/octet-stream");base64,\(data.base64EncodedString())")
        case .array(let items): self = .array(items.map(JSONValue.init))
        case .object(let fields): self = .object(fields.mapValues(JSONValue.init))
        }
    }
}

extension Value {
    /// The MCP value of a JSON value. A whole number that an `Int` holds exactly is an integer
    /// (so `"k": 5` is written `5`, not `5.0`); every other number stays a double.
    public init(_ json: JSONValue) {
        switch json {
        case .null: self = .null
        case .bool(let b): self = .bool(b)
        case .number(let n):
            if n.rounded() == n, abs(n) < 9.0e15 { self = .int(Int(n)) } else { self = .double(n) }
        case .string(let s): self = .string(s)
        case .array(let items): self = .array(items.map(Value.init))
        case .object(let fields): self = .object(fields.mapValues(Value.init))
        }
    }
}
