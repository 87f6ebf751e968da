# Generates openapi.json (the OpenAPI 3 document served at /openapi.json): python3 openapi.py > openapi.json
import json
E = lambda d: {"description": d, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
errs = {
 "400": "Invalid request, Cypher error or limit exceeded",
 "401": "Missing, malformed or refused credentials",
 "403": "Not allowed (privileges, token narrowed to another graph, transaction of another user)",
 "404": "Unknown graph, transaction or stored query",
 "409": "Another request is running in this transaction",
 "413": "Request body larger than http.max_body_size",
 "415": "Request body is not JSON",
 "429": "Too many open transactions",
 "500": "Internal error",
}
def errors(*codes):
    return {c: E(errs[c]) for c in codes}
graph = {"name": "graph", "in": "path", "required": True, "schema": {"type": "string"}, "example": "neo4j", "description": "Graph (database) name"}
sgraph = {"name": "graph", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,63}$"}, "example": "neo4j", "description": "Graph (database) name"}
txid = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}, "description": "Transaction id"}
qname = {"name": "name", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]{0,127}$"}, "example": "hello", "description": "Stored query name: letters, digits and _"}
qjson = {"application/json": {"schema": {"$ref": "#/components/schemas/QueryResponse"}},
         "application/vnd.neo4j.query": {"schema": {"$ref": "#/components/schemas/QueryResponse"}}}
txjson = {"application/json": {"schema": {"$ref": "#/components/schemas/TxResponse"}},
          "application/vnd.neo4j.query": {"schema": {"$ref": "#/components/schemas/TxResponse"}}}
def body(ref, required):
    return {"required": required, "content": {"application/json": {"schema": {"$ref": ref}}}}
