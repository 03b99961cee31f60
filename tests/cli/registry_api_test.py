#!/usr/bin/env python3
"""`evbus serve`'s Confluent Schema Registry REST API over plain HTTP
(urllib): every endpoint, the accepted content types, and every error code
the registry answers with (40401-40409, 409, 42201-42205, 415, 404, 405,
400), with Confluent's bodies {"error_code": N, "message": "..."}.

    python3 tests/cli/registry_api_test.py http://127.0.0.1:PORT [phase]

phase "main" (default) runs everything and leaves subject "kept-value" with
two versions; phase "after-restart" checks that they survived a restart.
Prints "N passed, M failed"; exits non-zero on failure.
"""
import json
import sys
import urllib.error
import urllib.request

base = sys.argv[1]
phase = sys.argv[2] if len(sys.argv) > 2 else "main"
V1 = "application/vnd.schemaregistry.v1+json"
passed = failed = 0


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


def call(method, path, body=None, ctype=V1, raw=None, accept=None):
    """(status, parsed JSON or text, headers)"""
    data = None
    if raw is not None:
        data = raw.encode()
    elif body is not None:
        data = json.dumps(body).encode()
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None and ctype:
        req.add_header("Content-Type", ctype)
    if accept:
        req.add_header("Accept", accept)
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            status, text, headers = r.status, r.read().decode(), r.headers
    except urllib.error.HTTPError as e:
        status, text, headers = e.code, e.read().decode(), e.headers
    try:
        return status, json.loads(text), headers
    except ValueError:
        return status, text, headers


def expect_error(method, path, status, code, body=None, message=None,
                 contains=None, ctype=V1, raw=None):
    s, j, _ = call(method, path, body, ctype=ctype, raw=raw)
    ok = s == status and isinstance(j, dict) and j.get("error_code") == code \
        and isinstance(j.get("message"), str) and set(j) == {"error_code", "message"}
    if ok and message is not None:
        ok = j["message"] == message
    if ok and contains is not None:
        ok = contains in j["message"]
    check(ok, f"{method} {path}: want {status}/{code} {message or contains or ''}, got {s} {j}")
    return j


def rec(fields, name="Order", ns="com.example"):
    return json.dumps({"type": "record", "name": name, "namespace": ns, "fields": fields})


S1 = rec([{"name": "id", "type": "string"}, {"name": "amount", "type": "double"}])
S2 = rec([{"name": "id", "type": "string"}, {"name": "amount", "type": "double"},
          {"name": "currency", "type": "string", "default": "EUR"}])
S3_BAD = rec([{"name": "id", "type": "string"}, {"name": "amount", "type": "double"},
              {"name": "currency", "type": "string", "default": "EUR"},
              {"name": "network", "type": "string"}])


