// The API's OpenAPI 3.1 document, served at /openapi.json. ServingTests keep it true: its paths
// and methods are exactly the server's routes, and real responses (successes and errors) are
// checked against its schemas.
enum OpenAPIDocument {
    static let json = #"""
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
          {"name": "q", "in": "query", "required": true, "schema": {"type": "string", "minLength": 1}},
          {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}}
        ],
        "responses": {
          "200": {"description": "Matching catalog items.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ItemsResponse"}}}},
          "422": {"description": "q is missing or empty, or limit is out of range.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
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
        "properties": {
          "history": {"type": "array", "items": {"type": "string"}, "minItems": 1, "description": "Catalog titles, oldest first (exact, or the same ignoring case)."},
          "history_ids": {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 1, "description": "Catalog ids (the id field of responses), oldest first."},
          "k": {"type": "integer", "minimum": 1, "default": 10, "description": "Items to return; at most the server's limit and the catalog size."},
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