sec = [{"basicAuth": []}, {"bearerAuth": []}]
paths = {
 "/": {"get": {"operationId": "discovery", "summary": "Endpoints and version", "security": [],
   "responses": {"200": {"description": "Discovery document", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Discovery"}}}}}}},
 "/ping": {"get": {"operationId": "ping", "summary": "Liveness (no auth)", "security": [],
   "responses": {"204": {"description": "Alive", "headers": {"X-Graphward-Version": {"required": True, "schema": {"type": "string"}}}}}}},
 "/health": {"get": {"operationId": "health", "summary": "Status (no auth); with valid credentials also version, uptime, storage (database names), TLS certificate expiry", "security": [],
   "responses": {"200": {"description": "Healthy", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}},
                 "503": {"description": "Storage unavailable", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Health"}}}}}}},
 "/metrics": {"get": {"operationId": "metrics", "summary": "Prometheus metrics (no auth)", "security": [],
   "responses": {"200": {"description": "Prometheus text format 0.0.4", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
 "/openapi.json": {"get": {"operationId": "openapi", "summary": "This document", "security": [],
   "responses": {"200": {"description": "OpenAPI 3 document", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
 "/db/{graph}/query/v2": {"post": {"operationId": "query", "summary": "Run one Cypher statement in its own transaction (Neo4j Query API v2)",
   "description": "Accept: application/vnd.neo4j.query selects typed JSON ({\"$type\":..,\"_value\":..}); Content-Type: application/vnd.neo4j.query reads typed parameters. Results are streamed.",
   "parameters": [graph], "requestBody": body("#/components/schemas/QueryRequest", True),
   "responses": {"202": {"description": "Result", "content": qjson}, **errors("400", "401", "403", "404", "413", "415", "500")}}},
 "/db/{graph}/query/v2/tx": {"post": {"operationId": "openTransaction", "summary": "Open an explicit transaction, optionally running a statement",
   "parameters": [graph], "requestBody": body("#/components/schemas/TxRequest", False),
   "responses": {"202": {"description": "Transaction opened", "content": txjson}, **errors("400", "401", "403", "404", "413", "415", "429", "500")}}},
 "/db/{graph}/query/v2/tx/{id}": {
   "post": {"operationId": "runInTransaction", "summary": "Run a statement in an open transaction (also resets its idle timer)",
     "parameters": [graph, txid], "requestBody": body("#/components/schemas/TxRequest", False),
     "responses": {"202": {"description": "Result", "content": txjson}, **errors("400", "401", "403", "404", "409", "413", "415", "500")}},
   "delete": {"operationId": "rollbackTransaction", "summary": "Roll back an open transaction",
     "parameters": [graph, txid],
     "responses": {"202": {"description": "Rolled back", "content": qjson}, **errors("400", "401", "403", "404", "409", "413", "500")}}},
 "/db/{graph}/query/v2/tx/{id}/commit": {"post": {"operationId": "commitTransaction", "summary": "Run an optional last statement and commit",
   "parameters": [graph, txid], "requestBody": body("#/components/schemas/TxRequest", False),
   "responses": {"202": {"description": "Committed", "content": qjson}, **errors("400", "401", "403", "404", "409", "413", "415", "500")}}},
 "/queries/{graph}": {"get": {"operationId": "listStoredQueries", "summary": "Stored queries of a graph",
   "parameters": [graph],
   "responses": {"200": {"description": "Stored queries", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StoredQueryList"}}}}, **errors("400", "401", "403", "404", "413", "500")}}},
 "/queries/{graph}/{name}": {
   "put": {"operationId": "installStoredQuery", "summary": "Install or replace a stored query (admin)",
     "parameters": [sgraph, qname], "requestBody": body("#/components/schemas/InstallRequest", True),
     "responses": {"200": {"description": "Replaced", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StoredQuery"}}}},
                   "201": {"description": "Installed", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StoredQuery"}}}},
                   **errors("400", "401", "403", "404", "413", "415", "500")}},
   "get": {"operationId": "getStoredQuery", "summary": "One stored query", "parameters": [graph, qname],
     "responses": {"200": {"description": "The query", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StoredQuery"}}}}, **errors("400", "401", "403", "404", "413", "500")}},
   "delete": {"operationId": "dropStoredQuery", "summary": "Drop a stored query (admin)", "parameters": [graph, qname],
     "responses": {"200": {"description": "Dropped (the query as it was)", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StoredQuery"}}}}, **errors("400", "401", "403", "404", "413", "500")}}},
}
qparams = {"name": "params", "in": "query", "required": False, "style": "form", "explode": True,
  "schema": {"type": "object", "additionalProperties": {"type": "string"}},
  "description": "Query parameters; values are typed by simple rules: integer, float, true/false, else string. A repeated name makes a list."}
restpp_resp = {"200": {"description": "Rows as objects", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RestppResponse"}}}},
  **errors("400", "401", "403", "404", "413", "415", "500")}
paths["/restpp/query/{graph}/{name}"] = {
  "get": {"operationId": "runStoredQuery", "summary": "Run a stored query with parameters from the query string", "parameters": [graph, qname, qparams], "responses": restpp_resp},
  "post": {"operationId": "runStoredQueryPost", "summary": "Run a stored query; parameters from the query string and a JSON object body", "parameters": [graph, qname, qparams],
    "requestBody": {"required": False, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}}}, "responses": restpp_resp},
}
counters = {"type": "object", "required": ["containsUpdates", "nodesCreated", "nodesDeleted", "propertiesSet", "relationshipsCreated", "relationshipsDeleted",
  "labelsAdded", "labelsRemoved", "indexesAdded", "indexesRemoved", "constraintsAdded", "constraintsRemoved", "containsSystemUpdates", "systemUpdates"],
  "properties": {k: {"type": "boolean"} if k.startswith("contains") else {"type": "integer", "minimum": 0} for k in
   ["containsUpdates", "nodesCreated", "nodesDeleted", "propertiesSet", "relationshipsCreated", "relationshipsDeleted",
    "labelsAdded", "labelsRemoved", "indexesAdded", "indexesRemoved", "constraintsAdded", "constraintsRemoved", "containsSystemUpdates", "systemUpdates"]}}
schemas = {
 "Error": {"type": "object", "required": ["errors"], "properties": {"errors": {"type": "array", "minItems": 1, "items": {
    "type": "object", "required": ["code", "message"], "properties": {"code": {"type": "string"}, "message": {"type": "string"}}}}}},
 "QueryRequest": {"type": "object", "required": ["statement"], "example": {"statement": "RETURN $x AS x", "parameters": {"x": 1}}, "properties": {
    "statement": {"type": "string", "minLength": 1, "pattern": "\\S", "description": "A Cypher statement"},
    "parameters": {"type": "object", "additionalProperties": True},
    "accessMode": {"type": "string", "enum": ["READ", "WRITE"]},
    "includeCounters": {"type": "boolean"},
    "bookmarks": {"type": "array", "items": {"type": "string"}}}},
 "TxRequest": {"type": "object", "properties": {
    "statement": {"type": "string"},
    "parameters": {"type": "object", "additionalProperties": True},
    "accessMode": {"type": "string", "enum": ["READ", "WRITE"]},
    "includeCounters": {"type": "boolean"},
    "bookmarks": {"type": "array", "items": {"type": "string"}}}},
 "Counters": counters,
 "Data": {"type": "object", "required": ["fields", "values"], "properties": {
    "fields": {"type": "array", "items": {"type": "string"}},
    "values": {"type": "array", "items": {"type": "array", "items": {}}}}},
 "QueryResponse": {"type": "object", "required": ["data", "counters", "bookmarks"], "properties": {
    "data": {"$ref": "#/components/schemas/Data"},
    "counters": {"$ref": "#/components/schemas/Counters"},
    "bookmarks": {"type": "array", "items": {"type": "string"}}}},
 "TxResponse": {"type": "object", "required": ["data", "counters", "bookmarks", "transaction"], "properties": {
    "data": {"$ref": "#/components/schemas/Data"},
    "counters": {"$ref": "#/components/schemas/Counters"},
    "bookmarks": {"type": "array", "items": {"type": "string"}},
    "transaction": {"type": "object", "required": ["id", "expires"], "properties": {"id": {"type": "string"}, "expires": {"type": "string", "description": "RFC 3339, UTC"}}}}},
 "Health": {"type": "object", "required": ["status"], "properties": {
    "status": {"type": "string", "enum": ["ok", "unavailable"]},
    "version": {"type": "string"},
    "uptime_seconds": {"type": "integer", "minimum": 0},
    "storage": {"type": "object", "required": ["state"], "properties": {"state": {"type": "string"}, "default_database": {"type": "string"}, "databases": {"type": "array", "items": {"type": "string"}}}},
    "tls": {"type": "array", "items": {"type": "object", "required": ["listener", "not_after", "expires_in_seconds"], "properties": {
       "listener": {"type": "string"}, "not_after": {"type": "string"}, "expires_in_seconds": {"type": "integer"},
       "fingerprint_sha256": {"type": "string"}, "last_reload_error": {"type": ["string", "null"]}}}}}},
 "Discovery": {"type": "object", "required": ["graphward"], "properties": {"graphward": {"type": "string"}}},
 "InstallRequest": {"type": "object", "required": ["statement"], "example": {"statement": "RETURN 'hello' AS greeting"}, "properties": {"statement": {"type": "string", "minLength": 1, "maxLength": 65536, "pattern": "\\S", "description": "A Cypher statement using $parameters"}}},
 "StoredQuery": {"type": "object", "required": ["graph", "name", "statement", "parameters", "installed_at"], "properties": {
    "graph": {"type": "string"}, "name": {"type": "string"}, "statement": {"type": "string"},
    "parameters": {"type": "array", "items": {"type": "string"}},
    "installed_by": {"type": ["string", "null"]}, "installed_at": {"type": "integer"}}},
 "StoredQueryList": {"type": "object", "required": ["queries"], "properties": {"queries": {"type": "array", "items": {"$ref": "#/components/schemas/StoredQuery"}}}},
 "RestppResponse": {"type": "object", "required": ["error", "message", "results", "counters"], "properties": {
    "error": {"type": "boolean", "enum": [False]}, "message": {"type": "string"},
    "results": {"type": "array", "items": {"type": "object"}},
    "counters": {"$ref": "#/components/schemas/Counters"},
    "bookmarks": {"type": "array", "items": {"type": "string"}}}},
}
doc = {
 "openapi": "3.1.0",
 "info": {"title": "graphward REST API", "version": "0.1.0",
   "description": "Cypher over HTTP in the shape of Neo4j's Query API v2, stored queries in the TigerGraph RESTPP style, health and metrics. Every error is {\"errors\":[{\"code\",\"message\"}]}."},
 "security": sec,
 "paths": paths,
 "components": {"schemas": schemas, "securitySchemes": {
    "basicAuth": {"type": "http", "scheme": "basic"},
    "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
}
print(json.dumps(doc, indent=2))
