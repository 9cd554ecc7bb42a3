// Written by scripts/gen-openapi-swift from docs/openapi.json: edit that file, then run the script.

/// The OpenAPI 3.1 document of `/v1`, the bytes of docs/openapi.json, served at GET /v1/openapi.json.
enum OpenAPIDocument {
    static let text = ##"""
{
  "openapi": "3.1.0",
  "info": {
    "title": "Strata",
    "version": "v1",
    "description": "`strata serve`: one Strata memory engine over HTTP. Bodies and answers are the JSON of `strata ... --json` and of the C ABI (include/strata/engine.h); in a request, `null` for an optional key is the same as leaving the key out, and an unknown key is 400. With a token file in the store folder (`strata token create --scope SCOPE --role read|write|admin`), every route but /v1/health, /v1/version and /v1/openapi.json needs `Authorization: Bearer <secret>`, and a token sees and changes only its scope subtree; without one, the server listens on loopback only (unless `--insecure`) and asks for no token. Every answer carries `X-Request-Id` (the client's, when it sent a short printable one). The first API's paths (`POST /memory/store`, `GET|POST /memory/recall`, `PATCH /memory/update`, `DELETE /memory/forget`) are aliases of the same handlers and are not listed here."
  },
  "servers": [
    {
      "url": "http://127.0.0.1:7700"
    }
  ],
  "tags": [
    {
      "name": "memories"
    },
    {
      "name": "store"
    },
    {
      "name": "snapshots"
    },
    {
      "name": "events"
    },
    {
      "name": "server"
    }
  ],
  "paths": {
    "/v1/health": {
      "get": {
        "operationId": "health",
        "summary": "Liveness, engine calls in flight, the last event, scheduled work",
        "tags": [
          "server"
        ],
        "responses": {
          "200": {
            "description": "Answered without the engine.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/RequestId"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Health"
                }
              }
            }
          }
        },
        "security": []
      }
    },
    "/v1/version": {
      "get": {
        "operationId": "version",
        "summary": "The server's version and API",
        "tags": [
          "server"
        ],
        "responses": {
          "200": {
            "description": "The version of `strata version`.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/RequestId"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Version"
                }
              }
            }
          }
        },
        "security": []
      }
    },
    "/v1/whoami": {
      "get": {
        "operationId": "whoami",
        "summary": "What the token may do: its scope and role",
        "description": "The dashboard asks this to show only what the token may use. Any role.",
        "tags": [
          "server"
        ],
        "responses": {
          "200": {
            "description": "The token's scope and role.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/RequestId"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/WhoAmI"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "500": {
            "$ref": "#/components/responses/E500"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ]
      }
    },
    "/v1/openapi.json": {
      "get": {
        "operationId": "openapi",
        "summary": "This document",
        "tags": [
          "server"
        ],
        "security": [],
        "responses": {
          "200": {
            "description": "The OpenAPI 3.1 document of this API, the bytes of docs/openapi.json in the repository.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/RequestId"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "type": "object"
                }
              }
            }
          }
        }
      }
    },
    "/metrics": {
      "get": {
        "operationId": "metrics",
        "summary": "Prometheus metrics",
        "tags": [
          "server"
        ],
        "security": [
          {
            "bearer": []
          }
        ],
        "description": "Prometheus text exposition (version 0.0.4): requests and latency per route, method and status, engine call durations by verb, memories per tier, scheduled runs and failures. With a token file, it needs a token of the root scope (any role): the counts span every scope, as /v1/stats does.",
        "responses": {
          "200": {
            "description": "The metrics.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/RequestId"
              }
            },
            "content": {
              "text/plain": {
                "schema": {
                  "type": "string"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        }
      }
    },
    "/v1/memories": {
      "post": {
        "operationId": "store",
        "summary": "Store one memory or an atomic batch",
        "description": "Needs `write`. A memory goes in the token's scope unless it names one inside it (403 outside).",
        "tags": [
          "memories"
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/StoreRequest"
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "Stored.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/RequestId"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/StoreAnswer"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/E400"
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "413": {
            "$ref": "#/components/responses/E413"
          },
          "422": {
            "$ref": "#/components/responses/E422"
          },
          "500": {
            "$ref": "#/components/responses/E500"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ]
      }
    },
    "/v1/memories/{id}": {
      "parameters": [
        {
          "name": "id",
          "in": "path",
          "required": true,
          "description": "The memory id, percent-encoded (an id may hold `/`, `?`, spaces or any UTF-8); a malformed escape is 422.",
          "schema": {
            "type": "string"
          }
        }
      ],
      "get": {
        "operationId": "get",
        "summary": "One memory",
        "tags": [
          "memories"
        ],
        "responses": {
          "200": {
            "description": "The memory.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/RequestId"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Memory"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "404": {
            "$ref": "#/components/responses/E404"
          },
          "422": {
            "$ref": "#/components/responses/E422"
          },
          "500": {
            "$ref": "#/components/responses/E500"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ]
      },
      "patch": {
        "operationId": "update",
        "summary": "Change a memory (re-embedded on new content)",
        "tags": [
          "memories"
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/UpdateRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The memory as changed.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/RequestId"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Memory"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/E400"
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "413": {
            "$ref": "#/components/responses/E413"
          },
          "422": {
            "$ref": "#/components/responses/E422"
          },
          "500": {
            "$ref": "#/components/responses/E500"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          },
          "404": {
            "$ref": "#/components/responses/E404"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ]
      },
      "delete": {
        "operationId": "forget",
        "summary": "Forget a memory",
        "tags": [
          "memories"
        ],
        "responses": {
          "200": {
            "description": "Forgotten.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/RequestId"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ForgetAnswer"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "404": {
            "$ref": "#/components/responses/E404"
          },
          "422": {
            "$ref": "#/components/responses/E422"
          },
          "500": {
            "$ref": "#/components/responses/E500"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ]
      }
    },
    "/v1/memories/{id}/history": {
      "parameters": [
        {
          "name": "id",
          "in": "path",
          "required": true,
          "description": "The memory id, percent-encoded (an id may hold `/`, `?`, spaces or any UTF-8); a malformed escape is 422.",
          "schema": {
            "type": "string"
          }
        }
      ],
      "get": {
        "operationId": "history",
        "summary": "A memory's history: ADD, UPDATE, DELETE with old and new values, oldest first",
        "tags": [
          "memories"
        ],
        "responses": {
          "200": {
            "description": "The history.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/RequestId"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/HistoryAnswer"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "404": {
            "$ref": "#/components/responses/E404"
          },
          "422": {
            "$ref": "#/components/responses/E422"
          },
          "500": {
            "$ref": "#/components/responses/E500"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ]
      }
    },
    "/v1/recall": {
      "post": {
        "operationId": "recall",
        "summary": "Recall by text, by vector, or by recency",
        "tags": [
          "memories"
        ],
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/RecallRequest"
              }
            }
          },
          "description": "An empty body is `{}`."
        },
        "responses": {
          "200": {
            "description": "Best first; only what the token's scope sees.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/RequestId"
              },
              "Server-Timing": {
                "$ref": "#/components/headers/ServerTiming"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/RecallAnswer"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/E400"
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "413": {
            "$ref": "#/components/responses/E413"
          },
          "422": {
            "$ref": "#/components/responses/E422"
          },
          "500": {
            "$ref": "#/components/responses/E500"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ]
      }
    },
    "/v1/list": {
      "post": {
        "operationId": "list",
        "summary": "A page of the memories in view, oldest first",
        "description": "Nothing is counted as an access. Only what the token's scope sees.",
        "tags": [
          "memories"
        ],
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/ListRequest"
              }
            }
          },
          "description": "An empty body is `{}`."
        },
        "responses": {
          "200": {
            "description": "The page and the total.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/RequestId"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ListAnswer"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/E400"
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "413": {
            "$ref": "#/components/responses/E413"
          },
          "422": {
            "$ref": "#/components/responses/E422"
          },
          "500": {
            "$ref": "#/components/responses/E500"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ]
      }
    },
    "/v1/count": {
      "post": {
        "operationId": "count",
        "summary": "How many memories a list request with the same selection answers",
        "description": "Only what the token's scope sees.",
        "tags": [
          "memories"
        ],
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/CountRequest"
              }
            }
          },
          "description": "An empty body is `{}`."
        },
        "responses": {
          "200": {
            "description": "The count.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/RequestId"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/CountAnswer"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/E400"
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "413": {
            "$ref": "#/components/responses/E413"
          },
          "422": {
            "$ref": "#/components/responses/E422"
          },
          "500": {
            "$ref": "#/components/responses/E500"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ]
      }
    },
    "/v1/embed": {
      "post": {
        "operationId": "embed",
        "summary": "Embed texts with the store's embedder; nothing is stored",
        "description": "As a store embeds content and a recall its query: the rows can be stored (`vector` of POST /v1/memories) or recalled with (`vector` of POST /v1/recall). Any role; reads no memory.",
        "tags": [
          "memories"
        ],
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/EmbedRequest"
              }
            }
          },
          "description": "An empty body is `{}`."
        },
        "responses": {
          "200": {
            "description": "One vector per text, in order.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/RequestId"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/EmbedAnswer"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/E400"
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "413": {
            "$ref": "#/components/responses/E413"
          },
          "422": {
            "$ref": "#/components/responses/E422"
          },
          "500": {
            "$ref": "#/components/responses/E500"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ]
      }
    },
    "/v1/forget": {
      "post": {
        "operationId": "forgetWhere",
        "summary": "Forget by id or by filter",
        "tags": [
          "memories"
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/ForgetRequest"
              }
            }
          }
        },
        "responses": {
          "200": {
            "description": "The ids forgotten.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/RequestId"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/ForgetAnswer"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/E400"
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "413": {
            "$ref": "#/components/responses/E413"
          },
          "422": {
            "$ref": "#/components/responses/E422"
          },
          "500": {
            "$ref": "#/components/responses/E500"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          },
          "404": {
            "$ref": "#/components/responses/E404"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ]
      }
    },
    "/v1/stats": {
      "get": {
        "operationId": "stats",
        "summary": "Counts by tier, category and scope; operations; lifecycle totals",
        "description": "Spans every scope: needs a token of the root scope.",
        "tags": [
          "store"
        ],
        "responses": {
          "200": {
            "description": "The stats.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/RequestId"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Stats"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "500": {
            "$ref": "#/components/responses/E500"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ]
      }
    },
    "/v1/metabolize": {
      "post": {
        "operationId": "metabolize",
        "summary": "Run one lifecycle cycle (or a dry run)",
        "description": "Needs `admin` at the root scope.",
        "tags": [
          "store"
        ],
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/MetabolizeRequest"
              }
            }
          },
          "description": "An empty body is `{}`."
        },
        "responses": {
          "200": {
            "description": "The cycle's report.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/RequestId"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/MetabolizeReport"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/E400"
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "413": {
            "$ref": "#/components/responses/E413"
          },
          "422": {
            "$ref": "#/components/responses/E422"
          },
          "500": {
            "$ref": "#/components/responses/E500"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ]
      }
    },
    "/v1/lifecycle/cycles": {
      "get": {
        "operationId": "lifecycleCycles",
        "summary": "The newest lifecycle cycles, oldest first, each with its own counts",
        "description": "Read from the store's lifecycle ledger, so cycles of every process on the store and from before a restart are listed. Spans every scope: needs a token of the root scope.",
        "tags": [
          "store"
        ],
        "parameters": [
          {
            "name": "limit",
            "in": "query",
            "required": false,
            "description": "How many of the newest cycles (1 to 10000, default 100).",
            "schema": {
              "type": "integer",
              "minimum": 1,
              "maximum": 10000
            }
          }
        ],
        "responses": {
          "200": {
            "description": "The cycles.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/RequestId"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/LifecycleCycles"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "422": {
            "$ref": "#/components/responses/E422"
          },
          "500": {
            "$ref": "#/components/responses/E500"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ]
      }
    },
    "/v1/anomalies": {
      "get": {
        "operationId": "anomalies",
        "summary": "Anomalies in view, with the configured settings",
        "tags": [
          "memories"
        ],
        "responses": {
          "200": {
            "description": "Highest score first.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/RequestId"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/AnomaliesAnswer"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "422": {
            "$ref": "#/components/responses/E422"
          },
          "500": {
            "$ref": "#/components/responses/E500"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ]
      },
      "post": {
        "operationId": "anomaliesWhere",
        "summary": "Anomalies with a threshold, limit, filter or scope",
        "tags": [
          "memories"
        ],
        "requestBody": {
          "required": false,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/AnomaliesRequest"
              }
            }
          },
          "description": "An empty body is `{}`."
        },
        "responses": {
          "200": {
            "description": "Highest score first.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/RequestId"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/AnomaliesAnswer"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/E400"
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "413": {
            "$ref": "#/components/responses/E413"
          },
          "422": {
            "$ref": "#/components/responses/E422"
          },
          "500": {
            "$ref": "#/components/responses/E500"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ]
      }
    },
    "/v1/events": {
      "get": {
        "operationId": "events",
        "summary": "WebSocket: every engine event the token may see, numbered",
        "tags": [
          "events"
        ],
        "security": [
          {
            "bearer": []
          }
        ],
        "description": "Connect with `Upgrade: websocket`. Each message is `{\"seq\", \"type\", \"memory_id\", \"at\", \"memory\", ...}`. A refusal after the upgrade is a close frame with code 4000 + the HTTP status (4401, 4403, 4422, 4503); a client too far behind is closed with 4008, a resume from an event no longer kept with 4010. Browsers may pass the token as `?token=`.",
        "parameters": [
          {
            "name": "since",
            "in": "query",
            "required": false,
            "description": "Resume after this event.",
            "schema": {
              "type": "integer",
              "minimum": 0
            }
          },
          {
            "name": "token",
            "in": "query",
            "required": false,
            "description": "The token, for clients that cannot set headers.",
            "schema": {
              "type": "string"
            }
          }
        ],
        "responses": {
          "101": {
            "description": "Switching to WebSocket."
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "426": {
            "$ref": "#/components/responses/E426"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        }
      }
    },
    "/v1/snapshots": {
      "get": {
        "operationId": "snapshots",
        "summary": "The snapshots, oldest first",
        "description": "Needs a token of the root scope.",
        "tags": [
          "snapshots"
        ],
        "responses": {
          "200": {
            "description": "The snapshots.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/RequestId"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Snapshots"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "500": {
            "$ref": "#/components/responses/E500"
          },
          "501": {
            "$ref": "#/components/responses/E501"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ]
      },
      "post": {
        "operationId": "snapshot",
        "summary": "Take a snapshot",
        "description": "Needs `admin` at the root scope.",
        "tags": [
          "snapshots"
        ],
        "requestBody": {
          "required": true,
          "content": {
            "application/json": {
              "schema": {
                "$ref": "#/components/schemas/SnapshotRequest"
              }
            }
          }
        },
        "responses": {
          "201": {
            "description": "Taken.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/RequestId"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Snapshot"
                }
              }
            }
          },
          "400": {
            "$ref": "#/components/responses/E400"
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "413": {
            "$ref": "#/components/responses/E413"
          },
          "422": {
            "$ref": "#/components/responses/E422"
          },
          "500": {
            "$ref": "#/components/responses/E500"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          },
          "409": {
            "$ref": "#/components/responses/E409"
          },
          "501": {
            "$ref": "#/components/responses/E501"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ]
      }
    },
    "/v1/snapshots/{name}": {
      "parameters": [
        {
          "name": "name",
          "in": "path",
          "required": true,
          "description": "The snapshot name (1 to 64 of A-Z a-z 0-9 . _ -; anything else is 422).",
          "schema": {
            "type": "string",
            "pattern": "^[A-Za-z0-9._-]{1,64}$"
          }
        }
      ],
      "delete": {
        "operationId": "deleteSnapshot",
        "summary": "Delete a snapshot",
        "description": "Needs `admin` at the root scope.",
        "tags": [
          "snapshots"
        ],
        "responses": {
          "200": {
            "description": "Deleted.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/RequestId"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/Deleted"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "404": {
            "$ref": "#/components/responses/E404"
          },
          "422": {
            "$ref": "#/components/responses/E422"
          },
          "500": {
            "$ref": "#/components/responses/E500"
          },
          "501": {
            "$ref": "#/components/responses/E501"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ]
      }
    },
    "/v1/snapshots/{name}/rollback": {
      "parameters": [
        {
          "name": "name",
          "in": "path",
          "required": true,
          "description": "The snapshot name (1 to 64 of A-Z a-z 0-9 . _ -; anything else is 422).",
          "schema": {
            "type": "string",
            "pattern": "^[A-Za-z0-9._-]{1,64}$"
          }
        }
      ],
      "post": {
        "operationId": "rollback",
        "summary": "Roll the store back to a snapshot",
        "description": "Needs `admin` at the root scope. No body.",
        "tags": [
          "snapshots"
        ],
        "responses": {
          "200": {
            "description": "What the rollback changed.",
            "headers": {
              "X-Request-Id": {
                "$ref": "#/components/headers/RequestId"
              }
            },
            "content": {
              "application/json": {
                "schema": {
                  "$ref": "#/components/schemas/RollbackAnswer"
                }
              }
            }
          },
          "401": {
            "$ref": "#/components/responses/E401"
          },
          "403": {
            "$ref": "#/components/responses/E403"
          },
          "404": {
            "$ref": "#/components/responses/E404"
          },
          "422": {
            "$ref": "#/components/responses/E422"
          },
          "500": {
            "$ref": "#/components/responses/E500"
          },
          "501": {
            "$ref": "#/components/responses/E501"
          },
          "503": {
            "$ref": "#/components/responses/E503"
          }
        },
        "security": [
          {
            "bearer": []
          }
        ]
      }
    }
  },
  "components": {
    "schemas": {
      "Error": {
        "type": "object",
        "required": [
          "error"
        ],
        "additionalProperties": false,
        "description": "Every error answer. Engine errors carry the C status name (`STRATA_ERR_NOT_FOUND`) and its negative code (-2); errors only HTTP has (no token, another scope, a body too large, a busy server, an unknown route) carry their own name (`UNAUTHORIZED`, `FORBIDDEN`, `CONTENT_TOO_LARGE`, `UNAVAILABLE`, `NO_ROUTE`, ...) and the HTTP status as a positive code.",
        "properties": {
          "error": {
            "type": "object",
            "required": [
              "status",
              "code",
              "message"
            ],
            "additionalProperties": false,
            "properties": {
              "status": {
                "type": "string",
                "examples": [
                  "STRATA_ERR_NOT_FOUND"
                ]
              },
              "code": {
                "type": "integer",
                "examples": [
                  -2
                ]
              },
              "message": {
                "type": "string"
              }
            }
          }
        }
      },
      "Metadata": {
        "type": "object",
        "description": "Free JSON; filters address its keys by dotted path.",
        "additionalProperties": true
      },
      "Filter": {
        "type": "object",
        "description": "A metadata filter: `{\"user\": \"alice\"}`, `{\"n\": {\"$gte\": 3}}`, `$eq $ne $gt $gte $lt $lte $in $nin $exists $contains $and $or $not`, dotted paths. A bad filter is 422 naming the bad part.",
        "additionalProperties": true
      },
      "Visibility": {
        "type": "string",
        "enum": [
          "local",
          "shared",
          "global"
        ]
      },
      "Memory": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "id",
          "content",
          "metadata",
          "scope",
          "visibility",
          "tier",
          "category",
          "importance",
          "pinned",
          "created_at",
          "updated_at",
          "accessed_at",
          "access_count",
          "model",
          "expires_at"
        ],
        "properties": {
          "id": {
            "type": "string"
          },
          "content": {
            "type": "string"
          },
          "metadata": {
            "$ref": "#/components/schemas/Metadata"
          },
          "scope": {
            "type": "string",
            "description": "The scope path, \"\" for the root: org/planner/researcher"
          },
          "visibility": {
            "$ref": "#/components/schemas/Visibility"
          },
          "tier": {
            "type": "string"
          },
          "category": {
            "type": "string"
          },
          "importance": {
            "type": "number",
            "minimum": 0,
            "maximum": 1
          },
          "pinned": {
            "type": "boolean"
          },
          "created_at": {
            "type": "string",
            "format": "date-time",
            "description": "ISO-8601, UTC, milliseconds: 2026-12-06T04:30:00.000Z"
          },
          "updated_at": {
            "type": "string",
            "format": "date-time",
            "description": "ISO-8601, UTC, milliseconds: 2026-12-06T04:30:00.000Z"
          },
          "accessed_at": {
            "type": "string",
            "format": "date-time",
            "description": "ISO-8601, UTC, milliseconds: 2026-12-06T04:30:00.000Z"
          },
          "access_count": {
            "type": "integer",
            "minimum": 0
          },
          "model": {
            "type": "string"
          },
          "expires_at": {
            "anyOf": [
              {
                "type": "string",
                "format": "date-time",
                "description": "ISO-8601, UTC, milliseconds: 2026-12-06T04:30:00.000Z"
              },
              {
                "type": "null"
              }
            ]
          }
        }
      },
      "NewMemory": {
        "type": "object",
        "additionalProperties": false,
        "properties": {
          "content": {
            "type": "string",
            "minLength": 1,
            "description": "Required unless a vector is given."
          },
          "id": {
            "type": "string",
            "description": "An id of the caller's: stores a new memory or replaces that one."
          },
          "metadata": {
            "$ref": "#/components/schemas/Metadata"
          },
          "scope": {
            "type": "string",
            "description": "Default: the token's scope (the root without tokens); must be inside the token's."
          },
          "visibility": {
            "$ref": "#/components/schemas/Visibility"
          },
          "category": {
            "type": "string"
          },
          "importance": {
            "type": "number",
            "minimum": 0,
            "maximum": 1
          },
          "pinned": {
            "type": "boolean"
          },
          "tier": {
            "type": "string"
          },
          "at": {
            "type": "string",
            "description": "When it happened (ISO-8601 with a zone), for memories stored with their real age."
          },
          "ttl_seconds": {
            "type": "number",
            "minimum": 0.001,
            "maximum": 1000000000000.0
          },
          "vector": {
            "description": "The memory's vector, of the store's dimension (GET /v1/stats: `dimension`); the embedder is then not called. Either an array of numbers or a base64 string of little-endian float32s (4 bytes each, as OpenAI's `encoding_format: base64`): the same floats, exact, a quarter of the text to parse.",
            "oneOf": [
              {
                "type": "array",
                "minItems": 1,
                "items": {
                  "type": "number"
                }
              },
              {
                "type": "string",
                "minLength": 1,
                "contentEncoding": "base64"
              }
            ]
          }
        },
        "anyOf": [
          {
            "required": [
              "content"
            ]
          },
          {
            "required": [
              "vector"
            ]
          }
        ]
      },
      "StoreRequest": {
        "description": "One memory, or an atomic batch (`items`: every item a vector or none).",
        "oneOf": [
          {
            "type": "object",
            "additionalProperties": false,
            "properties": {
              "content": {
                "type": "string",
                "minLength": 1,
                "description": "Required unless a vector is given."
              },
              "id": {
                "type": "string",
                "description": "An id of the caller's: stores a new memory or replaces that one."
              },
              "metadata": {
                "$ref": "#/components/schemas/Metadata"
              },
              "scope": {
                "type": "string",
                "description": "Default: the token's scope (the root without tokens); must be inside the token's."
              },
              "visibility": {
                "$ref": "#/components/schemas/Visibility"
              },
              "category": {
                "type": "string"
              },
              "importance": {
                "type": "number",
                "minimum": 0,
                "maximum": 1
              },
              "pinned": {
                "type": "boolean"
              },
              "tier": {
                "type": "string"
              },
              "at": {
                "type": "string",
                "description": "When it happened (ISO-8601 with a zone), for memories stored with their real age."
              },
              "ttl_seconds": {
                "type": "number",
                "minimum": 0.001,
                "maximum": 1000000000000.0
              },
              "vector": {
                "description": "The memory's vector, of the store's dimension (GET /v1/stats: `dimension`); the embedder is then not called. Either an array of numbers or a base64 string of little-endian float32s (4 bytes each, as OpenAI's `encoding_format: base64`): the same floats, exact, a quarter of the text to parse.",
                "oneOf": [
                  {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                      "type": "number"
                    }
                  },
                  {
                    "type": "string",
                    "minLength": 1,
                    "contentEncoding": "base64"
                  }
                ]
              }
            },
            "anyOf": [
              {
                "required": [
                  "content"
                ]
              },
              {
                "required": [
                  "vector"
                ]
              }
            ]
          },
          {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "items"
            ],
            "properties": {
              "items": {
                "type": "array",
                "minItems": 1,
                "items": {
                  "$ref": "#/components/schemas/NewMemory"
                }
              },
              "dedupe": {
                "type": "boolean",
                "description": "Merge near-identical memories (default: the configuration's)."
              }
            }
          }
        ]
      },
      "StoreAnswer": {
        "description": "`id` for one memory stored without a vector; `ids` for a batch or a memory with a vector. `deduplicated` lists the ids that merged into a near-identical memory.",
        "oneOf": [
          {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "id",
              "deduplicated"
            ],
            "properties": {
              "id": {
                "type": "string"
              },
              "deduplicated": {
                "type": "array",
                "items": {
                  "type": "string"
                }
              }
            }
          },
          {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "ids",
              "deduplicated"
            ],
            "properties": {
              "ids": {
                "type": "array",
                "items": {
                  "type": "string"
                }
              },
              "deduplicated": {
                "type": "array",
                "items": {
                  "type": "string"
                }
              }
            }
          }
        ]
      },
      "RecallRequest": {
        "type": "object",
        "additionalProperties": false,
        "description": "By text (`query`), by vector, or neither: what the token sees by recency and importance.",
        "properties": {
          "query": {
            "type": "string"
          },
          "vector": {
            "description": "The memory's vector, of the store's dimension (GET /v1/stats: `dimension`); the embedder is then not called. Either an array of numbers or a base64 string of little-endian float32s (4 bytes each, as OpenAI's `encoding_format: base64`): the same floats, exact, a quarter of the text to parse.",
            "oneOf": [
              {
                "type": "array",
                "minItems": 1,
                "items": {
                  "type": "number"
                }
              },
              {
                "type": "string",
                "minLength": 1,
                "contentEncoding": "base64"
              }
            ]
          },
          "k": {
            "type": "integer",
            "minimum": 1,
            "maximum": 10000
          },
          "filter": {
            "$ref": "#/components/schemas/Filter"
          },
          "scope": {
            "type": "string"
          },
          "tiers": {
            "type": "array",
            "items": {
              "type": "string"
            }
          },
          "category": {
            "type": "string"
          },
          "track_access": {
            "type": "boolean",
            "description": "false: read without counting an access."
          }
        }
      },
      "Scores": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "vector",
          "keyword",
          "fused",
          "recency",
          "importance",
          "access"
        ],
        "properties": {
          "vector": {
            "type": [
              "number",
              "null"
            ]
          },
          "keyword": {
            "type": [
              "number",
              "null"
            ]
          },
          "fused": {
            "type": "number"
          },
          "recency": {
            "type": "number"
          },
          "importance": {
            "type": "number"
          },
          "access": {
            "type": "number"
          },
          "kernel": {
            "type": "number",
            "description": "Only with a working-memory kernel configured."
          }
        }
      },
      "Hit": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "id",
          "content",
          "metadata",
          "scope",
          "tier",
          "category",
          "score",
          "scores"
        ],
        "properties": {
          "id": {
            "type": "string"
          },
          "content": {
            "type": "string"
          },
          "metadata": {
            "$ref": "#/components/schemas/Metadata"
          },
          "scope": {
            "type": "string"
          },
          "tier": {
            "type": "string"
          },
          "category": {
            "type": "string"
          },
          "score": {
            "type": "number"
          },
          "scores": {
            "$ref": "#/components/schemas/Scores"
          }
        }
      },
      "RecallAnswer": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "hits"
        ],
        "properties": {
          "hits": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Hit"
            }
          }
        }
      },
      "ListRequest": {
        "type": "object",
        "additionalProperties": false,
        "description": "Which memories (what a recall with the same filter, scope, tiers and category could find, within the token's scope) and which page of them. The request of the C ABI's `strata_engine_list`.",
        "properties": {
          "filter": {
            "$ref": "#/components/schemas/Filter"
          },
          "scope": {
            "type": "string",
            "description": "List as this node of the agent tree sees; default: the token's scope (every memory without tokens). Must be inside the token's."
          },
          "tiers": {
            "type": "array",
            "items": {
              "type": "string"
            }
          },
          "category": {
            "type": "string"
          },
          "ids": {
            "type": "array",
            "items": {
              "type": "string"
            },
            "description": "Only these memories; ids that are not there (or not in the token's scope) are left out."
          },
          "limit": {
            "type": "integer",
            "minimum": 0,
            "maximum": 10000,
            "description": "At most this many memories (0: only the total). Default and most: 10000 a page; page on with `offset`."
          },
          "offset": {
            "type": "integer",
            "minimum": 0,
            "maximum": 2147483647,
            "description": "Memories to skip before the first one answered."
          }
        }
      },
      "ListAnswer": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "memories",
          "total"
        ],
        "properties": {
          "memories": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Memory"
            },
            "description": "Oldest first (creation time, then id)."
          },
          "total": {
            "type": "integer",
            "minimum": 0,
            "description": "Every memory that matches, whatever limit and offset."
          }
        }
      },
      "CountRequest": {
        "type": "object",
        "additionalProperties": false,
        "description": "The selection of a list request, without its page.",
        "properties": {
          "filter": {
            "$ref": "#/components/schemas/Filter"
          },
          "scope": {
            "type": "string",
            "description": "List as this node of the agent tree sees; default: the token's scope (every memory without tokens). Must be inside the token's."
          },
          "tiers": {
            "type": "array",
            "items": {
              "type": "string"
            }
          },
          "category": {
            "type": "string"
          }
        }
      },
      "CountAnswer": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "total"
        ],
        "properties": {
          "total": {
            "type": "integer",
            "minimum": 0,
            "description": "What a list request with the same selection answers as `total`."
          }
        }
      },
      "EmbedRequest": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "texts"
        ],
        "properties": {
          "texts": {
            "type": "array",
            "maxItems": 512,
            "items": {
              "type": "string"
            },
            "description": "At most 512 texts a request, without NUL characters; \"\" is valid."
          }
        }
      },
      "EmbedAnswer": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "vectors",
          "dimension",
          "model"
        ],
        "properties": {
          "vectors": {
            "type": "array",
            "items": {
              "type": "array",
              "items": {
                "type": "number"
              }
            },
            "description": "Row i embeds text i, `dimension` numbers each: float32 values written exactly."
          },
          "dimension": {
            "type": "integer",
            "minimum": 1
          },
          "model": {
            "type": "string",
            "description": "The embedder's model id: the space the vectors live in."
          }
        }
      },
      "UpdateRequest": {
        "type": "object",
        "additionalProperties": false,
        "minProperties": 1,
        "description": "At least one change. `id`, when given, must be the path's.",
        "properties": {
          "id": {
            "type": "string"
          },
          "content": {
            "type": "string",
            "minLength": 1
          },
          "metadata": {
            "$ref": "#/components/schemas/Metadata"
          },
          "category": {
            "type": "string"
          },
          "importance": {
            "type": "number",
            "minimum": 0,
            "maximum": 1
          },
          "pinned": {
            "type": "boolean"
          },
          "visibility": {
            "$ref": "#/components/schemas/Visibility"
          }
        }
      },
      "HistoryEntry": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "event",
          "memory_id",
          "at",
          "reason",
          "old",
          "new"
        ],
        "properties": {
          "event": {
            "type": "string",
            "enum": [
              "ADD",
              "UPDATE",
              "DELETE"
            ]
          },
          "memory_id": {
            "type": "string"
          },
          "at": {
            "type": "string",
            "format": "date-time",
            "description": "ISO-8601, UTC, milliseconds: 2026-12-06T04:30:00.000Z"
          },
          "reason": {
            "type": "string"
          },
          "old": {
            "anyOf": [
              {
                "$ref": "#/components/schemas/Memory"
              },
              {
                "type": "null"
              }
            ]
          },
          "new": {
            "anyOf": [
              {
                "$ref": "#/components/schemas/Memory"
              },
              {
                "type": "null"
              }
            ]
          }
        }
      },
      "HistoryAnswer": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "history"
        ],
        "properties": {
          "history": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/HistoryEntry"
            }
          }
        }
      },
      "ForgetRequest": {
        "description": "One memory by id, or every memory the scope owns that matches a filter (a filter with no condition needs `all: true`). Default scope: the token's.",
        "oneOf": [
          {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "id"
            ],
            "properties": {
              "id": {
                "type": "string"
              }
            }
          },
          {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "filter"
            ],
            "properties": {
              "filter": {
                "$ref": "#/components/schemas/Filter"
              },
              "scope": {
                "type": "string"
              },
              "all": {
                "type": "boolean"
              }
            }
          }
        ]
      },
      "ForgetAnswer": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "forgotten"
        ],
        "properties": {
          "forgotten": {
            "type": "array",
            "items": {
              "type": "string"
            }
          }
        }
      },
      "Pruned": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "age",
          "relevance",
          "redundancy",
          "capacity"
        ],
        "properties": {
          "age": {
            "type": "integer",
            "minimum": 0
          },
          "relevance": {
            "type": "integer",
            "minimum": 0
          },
          "redundancy": {
            "type": "integer",
            "minimum": 0
          },
          "capacity": {
            "type": "integer",
            "minimum": 0
          }
        }
      },
      "Stats": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "memories",
          "expired",
          "by_tier",
          "by_category",
          "by_scope",
          "dimension",
          "store",
          "embedder",
          "summarizer",
          "operations",
          "access",
          "patterns",
          "lifecycle",
          "space",
          "index"
        ],
        "properties": {
          "memories": {
            "type": "integer",
            "minimum": 0
          },
          "expired": {
            "type": "integer",
            "minimum": 0
          },
          "by_tier": {
            "type": "object",
            "additionalProperties": {
              "type": "integer"
            }
          },
          "by_category": {
            "type": "object",
            "additionalProperties": {
              "type": "integer"
            }
          },
          "by_scope": {
            "type": "object",
            "additionalProperties": {
              "type": "integer"
            }
          },
          "dimension": {
            "type": "integer",
            "minimum": 0
          },
          "store": {
            "type": "string"
          },
          "embedder": {
            "type": "string"
          },
          "summarizer": {
            "type": "string"
          },
          "operations": {
            "type": "object",
            "additionalProperties": {
              "type": "integer"
            }
          },
          "access": {
            "type": "object",
            "additionalProperties": false,
            "required": [
              "never",
              "last_day",
              "last_week",
              "mean_count",
              "max_count"
            ],
            "properties": {
              "never": {
                "type": "integer",
                "minimum": 0
              },
              "last_day": {
                "type": "integer",
                "minimum": 0
              },
              "last_week": {
                "type": "integer",
                "minimum": 0
              },
              "mean_count": {
                "type": "number"
              },
              "max_count": {
                "type": "integer",
                "minimum": 0
              }
            }
          },
          "patterns": {
            "type": "integer",
            "minimum": 0
          },
          "lifecycle": {
            "type": "object",
            "description": "Totals over every lifecycle cycle the store has run.",
            "additionalProperties": false,
            "required": [
              "cycles",
              "last_cycle_at",
              "migrated",
              "pruned",
              "consolidated",
              "consolidated_sources",
              "patterns_written",
              "compressed",
              "bytes_before_compression",
              "bytes_after_compression",
              "compression_ratio",
              "errors"
            ],
            "properties": {
              "cycles": {
                "type": "integer",
                "minimum": 0
              },
              "last_cycle_at": {
                "anyOf": [
                  {
                    "type": "string",
                    "format": "date-time",
                    "description": "ISO-8601, UTC, milliseconds: 2026-12-06T04:30:00.000Z"
                  },
                  {
                    "type": "null"
                  }
                ]
              },
              "migrated": {
                "type": "object",
                "additionalProperties": {
                  "type": "integer"
                }
              },
              "pruned": {
                "$ref": "#/components/schemas/Pruned"
              },
              "consolidated": {
                "type": "integer",
                "minimum": 0
              },
              "consolidated_sources": {
                "type": "integer",
                "minimum": 0
              },
              "patterns_written": {
                "type": "integer",
                "minimum": 0
              },
              "compressed": {
                "type": "integer",
                "minimum": 0
              },
              "bytes_before_compression": {
                "type": "integer",
                "minimum": 0
              },
              "bytes_after_compression": {
                "type": "integer",
                "minimum": 0
              },
              "compression_ratio": {
                "type": [
                  "number",
                  "null"
                ]
              },
              "errors": {
                "type": "integer",
                "minimum": 0
              }
            }
          },
          "space": {
            "type": "object",
            "description": "The embedding space the vectors were made in.",
            "additionalProperties": false,
            "required": [
              "embedder",
              "model_id",
              "dimension",
              "normalized"
            ],
            "properties": {
              "embedder": {
                "type": "string"
              },
              "model_id": {
                "type": "string"
              },
              "dimension": {
                "type": "integer",
                "minimum": 0
              },
              "normalized": {
                "type": [
                  "boolean",
                  "null"
                ]
              }
            }
          },
          "index": {
            "type": [
              "object",
              "null"
            ],
            "description": "The store's vector index and the memory it holds in the serving process (not its files on disk); null when the store does not report it (a plugin built for ABI 1.7 or older). m, ef_construction and ef_search come together, for hnsw only; mapped is present for stores that can answer from an index image mapped from disk (the SQLite store), and bytes.vectors then counts the rows read in so far.",
            "additionalProperties": false,
            "required": [
              "kind",
              "rows",
              "compression",
              "bytes"
            ],
            "properties": {
              "kind": {
                "type": "string",
                "enum": [
                  "exact",
                  "hnsw"
                ]
              },
              "rows": {
                "type": "integer",
                "minimum": 0
              },
              "m": {
                "type": "integer",
                "minimum": 1
              },
              "ef_construction": {
                "type": "integer",
                "minimum": 1
              },
              "ef_search": {
                "type": "integer",
                "minimum": 1
              },
              "compression": {
                "type": "string",
                "enum": [
                  "none",
                  "fp16",
                  "int8"
                ]
              },
              "mapped": {
                "type": "boolean"
              },
              "bytes": {
                "type": "object",
                "description": "vectors: the float rows, norms included; codes: the compressed copies a graph walks on (0 without compression); graph: links, levels and flags (0 without a graph); total: the sum of the three.",
                "additionalProperties": false,
                "required": [
                  "vectors",
                  "codes",
                  "graph",
                  "total"
                ],
                "properties": {
                  "vectors": {
                    "type": "integer",
                    "minimum": 0
                  },
                  "codes": {
                    "type": "integer",
                    "minimum": 0
                  },
                  "graph": {
                    "type": "integer",
                    "minimum": 0
                  },
                  "total": {
                    "type": "integer",
                    "minimum": 0
                  }
                }
              }
            }
          }
        }
      },
      "MetabolizeRequest": {
        "type": "object",
        "additionalProperties": false,
        "properties": {
          "now": {
            "type": "string",
            "description": "The cycle's time (ISO-8601 with a zone); default: now."
          },
          "dry_run": {
            "type": "boolean",
            "description": "Report what would move, change nothing."
          },
          "moves": {
            "type": "boolean",
            "description": "false: leave the list of moves out of the answer."
          }
        }
      },
      "MetabolizeReport": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "at",
          "dry_run",
          "before",
          "after",
          "migrated",
          "pruned",
          "consolidated",
          "consolidated_sources",
          "patterns",
          "compressed",
          "bytes_before_compression",
          "bytes_after_compression",
          "pinned_kept",
          "duration_ms",
          "errors"
        ],
        "properties": {
          "at": {
            "type": "string",
            "format": "date-time",
            "description": "ISO-8601, UTC, milliseconds: 2026-12-06T04:30:00.000Z"
          },
          "dry_run": {
            "type": "boolean"
          },
          "before": {
            "type": "integer",
            "minimum": 0
          },
          "after": {
            "type": "integer",
            "minimum": 0
          },
          "migrated": {
            "type": "object",
            "additionalProperties": {
              "type": "integer"
            }
          },
          "pruned": {
            "$ref": "#/components/schemas/Pruned"
          },
          "consolidated": {
            "type": "integer",
            "minimum": 0
          },
          "consolidated_sources": {
            "type": "integer",
            "minimum": 0
          },
          "patterns": {
            "type": "integer",
            "minimum": 0
          },
          "compressed": {
            "type": "integer",
            "minimum": 0
          },
          "bytes_before_compression": {
            "type": "integer",
            "minimum": 0
          },
          "bytes_after_compression": {
            "type": "integer",
            "minimum": 0
          },
          "pinned_kept": {
            "type": "integer",
            "minimum": 0
          },
          "duration_ms": {
            "type": "number"
          },
          "errors": {
            "type": "array",
            "items": {
              "type": "string"
            }
          },
          "moves": {
            "type": "array",
            "items": {
              "type": "object",
              "additionalProperties": false,
              "required": [
                "id",
                "action",
                "from",
                "to",
                "reason"
              ],
              "properties": {
                "id": {
                  "type": "string"
                },
                "action": {
                  "type": "string"
                },
                "from": {
                  "type": "string"
                },
                "to": {
                  "type": [
                    "string",
                    "null"
                  ]
                },
                "reason": {
                  "type": "string"
                }
              }
            }
          }
        }
      },
      "AnomaliesRequest": {
        "type": "object",
        "additionalProperties": false,
        "properties": {
          "threshold": {
            "type": "number",
            "minimum": 0,
            "maximum": 1
          },
          "limit": {
            "type": "integer",
            "minimum": 1,
            "maximum": 2147483647
          },
          "filter": {
            "$ref": "#/components/schemas/Filter"
          },
          "scope": {
            "type": "string"
          },
          "tiers": {
            "type": "array",
            "items": {
              "type": "string"
            }
          },
          "category": {
            "type": "string"
          }
        }
      },
      "AnomaliesAnswer": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "anomalies",
          "scored",
          "threshold"
        ],
        "properties": {
          "anomalies": {
            "type": "array",
            "items": {
              "type": "object",
              "additionalProperties": false,
              "required": [
                "id",
                "content",
                "metadata",
                "scope",
                "tier",
                "category",
                "score"
              ],
              "properties": {
                "id": {
                  "type": "string"
                },
                "content": {
                  "type": "string"
                },
                "metadata": {
                  "$ref": "#/components/schemas/Metadata"
                },
                "scope": {
                  "type": "string"
                },
                "tier": {
                  "type": "string"
                },
                "category": {
                  "type": "string"
                },
                "score": {
                  "type": "number"
                }
              }
            }
          },
          "scored": {
            "type": "integer",
            "minimum": 0
          },
          "threshold": {
            "type": "number"
          }
        }
      },
      "SnapshotRequest": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "name"
        ],
        "properties": {
          "name": {
            "type": "string",
            "pattern": "^[A-Za-z0-9._-]{1,64}$",
            "description": "1 to 64 of A-Z a-z 0-9 . _ - (anything else is 422)."
          }
        }
      },
      "Snapshot": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "name",
          "created_at",
          "memories",
          "bytes"
        ],
        "properties": {
          "name": {
            "type": "string"
          },
          "created_at": {
            "type": "string",
            "format": "date-time",
            "description": "ISO-8601, UTC, milliseconds: 2026-12-06T04:30:00.000Z"
          },
          "memories": {
            "type": "integer",
            "minimum": 0
          },
          "bytes": {
            "type": [
              "integer",
              "null"
            ],
            "minimum": 0,
            "description": "null for a snapshot kept in RAM."
          }
        }
      },
      "Snapshots": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "snapshots"
        ],
        "properties": {
          "snapshots": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/Snapshot"
            }
          }
        }
      },
      "RollbackAnswer": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "snapshot",
          "added",
          "removed",
          "changed"
        ],
        "properties": {
          "snapshot": {
            "type": "string"
          },
          "added": {
            "type": "array",
            "items": {
              "type": "string"
            }
          },
          "removed": {
            "type": "array",
            "items": {
              "type": "string"
            }
          },
          "changed": {
            "type": "array",
            "items": {
              "type": "string"
            }
          }
        }
      },
      "Deleted": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "deleted"
        ],
        "properties": {
          "deleted": {
            "type": "string"
          }
        }
      },
      "Schedule": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "every_seconds",
          "runs",
          "failed",
          "last_error"
        ],
        "properties": {
          "every_seconds": {
            "type": "number"
          },
          "runs": {
            "type": "integer",
            "minimum": 0
          },
          "failed": {
            "type": "integer",
            "minimum": 0
          },
          "last_error": {
            "type": [
              "string",
              "null"
            ]
          }
        }
      },
      "Health": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "status",
          "in_flight",
          "events"
        ],
        "properties": {
          "status": {
            "const": "ok"
          },
          "in_flight": {
            "type": "integer",
            "minimum": 0
          },
          "events": {
            "type": "integer",
            "minimum": 0,
            "description": "The last event's sequence number."
          },
          "lifecycle": {
            "$ref": "#/components/schemas/Schedule"
          },
          "anomaly_scan": {
            "$ref": "#/components/schemas/Schedule"
          }
        }
      },
      "Version": {
        "type": "object",
        "additionalProperties": false,
        "required": [
          "version",
          "api"
        ],
        "properties": {
          "version": {
            "type": "string"
          },
          "api": {
            "const": "v1"
          }
        }
      },
      "WhoAmI": {
        "type": "object",
        "required": [
          "scope",
          "role",
          "token_id",
          "tokens_required"
        ],
        "properties": {
          "scope": {
            "type": "string",
            "description": "The token's scope (\"\" for the root)."
          },
          "role": {
            "type": "string",
            "enum": [
              "read",
              "write",
              "admin"
            ]
          },
          "token_id": {
            "type": [
              "string",
              "null"
            ],
            "description": "The token's id (never its secret); null without a token file."
          },
          "tokens_required": {
            "type": "boolean"
          }
        },
        "additionalProperties": false
      },
      "LifecycleCycle": {
        "type": "object",
        "required": [
          "at",
          "migrated",
          "migrated_total",
          "pruned",
          "pruned_total",
          "consolidated",
          "consolidated_sources",
          "patterns",
          "compressed",
          "errors"
        ],
        "properties": {
          "at": {
            "type": "string"
          },
          "migrated": {
            "type": "object",
            "additionalProperties": {
              "type": "integer",
              "minimum": 0
            },
            "description": "Moves per tier edge, \"from->to\"."
          },
          "migrated_total": {
            "type": "integer",
            "minimum": 0
          },
          "pruned": {
            "type": "object",
            "additionalProperties": {
              "type": "integer",
              "minimum": 0
            },
            "description": "Pruned per rule: age, relevance, redundancy, capacity."
          },
          "pruned_total": {
            "type": "integer",
            "minimum": 0
          },
          "consolidated": {
            "type": "integer",
            "minimum": 0
          },
          "consolidated_sources": {
            "type": "integer",
            "minimum": 0
          },
          "patterns": {
            "type": "integer",
            "minimum": 0
          },
          "compressed": {
            "type": "integer",
            "minimum": 0
          },
          "errors": {
            "type": "integer",
            "minimum": 0
          }
        },
        "additionalProperties": false
      },
      "LifecycleCycles": {
        "type": "object",
        "required": [
          "cycles",
          "total"
        ],
        "properties": {
          "cycles": {
            "type": "array",
            "items": {
              "$ref": "#/components/schemas/LifecycleCycle"
            }
          },
          "total": {
            "type": "integer",
            "minimum": 0
          }
        },
        "additionalProperties": false
      }
    },
    "responses": {
      "E400": {
        "description": "The body is not the request's JSON: bad syntax or UTF-8, too deep, an unknown key, a wrong type (`STRATA_ERR_INVALID_JSON`, `STRATA_ERR_INVALID_UTF8`).",
        "headers": {
          "X-Request-Id": {
            "$ref": "#/components/headers/RequestId"
          }
        },
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "E401": {
        "description": "No token, or one the store does not know (when the store has a token file).",
        "headers": {
          "X-Request-Id": {
            "$ref": "#/components/headers/RequestId"
          },
          "WWW-Authenticate": {
            "description": "`Bearer`",
            "schema": {
              "type": "string"
            },
            "required": true
          }
        },
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "E403": {
        "description": "The token's role or scope does not allow this.",
        "headers": {
          "X-Request-Id": {
            "$ref": "#/components/headers/RequestId"
          }
        },
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "E404": {
        "description": "No such memory or snapshot, or one outside the token's scope (answered exactly as an unknown one).",
        "headers": {
          "X-Request-Id": {
            "$ref": "#/components/headers/RequestId"
          }
        },
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "E409": {
        "description": "It exists already.",
        "headers": {
          "X-Request-Id": {
            "$ref": "#/components/headers/RequestId"
          }
        },
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "E413": {
        "description": "The body is larger than the server takes (`--max-body`).",
        "headers": {
          "X-Request-Id": {
            "$ref": "#/components/headers/RequestId"
          }
        },
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "E422": {
        "description": "A well-formed request with a value the engine refuses: a bad scope, vector, dimension, filter, name, time or range.",
        "headers": {
          "X-Request-Id": {
            "$ref": "#/components/headers/RequestId"
          }
        },
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "E426": {
        "description": "A plain GET: this is a WebSocket.",
        "headers": {
          "X-Request-Id": {
            "$ref": "#/components/headers/RequestId"
          }
        },
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "E500": {
        "description": "The server's own failure (I/O, a backend, a plugin), never a request's fault; see the server's log under the request id.",
        "headers": {
          "X-Request-Id": {
            "$ref": "#/components/headers/RequestId"
          }
        },
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "E501": {
        "description": "The store does not support this (e.g. snapshots on a store without them).",
        "headers": {
          "X-Request-Id": {
            "$ref": "#/components/headers/RequestId"
          }
        },
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      },
      "E503": {
        "description": "Busy (`--max-pending` engine calls in flight; try again) or the token file cannot be read.",
        "headers": {
          "X-Request-Id": {
            "$ref": "#/components/headers/RequestId"
          }
        },
        "content": {
          "application/json": {
            "schema": {
              "$ref": "#/components/schemas/Error"
            }
          }
        }
      }
    },
    "headers": {
      "RequestId": {
        "description": "The request's id: the client's `X-Request-Id` when it is 1 to 128 visible ASCII characters, else one the server made. Every log line about the request carries it.",
        "required": true,
        "schema": {
          "type": "string",
          "minLength": 1,
          "maxLength": 128
        }
      },
      "ServerTiming": {
        "description": "How long the engine call took (W3C Server Timing): `engine;dur=` and milliseconds to the microsecond, such as `engine;dur=0.263`. The rest of the time the client measured is the server's own work, the network's and the client's.",
        "required": true,
        "schema": {
          "type": "string",
          "pattern": "^engine;dur=[0-9]+\\.[0-9]{3}$"
        }
      }
    },
    "securitySchemes": {
      "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "A token of `strata token create`; needed only when the store has a token file."
      }
    }
  }
}

"""##
}
