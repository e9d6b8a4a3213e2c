// The API's OpenAPI 3.1 document, served at /openapi.json with this server's limits filled in
// (history length, k, catalog ids), so that every request the schema allows is one the server
// takes. ServingTests keep it true: its paths and methods are exactly the server's routes, and
// real responses (successes and errors) are checked against its schemas; scripts/check_api.sh
// runs schemathesis against it.
enum OpenAPIDocument {
    /// The document for a server with these settings and catalog.
    static func json(settings: ServeSettings, catalogCount: Int) -> String {
        template
            .replacingOccurrences(of: "MAX_HISTORY", with: String(settings.maxHistory))
            .replacingOccurrences(of: "MAX_K", with: String(max(1, min(settings.maxK, catalogCount))))
            .replacingOccurrences(of: "LAST_ID", with: String(max(0, catalogCount - 1)))
    }

    /// What a blank `q` consists of: the characters the schema's pattern `[^ \t\n\r\f\v]`
    /// excludes (the same set in every regex dialect a client may check it with).
    static let blank: Set<Unicode.Scalar> = [" ", "\t", "\n", "\r", "\u{0C}", "\u{0B}"]

    static let template = #"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "llmrec",
    "version": "1",
    "description": "Recommendations from a language model fine-tuned into a generative recommender: a history of catalog titles in, the next items out, ranked by constrained beam search over the catalog's titles."
  },
  "paths": {
    "/v1/recommend": {
      "post": {
        "summary": "Ranked catalog items for a user's history",
        "description": "Concurrent requests are decoded together (dynamic batching), so throughput grows with concurrency.",
        "requestBody": {
          "required": true,
          "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RecommendRequest"}}}
        },
        "responses": {
          "200": {"description": "The ranking, best first.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RecommendResponse"}}}},
          "400": {"description": "The body is not JSON, or a field has the wrong type.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "413": {"description": "The body is over the server's size limit.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "422": {"description": "No history, or both kinds; an empty or too long history; unknown titles (listed, with the closest catalog titles) or ids; k or igd_alpha out of range.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "503": {"description": "The server is shutting down.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
      }
    },
    "/v1/items": {
      "get": {
        "summary": "Catalog titles containing a text",
        "description": "Case-insensitive; titles starting with q come first, shorter titles first.",
        "parameters": [
          {"name": "q", "in": "query", "required": true, "schema": {"type": "string", "pattern": "[^ \\t\\n\\r\\f\\v]"}, "description": "Not only spaces."},
          {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}}
        ],
        "responses": {
          "200": {"description": "Matching catalog items.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ItemsResponse"}}}},
          "422": {"description": "q is missing or only spaces, or limit is out of range.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
      }
    },
    "/healthz": {
      "get": {
        "summary": "Liveness",
        "responses": {
          "200": {"description": "Serving.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}},
          "503": {"description": "Shutting down.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
      }
    },
    "/metrics": {
      "get": {
        "summary": "Prometheus metrics: requests and errors by route and status, latency histogram, batch sizes",
        "responses": {"200": {"description": "Prometheus text format 0.0.4.", "content": {"text/plain": {"schema": {"type": "string"}}}}}
      }
    },
    "/openapi.json": {
      "get": {
        "summary": "This document",
        "responses": {"200": {"description": "OpenAPI 3.1.", "content": {"application/json": {"schema": {"type": "object"}}}}}
      }
    }
  },
  "components": {
    "schemas": {
      "RecommendRequest": {
        "type": "object",
        "description": "Exactly one of history and history_ids.",
        "oneOf": [{"required": ["history"]}, {"required": ["history_ids"]}],
        "properties": {
          "history": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": MAX_HISTORY, "description": "Catalog titles, oldest first (exact, or the same ignoring case); a title not in the catalog is refused with 422 and the closest titles."},
          "history_ids": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": LAST_ID}, "minItems": 1, "maxItems": MAX_HISTORY, "description": "Catalog ids (the id field of responses), oldest first."},
          "k": {"type": "integer", "minimum": 1, "maximum": MAX_K, "default": 10, "description": "Items to return; at most the server's limit and the catalog size."},
          "igd_alpha": {"type": "number", "minimum": 0, "maximum": 1, "description": "IGD decoding's alpha; the server's default when absent."},
          "mask_softmax": {"type": "boolean", "description": "Softmax over the catalog's valid tokens only (MSL's decoding); the server's default when absent."}
        }
      },
      "RecommendResponse": {
        "type": "object",
        "required": ["items", "model", "latency_ms", "dropped_history"],
        "properties": {
          "items": {"type": "array", "items": {"$ref": "#/components/schemas/RecommendedItem"}},
          "model": {"type": "string"},
          "latency_ms": {"type": "number", "description": "Time in the server, queueing and decoding included."},
          "dropped_history": {"type": "integer", "description": "History items left out, oldest first, so that the prompt fits the model's context."}
        }
      },
      "RecommendedItem": {
        "type": "object",
        "required": ["id", "title", "score", "source_ids"],
        "properties": {
          "id": {"type": "integer", "description": "Catalog id."},
          "title": {"type": "string"},
          "score": {"type": "number", "description": "Summed step log-probabilities / length^lambda (higher is better)."},
          "source_ids": {"type": "array", "items": {"type": "string"}, "description": "The dataset's item ids merged into this catalog entry."}
        }
      },
      "ItemsResponse": {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/CatalogMatch"}}}
      },
      "CatalogMatch": {
        "type": "object",
        "required": ["id", "title"],
        "properties": {"id": {"type": "integer"}, "title": {"type": "string"}}
      },
      "Health": {
        "type": "object",
        "required": ["status", "model", "catalog_items"],
        "properties": {"status": {"type": "string"}, "model": {"type": "string"}, "catalog_items": {"type": "integer"}}
      },
      "Error": {
        "type": "object",
        "required": ["error"],
        "properties": {
          "error": {
            "type": "object",
            "required": ["status", "code", "message"],
            "properties": {
              "status": {"type": "integer"},
              "code": {"type": "string", "description": "bad_request, invalid_request, unknown_titles, unknown_ids, empty_history, history_too_long, body_too_large, not_found, method_not_allowed, shutting_down, internal"},
              "message": {"type": "string"},
              "unknown_titles": {
                "type": "array",
                "items": {
                  "type": "object",
                  "required": ["title", "suggestions"],
                  "properties": {"title": {"type": "string"}, "suggestions": {"type": "array", "items": {"type": "string"}}}
                }
              }
            }
          }
        }
      }
    }
  }
}
"""#
}
