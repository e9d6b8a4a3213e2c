// The OpenAPI document stays true: its paths and methods are exactly the server's routes, and
// real responses — successes and each kind of error — match the schemas it gives for them.
import Foundation
import Testing
@testable import Serving

@Suite("serve: OpenAPI document", .serialized)
struct OpenAPITests {
    let document = try! JSONSerialization.jsonObject(with: Data(OpenAPIDocument.json(settings: ServeSettings(), catalogCount: 5).utf8)) as! [String: Any]

    /// The served document carries this server's limits, so that what it allows, the server takes.
    @Test func servedDocumentStatesThisServersLimits() async throws {
        var settings = ServeSettings()
        settings.maxHistory = 7
        settings.maxK = 3
        let running = try await RunningServer.start(tinyRecommender, settings)
        let served = try await running.send(.GET, "/openapi.json").object
        try await running.stop()
        let schemas = (served["components"] as! [String: Any])["schemas"] as! [String: Any]
        let request = schemas["RecommendRequest"] as! [String: Any]
        let properties = request["properties"] as! [String: [String: Any]]
        #expect(properties["history"]?["maxItems"] as? Int == 7)
        #expect(properties["k"]?["maximum"] as? Int == 3)
        #expect((properties["history_ids"]?["items"] as? [String: Any])?["maximum"] as? Int == tinyRecommender.catalog.count - 1)
        #expect((request["oneOf"] as? [[String: Any]])?.count == 2)
    }

    @Test func pathsAreExactlyTheRoutes() throws {
        let paths = document["paths"] as! [String: [String: Any]]
        let documented = Set(paths.flatMap { path, methods in methods.keys.map { "\($0.uppercased()) \(path)" } })
        let served = Set(RecommendServer.routes.map { "\($0.method.rawValue) \($0.path)" })
        #expect(documented == served)
    }

    @Test func responsesMatchTheirSchemas() async throws {
        var settings = ServeSettings()
        settings.maxBodyBytes = 512
        let running = try await RunningServer.start(tinyRecommender, settings)
        let calls: [(method: String, path: String, body: String?, status: Int)] = [
            ("post", "/v1/recommend", "{\"history\": [\"Toy Story (1995)\"], \"k\": 2}", 200),
            ("post", "/v1/recommend", "{\"history_ids\": [1], \"igd_alpha\": 0.2, \"mask_softmax\": true}", 200),
            ("post", "/v1/recommend", "{\"history\": [\"Toy Storey\"]}", 422),
            ("post", "/v1/recommend", "{\"k\": true}", 400),
            ("post", "/v1/recommend", "{\"history\": [\"" + String(repeating: "y", count: 600) + "\"]}", 413),
            ("get", "/v1/items?q=he", nil, 200),
            ("get", "/v1/items", nil, 422),
            ("get", "/healthz", nil, 200),
            ("get", "/metrics", nil, 200),
            ("get", "/openapi.json", nil, 200),
        ]
        for call in calls {
            let reply = try await running.send(call.method == "post" ? .POST : .GET, call.path, body: call.body)
            #expect(reply.status == call.status, "\(call.path): \(reply.text.prefix(200))")
            let path = String(call.path.split(separator: "?")[0])
            let operation = (document["paths"] as! [String: [String: Any]])[path]![call.method] as! [String: Any]
            let responses = operation["responses"] as! [String: Any]
            let documented = try #require(responses[String(reply.status)] as? [String: Any], "\(call.path): status \(reply.status) is not documented")
            let content = documented["content"] as! [String: Any]
            if let json = content["application/json"] as? [String: Any] {
                let problems = validate(reply.json as Any, against: json["schema"] as! [String: Any], at: "\(call.method) \(call.path)")
                #expect(problems.isEmpty, "\(problems)")
            } else {
                #expect(content["text/plain"] != nil && reply.headers.first(name: "content-type")?.hasPrefix("text/plain") == true)
            }
        }
        try await running.stop()
    }

    /// The parts of JSON Schema the document uses: $ref, type, required, properties, items.
    func validate(_ value: Any, against schema: [String: Any], at path: String) -> [String] {
        if let ref = schema["$ref"] as? String {
            let name = String(ref.split(separator: "/").last!)
            let schemas = (document["components"] as! [String: Any])["schemas"] as! [String: Any]
            return validate(value, against: schemas[name] as! [String: Any], at: path)
        }
        switch schema["type"] as? String {
        case "object":
            guard let object = value as? [String: Any] else { return ["\(path): not an object"] }
            var problems = (schema["required"] as? [String] ?? []).filter { object[$0] == nil }.map { "\(path): missing \($0)" }
            let properties = schema["properties"] as? [String: [String: Any]] ?? [:]
            for (key, field) in object {
                guard let fieldSchema = properties[key] else {
                    if !properties.isEmpty { problems.append("\(path): undocumented field \(key)") }
                    continue
                }
                problems += validate(field, against: fieldSchema, at: "\(path).\(key)")
            }
            return problems
        case "array":
            guard let array = value as? [Any] else { return ["\(path): not an array"] }
            let items = schema["items"] as? [String: Any] ?? [:]
            return array.enumerated().flatMap { validate($1, against: items, at: "\(path)[\($0)]") }
        case "string": return value is String ? [] : ["\(path): not a string"]
        case "integer": return (value as? NSNumber).map { Double(truncating: $0).rounded() == Double(truncating: $0) } == true ? [] : ["\(path): not an integer"]
        case "number": return value is NSNumber ? [] : ["\(path): not a number"]
        default: return []
        }
    }
}
