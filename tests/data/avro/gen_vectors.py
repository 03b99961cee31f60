#!/usr/bin/env python3
"""Writes vectors.jsonl: Avro -> JSON test vectors for tests/avro.

The bytes are built here by hand (zig-zag varints, little-endian IEEE
floats, length-prefixed strings), independently of the C code; the
expected JSON is written out literally as Java (Kafka Connect's
JsonConverter over Jackson) prints it. Each line:
  {"name", "schema" (JSON value), "hex", "json" (exact expected text)
   | "error" (substring), "flags": ["decimal_number","allow_trailing"],
   "roundtrip": false (skip the JSON -> Avro check)}
Run: python3 tests/data/avro/gen_vectors.py > tests/data/avro/vectors.jsonl
"""
import json
import struct


def zz(n):
    """zig-zag varint of a long"""
    u = (n << 1) ^ (n >> 63)
    u &= (1 << 64) - 1
    out = bytearray()
    while u >= 0x80:
        out.append((u & 0x7F) | 0x80)
        u >>= 7
    out.append(u)
    return bytes(out)


def s(b):
    if isinstance(b, str):
        b = b.encode()
    return zz(len(b)) + b


def f32(x):
    return struct.pack("<f", x)


def f32bits(u):
    return struct.pack("<I", u)


def f64(x):
    return struct.pack("<d", x)


def f64bits(u):
    return struct.pack("<Q", u)


V = []


def v(name, schema, data, out=None, error=None, flags=(), roundtrip=True):
    e = {"name": name, "schema": schema, "hex": data.hex()}
    if error is not None:
        e["error"] = error
    else:
        e["json"] = out
    if flags:
        e["flags"] = list(flags)
    if not roundtrip or error is not None:
        e["roundtrip"] = False
    V.append(e)


# rule 1: null, boolean, int, long
v("null", "null", b"", "null")
v("boolean_true", "boolean", b"\x01", "true")
v("boolean_false", "boolean", b"\x00", "false")
v("boolean_bad_byte", "boolean", b"\x02", error="invalid boolean byte 0x02")
v("boolean_truncated", "boolean", b"", error="truncated")
v("int_zero", "int", zz(0), "0")
v("int_minus_one", "int", zz(-1), "-1")
v("int_64", "int", zz(64), "64")
v("int_minus_65", "int", zz(-65), "-65")
v("int_max", "int", zz(2147483647), "2147483647")
v("int_min", "int", zz(-2147483648), "-2147483648")
v("int_noncanonical_zero", "int", b"\x80\x00", "0", roundtrip=False)
v("int_overflow_5th_byte", "int", b"\xff\xff\xff\xff\x1f",
  error="overlong varint for an int")
v("int_overlong_6_bytes", "int", b"\x80\x80\x80\x80\x80\x00",
  error="overlong varint for an int")
v("int_truncated_varint", "int", b"\x80", error="truncated")
v("int_empty", "int", b"", error="truncated")
v("long_max", "long", zz(9223372036854775807), "9223372036854775807")
v("long_min", "long", zz(-9223372036854775808), "-9223372036854775808")
v("long_1e15", "long", zz(10**15), "1000000000000000")
v("long_overlong_11_bytes", "long", b"\x80" * 10 + b"\x00",
  error="overlong varint")
v("long_10th_byte_too_big", "long", b"\xff" * 9 + b"\x02",
  error="overlong varint")
v("long_truncated", "long", b"\xff\xff", error="truncated")
v("trailing_bytes", "int", zz(1) + b"\x00", error="1 trailing bytes")
v("trailing_allowed", "int", zz(1) + b"\x00", "1",
  flags=["allow_trailing"], roundtrip=False)

