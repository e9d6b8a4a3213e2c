// The HTTP API's requests as data: the recommend body read field by field, so that every
// refusal names the field and the value (`k: 2.5` is "`k` has the wrong type: expected a whole
// number, got 2.5", not "not valid JSON"), and query strings as forms encode them. No server
// code here, so that the request parsing can be fuzzed on its own.
import Foundation
import Support

/// A query string's parameters as HTML forms and HTTP libraries encode them (`+` is a space,
/// `%XX` a byte); the first value of each name. A value that is not valid percent-encoding is
/// left out (the parameter counts as missing).
public func formParameters(_ query: String) -> [String: String] {
    var parameters: [String: String] = [:]
    for pair in query.split(separator: "&") {
        let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        func decode(_ text: Substring) -> String? { text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding }
        guard let name = decode(parts[0]), parameters[name] == nil, let value = parts.count > 1 ? decode(parts[1]) : "" else { continue }
        parameters[name] = value
    }
    return parameters
}

/// A recommend request's body (POST /v1/recommend). Which fields must be present together, and
/// their ranges, are the server's to check: this is what the body says.
public struct RecommendRequest: Sendable, Equatable {
    public var history: [String]?
    public var history_ids: [Int]?
    public var k: Int?
    public var igd_alpha: Double?
    public var mask_softmax: Bool?

    public init(history: [String]? = nil, history_ids: [Int]? = nil, k: Int? = nil, igd_alpha: Double? = nil, mask_softmax: Bool? = nil) {
        self.history = history
        self.history_ids = history_ids
        self.k = k
        self.igd_alpha = igd_alpha
        self.mask_softmax = mask_softmax
    }
}

/// A body that is not a recommend request: the message names the field and what was wrong.
public struct RequestError: Error, Equatable, CustomStringConvertible {
    public var description: String
    init(_ message: String) { description = message }
}

extension RecommendRequest {
    /// The request `bytes` hold, or a `RequestError` naming what is wrong.
    public static func decode(_ bytes: [UInt8]) throws -> RecommendRequest {
        guard let text = String(validating: bytes, as: UTF8.self) else { throw RequestError("the body is not UTF-8 text") }
        let root: JSONNode
        do {
            root = try JSONDocument.parse(text)
        } catch {
            throw RequestError("the body is not valid JSON (\(error))")
        }
        guard case .object(let members) = root.value else {
            throw RequestError("the body has the wrong type: expected an object such as {\"history\": [\"Toy Story (1995)\"], \"k\": 10}")
        }
        var request = RecommendRequest()
        for member in members {
            let field = Field(name: member.key)
            switch member.key {
            case "history": request.history = try field.array(member.node).enumerated().map { try field[$0].string($1) }
            case "history_ids": request.history_ids = try field.array(member.node).enumerated().map { try field[$0].wholeNumber($1) }
            case "k": request.k = try field.wholeNumber(member.node)
            case "igd_alpha": request.igd_alpha = try field.number(member.node)
            case "mask_softmax": request.mask_softmax = try field.bool(member.node)
            default: continue
            }
        }
        return request
    }
}

/// A field of the request, by its path (`history_ids[2]`), and the checks of its type.
private struct Field {
    var name: String

    subscript(index: Int) -> Field { Field(name: "\(name)[\(index)]") }

    func wrongType(_ expected: String, _ node: JSONNode) -> RequestError {
        RequestError("`\(name)` has the wrong type: expected \(expected), got \(Self.kind(node.value))")
    }

    static func kind(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let b): "\(b)"
        case .number(let x): "\(x)"
        case .string(let s): "the string \(quoted(s, limit: 40))"
        case .array: "an array"
        case .object: "an object"
        }
    }

    func array(_ node: JSONNode) throws -> [JSONNode] {
        guard case .array(let items) = node.value else { throw wrongType("an array", node) }
        return items
    }

    func string(_ node: JSONNode) throws -> String {
        guard case .string(let s) = node.value else { throw wrongType("a string", node) }
        return s
    }

    func bool(_ node: JSONNode) throws -> Bool {
        guard case .bool(let b) = node.value else { throw wrongType("true or false", node) }
        return b
    }

    func number(_ node: JSONNode) throws -> Double {
        guard case .number(let x) = node.value else { throw wrongType("a number", node) }
        return x
    }

    /// A whole number a Double holds exactly (|x| ≤ 2^53), so `10.0` and `1e3` are 10 and 1000.
    func wholeNumber(_ node: JSONNode) throws -> Int {
        guard case .number(let x) = node.value, x.rounded() == x else { throw wrongType("a whole number", node) }
        guard abs(x) <= 9_007_199_254_740_992 else { throw RequestError("`\(name)` is \(x): expected a whole number of at most 2^53") }
        return Int(x)
    }
}
