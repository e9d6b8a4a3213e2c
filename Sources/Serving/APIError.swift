// Every error the API returns: a status code and one JSON shape,
//   {"error": {"status": 422, "code": "unknown_titles", "message": "…", "unknown_titles": [{"title", "suggestions"}]}}
// so that clients can branch on `code` and show `message` as it is.
import RecData
import Foundation
import Hummingbird

public struct APIError: Error, HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var unknownTitles: [UnknownTitle]?
    /// Headers the error needs besides the body (`Allow` on a 405).
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, code: String, _ message: String, unknownTitles: [UnknownTitle]? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.unknownTitles = unknownTitles
    }

    struct Body: Encodable {
        struct Detail: Encodable {
            var status: Int
            var code: String
            var message: String
            var unknown_titles: [UnknownTitle]?
        }
        var error: Detail
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = Body(error: .init(status: status.code, code: code, message: message, unknown_titles: unknownTitles))
        var response = jsonResponse(body, status: status)
        response.headers.append(contentsOf: headers)
        return response
    }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, code: "bad_request", message) }
    static func invalid(_ message: String) -> APIError { APIError(.unprocessableContent, code: "invalid_request", message) }
}

/// A JSON response with sorted keys (stable output for clients, tests and diffs).
func jsonResponse(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    let data = (try? encoder.encode(value)) ?? Data(#"{"error":{"status":500,"code":"internal","message":"response encoding failed"}}"#.utf8)
    return Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
}