# rule 2: float and double as Java's Float/Double.toString; NaN/Infinity
v("float_one", "float", f32(1.0), "1.0")
v("float_0_1", "float", f32(0.1), "0.1")
v("float_1e10", "float", f32(1e10), "1.0E10")
v("float_max", "float", f32bits(0x7F7FFFFF), "3.4028235E38")
v("float_min_normal", "float", f32bits(0x00800000), "1.1754944E-38")
v("float_min_subnormal", "float", f32bits(0x00000001), "1.4E-45")
v("float_neg_zero", "float", f32bits(0x80000000), "-0.0")
v("float_123_456", "float", f32(123.456), "123.456")
v("float_1e7_minus", "float", f32(9999999.0), "9999999.0")
v("float_0_001", "float", f32(0.001), "0.001")
v("float_1e_4", "float", f32(0.0001), "1.0E-4")
v("float_nan", "float", f32bits(0x7FC00000), '"NaN"')
v("float_inf", "float", f32bits(0x7F800000), '"Infinity"')
v("float_minus_inf", "float", f32bits(0xFF800000), '"-Infinity"')
v("float_truncated", "float", b"\x00\x00\x80", error="float needs 4 bytes")
v("double_one", "double", f64(1.0), "1.0")
v("double_neg_zero", "double", f64bits(0x8000000000000000), "-0.0")
v("double_0_1", "double", f64(0.1), "0.1")
v("double_0_1_plus_0_2", "double", f64(0.1 + 0.2), "0.30000000000000004")
v("double_100", "double", f64(100.0), "100.0")
v("double_1234567", "double", f64(1234567.0), "1234567.0")
v("double_9999999_5", "double", f64(9999999.5), "9999999.5")
v("double_1e7", "double", f64(1e7), "1.0E7")
v("double_123456789", "double", f64(123456789.0), "1.23456789E8")
v("double_0_001", "double", f64(0.001), "0.001")
v("double_1e_4", "double", f64(0.0001), "1.0E-4")
v("double_minus_153_27", "double", f64(-153.27), "-153.27")
v("double_1e23", "double", f64(1e23), "1.0E23")
v("double_max", "double", f64bits(0x7FEFFFFFFFFFFFFF),
  "1.7976931348623157E308")
v("double_min_normal", "double", f64bits(0x0010000000000000),
  "2.2250738585072014E-308")
v("double_min_subnormal", "double", f64bits(1), "4.9E-324")
v("double_2_min_subnormal", "double", f64bits(2), "9.9E-324")
v("double_third", "double", f64(1 / 3), "0.3333333333333333")
v("double_2_pow_60", "double", f64(2.0 ** 60), "1.152921504606847E18")
v("double_nan", "double", f64bits(0x7FF8000000000000), '"NaN"')
v("double_inf", "double", f64bits(0x7FF0000000000000), '"Infinity"')
v("double_minus_inf", "double", f64bits(0xFFF0000000000000), '"-Infinity"')
v("double_truncated", "double", b"\x00" * 7, error="double needs 8 bytes")

# rule 3: strings, escapes, invalid UTF-8
v("string_hello", "string", s("hello"), '"hello"')
v("string_empty", "string", s(""), '""')
v("string_escapes", "string", s(b'q"b\\s/\x08\x09\x0a\x0c\x0d'),
  '"q\\"b\\\\s/\\b\\t\\n\\f\\r"')
v("string_controls", "string", s(b"\x00\x01\x1f\x7f"),
  '"\\u0000\\u0001\\u001F\x7f"')
v("string_utf8", "string", s("é€😀"), '"é€😀"')
v("string_u2028_kept", "string", s("\u2028"), '"\u2028"')
v("string_bad_lead", "string", s(b"a\x80b"), '"a\ufffdb"', roundtrip=False)
v("string_truncated_seq_end", "string", s(b"a\xc3"), '"a\ufffd"',
  roundtrip=False)
v("string_truncated_seq_mid", "string", s(b"\xe2\x82A"), '"\ufffdA"',
  roundtrip=False)
v("string_surrogate", "string", s(b"\xed\xa0\x80"), '"\ufffd\ufffd\ufffd"',
  roundtrip=False)
v("string_overlong", "string", s(b"\xc0\xaf"), '"\ufffd\ufffd"',
  roundtrip=False)
v("string_above_10ffff", "string", s(b"\xf4\x90\x80\x80"),
  '"\ufffd\ufffd\ufffd\ufffd"', roundtrip=False)
v("string_ff", "string", s(b"\xff\xfe"), '"\ufffd\ufffd"', roundtrip=False)
v("string_negative_length", "string", zz(-1), error="negative string length")
v("string_past_end", "string", zz(5) + b"ab",
  error="string of 5 bytes, 2 left")