def main_phase():
    # empty registry
    s, j, h = call("GET", "/schemas/types")
    check(s == 200 and j == ["AVRO"], f"schema types {s} {j}")
    check(h.get("Content-Type") == V1, f"content type {h.get('Content-Type')}")
    s, j, _ = call("GET", "/subjects")
    check(s == 200 and j == [], f"no subjects {j}")
    s, j, _ = call("GET", "/config")
    check(s == 200 and j == {"compatibilityLevel": "BACKWARD"}, f"default config {j}")
    s, j, _ = call("GET", "/mode")
    check(s == 200 and j == {"mode": "READWRITE"}, f"default mode {j}")

    # register, with every accepted content type
    for i, ct in enumerate([V1, "application/vnd.schemaregistry+json",
                            "application/json; charset=utf-8",
                            "application/octet-stream"]):
        s, j, _ = call("POST", "/subjects/orders-value/versions", {"schema": S1}, ctype=ct)
        check(s == 200 and j == {"id": 1}, f"register with {ct}: {s} {j}")
    expect_error("POST", "/subjects/orders-value/versions", 415, 415,
                 {"schema": S1}, ctype="text/plain")
    # (what urllib sends when told nothing; Confluent refuses it too)
    expect_error("POST", "/subjects/orders-value/versions", 415, 415,
                 {"schema": S1}, ctype="application/x-www-form-urlencoded")
    s, j, _ = call("POST", "/subjects/orders-copy/versions",
                   {"schema": S1, "schemaType": "AVRO"})
    check(s == 200 and j == {"id": 1}, f"same schema, other subject: same id {j}")
    s, j, _ = call("POST", "/subjects/orders-value/versions", {"schema": S2})
    check(s == 200 and j == {"id": 2}, f"compatible v2 {j}")
    s, j, _ = call("POST", "/subjects/prim/versions", {"schema": '"string"'})
    check(s == 200 and j == {"id": 3}, f"primitive schema {j}")

    # registration errors
    expect_error("POST", "/subjects/orders-value/versions", 409, 409, {"schema": S3_BAD},
                 contains='Schema being registered is incompatible with an earlier schema '
                          'for subject "orders-value", details: [{errorType:'
                          "'READER_FIELD_MISSING_DEFAULT_VALUE', description:'The field "
                          "'network' at path '/fields/3' in the new schema has no default "
                          "value and is missing in the old schema', additionalInfo:'network'}"
                          ", {oldSchemaVersion: 2}")
    expect_error("POST", "/subjects/x/versions", 422, 42201, {"schema": "{\"type\":\"recrd\"}"},
                 contains="Invalid schema")
    expect_error("POST", "/subjects/x/versions", 422, 42201, {"schema": "not json"},
                 contains="Invalid schema")
    expect_error("POST", "/subjects/x/versions", 422, 42201, {}, message="Empty schema")
    expect_error("POST", "/subjects/x/versions", 422, 42201,
                 {"schema": "syntax = \"proto3\";", "schemaType": "PROTOBUF"},
                 message="Invalid schema type PROTOBUF")
    expect_error("POST", "/subjects/x/versions", 422, 42201,
                 {"schema": '{"type":"object"}', "schemaType": "JSON"},
                 message="Invalid schema type JSON")
    expect_error("POST", "/subjects/x/versions", 422, 42201,
                 {"schema": S1, "references": [{"name": "a", "subject": "b", "version": 1}]},
                 contains="references")
    expect_error("POST", "/subjects/x/versions", 400, 400, raw="{not json")
    expect_error("POST", "/subjects/x/versions", 422, 422, raw="[1]")
    s, j, _ = call("GET", "/subjects/x/versions")
    check(s == 404, "failed registrations left nothing behind")

    # reads
    s, j, _ = call("GET", "/subjects")
    check(j == ["orders-copy", "orders-value", "prim"], f"subjects {j}")
    s, j, _ = call("GET", "/subjects/orders-value/versions")
    check(s == 200 and j == [1, 2], f"versions {j}")
    for v in ["latest", "2", "-1"]:
        s, j, _ = call("GET", f"/subjects/orders-value/versions/{v}")
        check(s == 200 and j == {"subject": "orders-value", "version": 2, "id": 2, "schema": S2},
              f"version {v}: {j}")
    s, j, _ = call("GET", "/subjects/orders-value/versions/1/schema")
    check(s == 200 and j == json.loads(S1), f"raw schema {j}")
    s, j, _ = call("GET", "/subjects/orders-value/versions/1/referencedby")
    check(s == 200 and j == [], f"referencedby {j}")
    expect_error("GET", "/subjects/orders-value/versions/abc", 422, 42202,
                 message="The specified version 'abc' is not a valid version id. "
                         "Allowed values are between [1, 2^31-1] and the string \"latest\"")
    expect_error("GET", "/subjects/orders-value/versions/0", 422, 42202)
    expect_error("GET", "/subjects/orders-value/versions/2147483648", 422, 42202)
    expect_error("GET", "/subjects/orders-value/versions/9", 404, 40402, message="Version 9 not found.")
    expect_error("GET", "/subjects/nope/versions/1", 404, 40401, message="Subject 'nope' not found.")
    expect_error("GET", "/subjects/nope/versions", 404, 40401, message="Subject 'nope' not found.")
    s, j, _ = call("GET", "/subjects/orders-value/versions/latest", accept="application/json")
    check(s == 200, "Accept: application/json")

    # ids
    s, j, _ = call("GET", "/schemas/ids/1")
    check(s == 200 and j == {"schema": S1}, f"by id {j}")
    s, j, _ = call("GET", "/schemas/ids/1/schema")
    check(s == 200 and j == json.loads(S1), f"by id, raw {j}")
    s, j, _ = call("GET", "/schemas/ids/1/versions")
    check(j == [{"subject": "orders-copy", "version": 1}, {"subject": "orders-value", "version": 1}],
          f"id versions {j}")
    s, j, _ = call("GET", "/schemas/ids/1/subjects")
    check(j == ["orders-copy", "orders-value"], f"id subjects {j}")
    expect_error("GET", "/schemas/ids/999", 404, 40403, message="Schema 999 not found")
    expect_error("GET", "/schemas/ids/999/versions", 404, 40403)
    expect_error("GET", "/schemas/ids/abc", 404, 404)

    # Glue schema version UUIDs (evbus extension)
    s, j, _ = call("GET", "/subjects/orders-value/versions/2/uuid")
    uuid = j.get("schemaVersionId", "") if isinstance(j, dict) else ""
    check(s == 200 and len(uuid) == 36 and j["id"] == 2, f"version uuid {j}")
    s, j, _ = call("GET", f"/schemas/uuids/{uuid}")
    check(s == 200 and j.get("subject") == "orders-value" and j.get("version") == 2
          and j.get("id") == 2 and j.get("schema") == S2 and j.get("schemaVersionId") == uuid,
          f"by uuid {j}")
    expect_error("GET", "/schemas/uuids/00000000-0000-4000-8000-000000000000", 404, 40403)
    expect_error("GET", "/schemas/uuids/not-a-uuid", 404, 40403)

    # lookup under a subject
    reordered = json.dumps(dict(reversed(list(json.loads(S1).items()))))
    s, j, _ = call("POST", "/subjects/orders-value", {"schema": reordered})
    check(s == 200 and j == {"subject": "orders-value", "version": 1, "id": 1, "schema": S1},
          f"lookup {j}")
    expect_error("POST", "/subjects/orders-value", 404, 40403, {"schema": '"int"'},
                 message="Schema not found")
    expect_error("POST", "/subjects/nope", 404, 40401, {"schema": S1},
                 message="Subject 'nope' not found.")
    expect_error("POST", "/subjects/orders-value", 422, 42201, {"schema": "{"})

    # compatibility
    p = "/compatibility/subjects/orders-value/versions"
    s, j, _ = call("POST", p + "/latest", {"schema": S2})
    check(s == 200 and j == {"is_compatible": True}, f"compatible {j}")
    s, j, _ = call("POST", p + "/latest?verbose=true", {"schema": S2})
    check(s == 200 and j == {"is_compatible": True, "messages": []}, f"compatible verbose {j}")
    s, j, _ = call("POST", p + "/latest", {"schema": S3_BAD})
    check(s == 200 and j == {"is_compatible": False}, f"incompatible {j}")
    s, j, _ = call("POST", p + "/latest?verbose=true", {"schema": S3_BAD})
    msgs = j.get("messages", []) if isinstance(j, dict) else []
    check(s == 200 and j.get("is_compatible") is False and len(msgs) == 4
          and msgs[0].startswith("{errorType:'READER_FIELD_MISSING_DEFAULT_VALUE'")
          and msgs[1] == "{oldSchemaVersion: 2}" and msgs[2] == "{oldSchema: '%s'}" % S2
          and msgs[3] == "{validateFields: 'false', compatibility: 'BACKWARD'}",
          f"verbose messages {j}")
    s, j, _ = call("POST", p + "/1", {"schema": S3_BAD})
    check(j == {"is_compatible": False}, f"against version 1 {j}")
    s, j, _ = call("POST", p, {"schema": S2})
    check(s == 200 and j == {"is_compatible": True}, f"against the level's versions {j}")
    expect_error("POST", "/compatibility/subjects/nope/versions/latest", 404, 40401, {"schema": S1})
    expect_error("POST", p + "/9", 404, 40402, {"schema": S1})
    expect_error("POST", p + "/x", 422, 42202, {"schema": S1})
    expect_error("POST", p + "/latest", 422, 42201, {"schema": "[\"int\",\"int\"]"},
                 contains="Duplicate in union")

    # config
    s, j, _ = call("PUT", "/config", {"compatibility": "full"})
    check(s == 200 and j == {"compatibility": "full"}, f"put config echoes {j}")
    s, j, _ = call("GET", "/config")
    check(j == {"compatibilityLevel": "FULL"}, f"global FULL {j}")
    expect_error("PUT", "/config", 422, 42203, {"compatibility": "SIDEWAYS"},
                 message="Invalid compatibility level. Valid values are none, backward, "
                         "forward, full, backward_transitive, forward_transitive, and "
                         "full_transitive")
    expect_error("PUT", "/config", 422, 42203, {})
    s, j, _ = call("PUT", "/config/orders-value", {"compatibility": "NONE"})
    check(s == 200 and j == {"compatibility": "NONE"}, f"subject config {j}")
    s, j, _ = call("GET", "/config/orders-value")
    check(j == {"compatibilityLevel": "NONE"}, f"subject NONE {j}")
    expect_error("GET", "/config/prim", 404, 40408,
                 message="Subject 'prim' does not have subject-level compatibility configured")
    s, j, _ = call("GET", "/config/prim?defaultToGlobal=true")
    check(j == {"compatibilityLevel": "FULL"}, f"default to global {j}")
    s, j, _ = call("POST", "/subjects/orders-value/versions", {"schema": '"int"'})
    check(s == 200 and j.get("id") == 4, f"NONE accepts anything {j}")
    s, j, _ = call("DELETE", "/config/orders-value")
    check(s == 200 and j == {"compatibilityLevel": "NONE"}, f"delete subject config {j}")
    expect_error("DELETE", "/config/orders-value", 404, 40401)
    s, j, _ = call("DELETE", "/config")
    check(s == 200 and j == {"compatibilityLevel": "FULL"}, f"delete global config {j}")
    s, j, _ = call("GET", "/config")
    check(j == {"compatibilityLevel": "BACKWARD"}, f"back to BACKWARD {j}")

    # mode
    s, j, _ = call("PUT", "/mode/prim", {"mode": "READONLY"})
    check(s == 200 and j == {"mode": "READONLY"}, f"put mode {j}")
    s, j, _ = call("GET", "/mode/prim")
    check(j == {"mode": "READONLY"}, f"get mode {j}")
    expect_error("POST", "/subjects/prim/versions", 422, 42205, {"schema": '"bytes"'},
                 contains="read-only")
    expect_error("DELETE", "/subjects/prim", 422, 42205)
    expect_error("PUT", "/mode", 422, 42204, {"mode": "SOMETIMES"},
                 message="Invalid mode. Valid values are READWRITE, READONLY, and IMPORT.")
    expect_error("GET", "/mode/orders-value", 404, 40409)
    s, j, _ = call("DELETE", "/mode/prim")
    check(s == 200 and j == {"mode": "READONLY"}, f"delete mode {j}")
    s, j, _ = call("POST", "/subjects/prim/versions", {"schema": '"bytes"'})
    check(s == 200, f"writable again {j}")

    # deletes
    expect_error("DELETE", "/subjects/orders-value/versions/3?permanent=true", 404, 40407,
                 message="Subject 'orders-value' Version 3 was not deleted first before "
                         "being permanently deleted")
    s, j, _ = call("DELETE", "/subjects/orders-value/versions/3")
    check(s == 200 and j == 3, f"soft delete version {j}")
    expect_error("DELETE", "/subjects/orders-value/versions/3", 404, 40406,
                 message="Subject 'orders-value' Version 3 was soft deleted.Set permanent=true "
                         "to delete permanently")
    s, j, _ = call("GET", "/subjects/orders-value/versions")
    check(j == [1, 2], f"soft-deleted version hidden {j}")
    s, j, _ = call("GET", "/subjects/orders-value/versions?deleted=true")
    check(j == [1, 2, 3], f"deleted=true lists it {j}")
    s, j, _ = call("GET", "/subjects/orders-value/versions/3?deleted=true")
    check(s == 200 and j.get("id") == 4, f"deleted=true reads it {j}")
    s, j, _ = call("GET", "/schemas/ids/4")
    check(s == 200, "a soft-deleted version's id still resolves")
    s, j, _ = call("DELETE", "/subjects/orders-value/versions/3?permanent=true")
    check(s == 200 and j == 3, f"permanent delete version {j}")
    expect_error("GET", "/schemas/ids/4", 404, 40403)
    expect_error("DELETE", "/subjects/orders-value/versions/3", 404, 40402)
    expect_error("DELETE", "/subjects/nope/versions/1", 404, 40401)
    expect_error("DELETE", "/subjects/orders-copy?permanent=true", 404, 40405,
                 message="Subject 'orders-copy' was not deleted first before being "
                         "permanently deleted")
    s, j, _ = call("DELETE", "/subjects/orders-copy")
    check(s == 200 and j == [1], f"soft delete subject {j}")
    expect_error("DELETE", "/subjects/orders-copy", 404, 40404,
                 message="Subject 'orders-copy' was soft deleted.Set permanent=true to "
                         "delete permanently")
    s, j, _ = call("GET", "/subjects")
    check(j == ["orders-value", "prim"], f"soft-deleted subject hidden {j}")
    s, j, _ = call("GET", "/subjects?deleted=true")
    check(j == ["orders-copy", "orders-value", "prim"], f"deleted=true {j}")
    s, j, _ = call("DELETE", "/subjects/orders-copy?permanent=true")
    check(s == 200 and j == [1], f"permanent delete subject {j}")
    expect_error("GET", "/subjects/orders-copy/versions", 404, 40401)
    expect_error("DELETE", "/subjects/orders-copy", 404, 40401)

    # routing
    expect_error("GET", "/subjects/orders-value/whatever", 404, 404)
    expect_error("PUT", "/subjects", 405, 405)
    expect_error("GET", "/compatibility/subjects/orders-value/versions/latest", 405, 405)
    expect_error("GET", "/schemas/nothing", 404, 404)

    # what the restart must keep
    call("POST", "/subjects/kept-value/versions", {"schema": S1})
    s, j, _ = call("POST", "/subjects/kept-value/versions", {"schema": S2})
    check(j == {"id": 2}, f"kept v2 {j}")


def after_restart():
    s, j, _ = call("GET", "/subjects/kept-value/versions")
    check(s == 200 and j == [1, 2], f"versions survived {j}")
    s, j, _ = call("GET", "/schemas/ids/2")
    check(s == 200 and j == {"schema": S2}, f"ids survived {j}")
    s, j, _ = call("POST", "/subjects/kept-value/versions", {"schema": S1})
    check(j == {"id": 1}, f"still idempotent {j}")


try:
    main_phase() if phase == "main" else after_restart()
except Exception as e:  # a crash in the test is a failure, not a pass
    failed += 1
    print("FAIL: exception", repr(e))
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