v("string_huge_length", "string", zz(2**62) + b"ab",
  error="Avro data truncated")

# rule 4: bytes and fixed as base64
v("bytes_empty", "bytes", s(b""), '""')
v("bytes_1", "bytes", s(b"\xff"), '"/w=="')
v("bytes_2", "bytes", s(b"\x00\xff"), '"AP8="')
v("bytes_3", "bytes", s(b"\x00\xff\x10"), '"AP8Q"')
v("bytes_4", "bytes", s(b"abcd"), '"YWJjZA=="')
v("bytes_negative_length", "bytes", zz(-3), error="negative bytes length")
v("bytes_past_end", "bytes", zz(4) + b"ab", error="bytes of 4 bytes")
F3 = {"type": "fixed", "name": "F3", "size": 3}
v("fixed_3", F3, b"\x00\xff\x10", '"AP8Q"')
v("fixed_0", {"type": "fixed", "name": "F0", "size": 0}, b"", '""')
v("fixed_truncated", F3, b"\x00\xff", error="fixed needs 3 bytes")

# rule 5: enum
E = {"type": "enum", "name": "Suit", "symbols": ["SPADES", "HEARTS", "CLUBS"]}
v("enum_first", E, zz(0), '"SPADES"')
v("enum_last", E, zz(2), '"CLUBS"')
v("enum_index_too_big", E, zz(3), error="enum index 3 out of range")
v("enum_index_negative", E, zz(-1), error="enum index -1 out of range")

# rule 6: array and map
AI = {"type": "array", "items": "int"}
v("array_ints", AI, zz(3) + zz(1) + zz(2) + zz(3) + zz(0), "[1,2,3]")
v("array_empty", AI, zz(0), "[]")
v("array_two_blocks", AI, zz(1) + zz(1) + zz(2) + zz(2) + zz(3) + zz(0),
  "[1,2,3]", roundtrip=False)
v("array_negative_count_with_size", AI,
  zz(-2) + zz(2) + zz(1) + zz(2) + zz(0), "[1,2]", roundtrip=False)
v("array_negative_block_size", AI, zz(-2) + zz(-1), error="negative array "
  "block size")
v("array_block_size_past_end", AI, zz(-2) + zz(50) + zz(1),
  error="array block of 50 bytes")
v("array_count_beyond_input", AI, zz(1000) + zz(1),
  error="array block of 1000 items needs at least 1000 bytes")
v("array_count_int64_min", AI, zz(-2**63), error="block count out of range")
v("array_missing_terminator", AI, zz(1) + zz(1), error="truncated")
AD = {"type": "array", "items": "double"}
v("array_doubles_min_size", AD, zz(2) + f64(1.0), error="needs at least 16")
v("array_nested", {"type": "array", "items": AI},
  zz(2) + zz(1) + zz(7) + zz(0) + zz(0) + zz(0), "[[7],[]]")
MI = {"type": "map", "values": "int"}
v("map_one", MI, zz(1) + s("a") + zz(1) + zz(0), '{"a":1}')
v("map_empty", MI, zz(0), "{}")
v("map_order_kept", MI, zz(2) + s("z") + zz(1) + s("a") + zz(2) + zz(0),
  '{"z":1,"a":2}')
v("map_duplicate_keys", MI,
  zz(3) + s("a") + zz(1) + s("b") + zz(2) + s("a") + zz(3) + zz(0),
  '{"a":3,"b":2}', roundtrip=False)
v("map_key_escaped", MI, zz(1) + s('k"\n') + zz(1) + zz(0),
  '{"k\\"\\n":1}')
v("map_key_invalid_utf8_merge", MI,
  zz(2) + s(b"\x80") + zz(1) + s(b"\xff") + zz(2) + zz(0),
  '{"\ufffd":2}', roundtrip=False)
v("map_negative_key_length", MI, zz(1) + zz(-1) + b"\x00\x00",
  error="negative map key")
v("map_count_beyond_input", MI, zz(100) + s("a"),
  error="map block of 100 items")

# rule 7: records
R = {"type": "record", "name": "R", "namespace": "ex", "fields": [
    {"name": "a", "type": "int"}, {"name": "b", "type": "string"},
    {"name": "c", "type": {"type": "record", "name": "Inner", "fields": [
        {"name": "d", "type": "boolean"}]}}]}
v("record_nested", R, zz(1) + s("x") + b"\x01",
  '{"a":1,"b":"x","c":{"d":true}}')
v("record_empty", {"type": "record", "name": "E", "fields": []}, b"", "{}")
v("record_truncated_field", R, zz(1) + zz(3) + b"ab",
  error="(at byte 1, $.b)")
v("record_null_field", {"type": "record", "name": "N", "fields": [
    {"name": "n", "type": "null"}, {"name": "i", "type": "int"}]},
  zz(5), '{"n":null,"i":5}')
v("record_error_path", {"type": "record", "name": "P", "fields": [
    {"name": "xs", "type": {"type": "array", "items": {
        "type": "map", "values": E}}}]},
  zz(2) + zz(0) + zz(1) + s("k") + zz(9), error="$.xs[1][k]")

# rule 8: nullable unions unwrapped
NS = ["null", "string"]
SN = ["string", "null"]
v("nullable_null", NS, zz(0), "null")
v("nullable_value", NS, zz(1) + s("x"), '"x"')
v("nullable_reversed_null", SN, zz(1), "null")
v("nullable_reversed_value", SN, zz(0) + s("x"), '"x"')
v("nullable_record", ["null", R], zz(1) + zz(2) + s("") + b"\x00",
  '{"a":2,"b":"","c":{"d":false}}')
v("union_index_out_of_range", NS, zz(2), error="union branch index 2 out "
  "of range (2 branches)")
v("union_index_negative", NS, zz(-1), error="union branch index -1")

# rule 9: general unions wrapped, every branch present
G = ["null", "string", "int"]
v("general_string", G, zz(1) + s("x"), '{"string":"x","int":null}')
v("general_int", G, zz(2) + zz(5), '{"string":null,"int":5}')
v("general_null", G, zz(0), "null")
v("general_no_null", ["int", "string"], zz(0) + zz(1),
  '{"int":1,"string":null}')
v("general_one_branch", ["long"], zz(0) + zz(7), '{"long":7}')
v("general_all_kinds",
  ["null", "boolean", "int", "long", "float", "double", "bytes", "string",
   {"type": "array", "items": "int"}, {"type": "map", "values": "int"}],
  zz(8) + zz(1) + zz(4) + zz(0),
  '{"boolean":null,"int":null,"long":null,"float":null,"double":null,'
  '"bytes":null,"string":null,"array":[4],"map":null}')
v("general_record_short_name",
  ["null", {"type": "record", "name": "a.b.Rec", "fields": [
      {"name": "x", "type": "int"}]}, "string"],
  zz(1) + zz(3), '{"Rec":{"x":3},"string":null}')
v("general_enum_branch", ["null", E, "int"], zz(1) + zz(1),
  '{"Suit":"HEARTS","int":null}')
v("general_fixed_named_fixed", ["int", F3], zz(1) + b"abc",
  '{"int":null,"fixed":"YWJj"}')
v("general_fixed_goes_to_bytes", ["bytes", F3], zz(1) + b"abc",
  '{"bytes":"YWJj","fixed":null}', roundtrip=False)
v("general_bytes_goes_to_fixed", [F3, "bytes"], zz(1) + s(b"ab"),
  '{"fixed":"YWI=","bytes":null}', roundtrip=False)
v("general_logical_keeps_type_name",
  ["null", {"type": "long", "logicalType": "timestamp-millis"}, "string"],
  zz(1) + zz(1695000000000), '{"long":1695000000000,"string":null}')
v("general_two_fixed_rejected",
  ["null", F3, {"type": "fixed", "name": "G", "size": 1}], zz(1) + b"abc",
  error="both map to the JSON member \"fixed\"")
v("general_same_short_name_rejected",
  [{"type": "record", "name": "x.R", "fields": []},
   {"type": "record", "name": "y.R", "fields": []}], zz(0),
  error="both map to the JSON member \"R\"")
v("general_index_out_of_range", G, zz(3), error="union branch index 3")

# rule 10: a null general union field takes the field's non-null default;
# a nullable union's default is dropped
v("default_general_null_takes_default",
  {"type": "record", "name": "D", "fields": [
      {"name": "f", "type": ["string", "null", "int"], "default": "dflt"}]},
  zz(1), '{"f":{"string":"dflt","int":null}}', roundtrip=False)
v("default_general_value_kept",
  {"type": "record", "name": "D", "fields": [
      {"name": "f", "type": ["string", "null", "int"], "default": "dflt"}]},
  zz(2) + zz(4), '{"f":{"string":null,"int":4}}')
v("default_nullable_dropped",
  {"type": "record", "name": "D", "fields": [
      {"name": "f", "type": ["string", "null"], "default": "dflt"}]},
  zz(1), '{"f":null}')
v("default_general_null_first",
  {"type": "record", "name": "D", "fields": [
      {"name": "f", "type": ["null", "string", "int"], "default": None}]},
  zz(0), '{"f":null}')

# rule 11: logical types as their underlying type
v("date", {"type": "int", "logicalType": "date"}, zz(19000), "19000")
v("date_negative", {"type": "int", "logicalType": "date"}, zz(-1), "-1")
v("time_millis", {"type": "int", "logicalType": "time-millis"},
  zz(45296789), "45296789")
v("time_millis_max", {"type": "int", "logicalType": "time-millis"},
  zz(86400000), "86400000")
v("time_millis_negative", {"type": "int", "logicalType": "time-millis"},
  zz(-1), error="time-millis value -1 is outside 0..86400000")
v("time_millis_too_big", {"type": "int", "logicalType": "time-millis"},
  zz(86400001), error="outside 0..86400000")
v("time_millis_upper_case", {"type": "int", "logicalType": "TIME-MILLIS"},
  zz(-5), error="outside 0..86400000")
v("time_micros", {"type": "long", "logicalType": "time-micros"},
  zz(45296789123), "45296789123")
v("timestamp_millis", {"type": "long", "logicalType": "timestamp-millis"},
  zz(1695000000000), "1695000000000")
v("timestamp_micros", {"type": "long", "logicalType": "timestamp-micros"},
  zz(1695000000000123), "1695000000000123")
v("local_timestamp_millis",
  {"type": "long", "logicalType": "local-timestamp-millis"}, zz(-1), "-1")
v("local_timestamp_micros",
  {"type": "long", "logicalType": "local-timestamp-micros"}, zz(2), "2")
v("uuid", {"type": "string", "logicalType": "uuid"},
  s("3f1c9a52-8d0e-4b7a-9c61-0e2f5d7a1b34"),
  '"3f1c9a52-8d0e-4b7a-9c61-0e2f5d7a1b34"')
v("duration", {"type": "fixed", "name": "Dur", "size": 12,
               "logicalType": "duration"},
  struct.pack("<III", 1, 2, 3), '"AQAAAAIAAAADAAAA"')
v("unknown_logical_ignored", {"type": "string", "logicalType": "nope"},
  s("x"), '"x"')
v("connect_int8", {"type": "int", "connect.type": "int8"}, zz(300), "44",
  roundtrip=False)
v("connect_int8_negative", {"type": "int", "connect.type": "int8"},
  zz(-1), "-1")
v("connect_int16", {"type": "int", "connect.type": "int16"}, zz(70000),
  "4464", roundtrip=False)

# rule 12: decimals
DB = {"type": "bytes", "logicalType": "decimal", "precision": 6, "scale": 4}
v("decimal_base64", DB, s(b"\x01\x8f\xc9"), '"AY/J"')
v("decimal_number", DB, s(b"\x01\x8f\xc9"), "10.2345",
  flags=["decimal_number"])
v("decimal_negative_base64", {"type": "bytes", "logicalType": "decimal",
                              "precision": 4, "scale": 2},
  s(b"\xff"), '"/w=="')
v("decimal_negative_number", {"type": "bytes", "logicalType": "decimal",
                              "precision": 4, "scale": 2},
  s(b"\xff"), "-0.01", flags=["decimal_number"])
v("decimal_non_minimal_made_minimal", DB, s(b"\x00\x01"), '"AQ=="',
  roundtrip=False)
v("decimal_non_minimal_negative", DB, s(b"\xff\xff\x80"), '"gA=="',
  roundtrip=False)
v("decimal_keeps_sign_byte", DB, s(b"\x00\x80"), '"AIA="')
v("decimal_zero", DB, s(b"\x00"), '"AA=="')
v("decimal_zero_number", DB, s(b"\x00"), "0.0000", flags=["decimal_number"])
v("decimal_empty", DB, s(b""), error="decimal value has no bytes")
FD = {"type": "fixed", "name": "Money", "size": 8, "logicalType": "decimal",
      "precision": 18, "scale": 2}
v("decimal_fixed_base64_minimal", FD, b"\x00" * 7 + b"\x01", '"AQ=="')
v("decimal_fixed_negative", FD, b"\xff" * 7 + b"\x6a", '"/2o="')
v("decimal_fixed_number", FD, b"\xff" * 7 + b"\x6a", "-1.50",
  flags=["decimal_number"])
v("decimal_number_plain_100", {"type": "bytes", "logicalType": "decimal",
                               "precision": 5, "scale": 2},
  s(b"\x64"), "1.00", flags=["decimal_number"])
v("decimal_number_sci_1e_10", {"type": "bytes", "logicalType": "decimal",
                               "precision": 11, "scale": 10},
  s(b"\x01"), "1E-10", flags=["decimal_number"])
v("decimal_number_sci_1_23e_8", {"type": "bytes", "logicalType": "decimal",
                                 "precision": 12, "scale": 10},
  s(b"\x7b"), "1.23E-8", flags=["decimal_number"])
v("decimal_number_edge_plain", {"type": "bytes", "logicalType": "decimal",
                                "precision": 7, "scale": 6},
  s(b"\x05"), "0.000005", flags=["decimal_number"])
v("decimal_number_edge_sci", {"type": "bytes", "logicalType": "decimal",
                              "precision": 8, "scale": 7},
  s(b"\x05"), "5E-7", flags=["decimal_number"])
v("decimal_number_scale_0", {"type": "bytes", "logicalType": "decimal",
                             "precision": 30},
  s(bytes.fromhex("0de0b6b3a7640000")), "1000000000000000000",
  flags=["decimal_number"])
v("decimal_number_big", {"type": "bytes", "logicalType": "decimal",
                         "precision": 40, "scale": 3},
  s((2**100).to_bytes(13, "big", signed=True)),
  "1267650600228229401496703205.376", flags=["decimal_number"])
v("decimal_number_big_negative", {"type": "bytes", "logicalType": "decimal",
                                  "precision": 40, "scale": 3},
  s((-2**100).to_bytes(13, "big", signed=True)),
  "-1267650600228229401496703205.376", flags=["decimal_number"])
v("decimal_upper_case_name", {"type": "bytes", "logicalType": "DECIMAL",
                              "precision": 4, "scale": 1},
  s(b"\x00\x05"), '"BQ=="', roundtrip=False)
v("decimal_bad_scale_is_bytes", {"type": "bytes", "logicalType": "decimal",
                                 "precision": 4, "scale": "x"},
  s(b"\x00\x05"), '"AAU="')
v("decimal_in_general_union",
  ["null", "string", {"type": "bytes", "logicalType": "decimal",
                      "precision": 4, "scale": 2}],
  zz(2) + s(b"\x00\x7b"), '{"string":null,"bytes":1.23}',
  flags=["decimal_number"], roundtrip=False)

# the fraud demo's notification, as in the blog
NOTE = {"type": "record", "name": "Notification", "fields": [
    {"name": "source", "type": "string"},
    {"name": "eventType", "type": "string"},
    {"name": "eventDetail", "type": {"type": "record", "name": "EventDetail",
                                     "fields": [
                                         {"name": "userId", "type": "string"},
                                         {"name": "total", "type": "double"}]}}]}
v("blog_notification", NOTE,
  s("transactionAnalyzer") + s("suspiciousActivity") + s("u-1") +
  f64(197.52),
  '{"source":"transactionAnalyzer","eventType":"suspiciousActivity",'
  '"eventDetail":{"userId":"u-1","total":197.52}}')

for e in V:
    print(json.dumps(e, ensure_ascii=False, separators=(",", ":")))
