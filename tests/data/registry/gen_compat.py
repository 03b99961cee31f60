# Writes compat.json: schema pairs with the verdict expected at each level
# (old = the registered schema, new = the one being checked). Kept as a
# generator so the cases stay readable; run it after editing.
import json

def rec(fields, name="T", **kw):
    r = {"type": "record", "name": name, "fields": fields}
    r.update(kw)
    return r

def f(name, t, **kw):
    d = {"name": name, "type": t}
    d.update(kw)
    return d

A = f("a", "int")
cases = []

def case(name, old, new, backward, forward, btype=None, bpath=None, ftype=None, fpath=None):
    c = {"name": name, "old": old, "new": new,
         "expect": {"NONE": True, "BACKWARD": backward, "FORWARD": forward,
                    "FULL": backward and forward}}
    if btype: c["backward_error"] = {"type": btype, "path": bpath}
    if ftype: c["forward_error"] = {"type": ftype, "path": fpath}
    cases.append(c)

case("identical record", rec([A]), rec([A]), True, True)
case("field added without default", rec([A]), rec([A, f("b", "string")]), False, True,
     "READER_FIELD_MISSING_DEFAULT_VALUE", "/fields/1")
case("field added with default", rec([A]), rec([A, f("b", "string", default="x")]), True, True)
case("field removed (no default)", rec([A, f("b", "string")]), rec([A]), True, False,
     ftype="READER_FIELD_MISSING_DEFAULT_VALUE", fpath="/fields/1")
case("field removed (had default)", rec([A, f("b", "string", default="")]), rec([A]), True, True)
case("int promoted to long", rec([A]), rec([f("a", "long")]), True, False,
     ftype="TYPE_MISMATCH", fpath="/fields/0/type")
case("long narrowed to int", rec([f("a", "long")]), rec([A]), False, True,
     "TYPE_MISMATCH", "/fields/0/type")
for w, r in [("int", "float"), ("int", "double"), ("long", "float"), ("long", "double"), ("float", "double")]:
    case(f"{w} promoted to {r}", w, r, True, False, ftype="TYPE_MISMATCH", fpath="/")
case("double narrowed to float", "double", "float", False, True, "TYPE_MISMATCH", "/")
case("string to bytes", rec([f("s", "string")]), rec([f("s", "bytes")]), True, True)
case("bytes to string", "bytes", "string", True, True)
case("string to int", rec([f("s", "string")]), rec([f("s", "int")]), False, False,
     "TYPE_MISMATCH", "/fields/0/type", "TYPE_MISMATCH", "/fields/0/type")
case("boolean to int", "boolean", "int", False, False, "TYPE_MISMATCH", "/", "TYPE_MISMATCH", "/")
case("null to string", "null", "string", False, False, "TYPE_MISMATCH", "/", "TYPE_MISMATCH", "/")

E2 = {"type": "enum", "name": "E", "symbols": ["A", "B"]}
E3 = {"type": "enum", "name": "E", "symbols": ["A", "B", "C"]}
case("enum symbol added", rec([f("e", E2)]), rec([f("e", E3)]), True, False,
     ftype="MISSING_ENUM_SYMBOLS", fpath="/fields/0/type/symbols")
case("enum symbol removed", rec([f("e", E3)]), rec([f("e", E2)]), False, True,
     "MISSING_ENUM_SYMBOLS", "/fields/0/type/symbols")
case("enum symbol removed, new has a default", E3, dict(E2, default="A"), True, True)
case("enum symbol added, old has a default", dict(E2, default="B"), E3, True, True)
case("enum renamed", E2, dict(E2, name="F"), False, False, "NAME_MISMATCH", "/name", "NAME_MISMATCH", "/name")
case("enum renamed with alias", E2, dict(E2, name="F", aliases=["E"]), True, False,
     ftype="NAME_MISMATCH", fpath="/name")
case("enum to string", E2, "string", False, False, "TYPE_MISMATCH", "/", "TYPE_MISMATCH", "/")

case("union branch added", rec([f("u", ["null", "string"])]), rec([f("u", ["null", "string", "int"])]), True, False,
     ftype="MISSING_UNION_BRANCH", fpath="/fields/0/type/2")
case("union branch removed", rec([f("u", ["null", "string", "int"])]), rec([f("u", ["null", "string"])]), False, True,
     "MISSING_UNION_BRANCH", "/fields/0/type/2")
case("union branches reordered", ["null", "string", "int"], ["int", "null", "string"], True, True)
case("type widened to a union", rec([f("s", "string")]), rec([f("s", ["null", "string"], default=None)]), True, False,
     ftype="TYPE_MISMATCH", fpath="/fields/0/type/0")
case("union narrowed to a type", rec([f("s", ["null", "string"])]), rec([f("s", "string")]), False, True,
     "TYPE_MISMATCH", "/fields/0/type/0")
case("union branch promoted", ["null", "int"], ["null", "long"], True, False,
     ftype="MISSING_UNION_BRANCH", fpath="/1")
case("reader union without the writer's type", "boolean", ["null", "string"], False, False,
     "MISSING_UNION_BRANCH", "/", "TYPE_MISMATCH", "/0")

case("record renamed", rec([A]), rec([A], name="U"), False, False, "NAME_MISMATCH", "/name", "NAME_MISMATCH", "/name")
case("record renamed with alias", rec([A], namespace="ns"), rec([A], name="U", namespace="ns", aliases=["T"]), True, False,
     ftype="NAME_MISMATCH", fpath="/name")
case("record namespace changed", rec([A], namespace="a.b"), rec([A], namespace="c.d"), True, True)
case("field renamed with alias", rec([A, f("b", "string")]), rec([A, f("b2", "string", aliases=["b"])]), True, False,
     ftype="READER_FIELD_MISSING_DEFAULT_VALUE", fpath="/fields/1")
case("fields reordered", rec([A, f("b", "string")]), rec([f("b", "string"), A]), True, True)

F16 = {"type": "fixed", "name": "F", "size": 16}
case("fixed size changed", F16, dict(F16, size=32), False, False, "FIXED_SIZE_MISMATCH", "/size", "FIXED_SIZE_MISMATCH", "/size")
case("fixed renamed", F16, dict(F16, name="G"), False, False, "NAME_MISMATCH", "/name", "NAME_MISMATCH", "/name")
case("fixed to bytes", F16, "bytes", False, False, "TYPE_MISMATCH", "/", "TYPE_MISMATCH", "/")

case("array items promoted", {"type": "array", "items": "int"}, {"type": "array", "items": "long"}, True, False,
     ftype="TYPE_MISMATCH", fpath="/items")
case("map values changed", {"type": "map", "values": "string"}, {"type": "map", "values": "int"}, False, False,
     "TYPE_MISMATCH", "/values", "TYPE_MISMATCH", "/values")
case("array to map", {"type": "array", "items": "int"}, {"type": "map", "values": "int"}, False, False,
     "TYPE_MISMATCH", "/", "TYPE_MISMATCH", "/")
case("array of records, field added without default",
     {"type": "array", "items": rec([A])}, {"type": "array", "items": rec([A, f("z", "int")])}, False, True,
     "READER_FIELD_MISSING_DEFAULT_VALUE", "/items/fields/1")

inner1 = rec([A], name="In")
inner2 = rec([A, f("x", "double")], name="In")
case("nested record field added without default", rec([f("in", inner1)]), rec([f("in", inner2)]), False, True,
     "READER_FIELD_MISSING_DEFAULT_VALUE", "/fields/0/type/fields/1")
case("nested record reused by name", rec([f("in", inner1), f("again", "In")]), rec([f("in", inner1), f("again", "In")]), True, True)

def linked(extra):
    return {"type": "record", "name": "Node", "fields": [f("v", "int"), f("next", ["null", "Node"], default=None)] + extra}
case("recursive schema identical", linked([]), linked([]), True, True)
case("recursive schema, field added with default", linked([]), linked([f("w", "long", default=0)]), True, True)
case("recursive schema, field added without default", linked([]), linked([f("w", "long")]), False, True,
     "READER_FIELD_MISSING_DEFAULT_VALUE", "/fields/2")
def tree(t):
    return {"type": "record", "name": "Tree", "fields": [f("v", t), f("kids", {"type": "array", "items": "Tree"})]}
case("mutually nested recursion, value promoted", tree("int"), tree("long"), True, False,
     ftype="TYPE_MISMATCH", fpath="/fields/0/type")

case("top level int to long", "int", "long", True, False, ftype="TYPE_MISMATCH", fpath="/")
case("logical type added (same encoding)", "long", {"type": "long", "logicalType": "timestamp-millis"}, True, True)
case("record to union with it", rec([A]), ["null", rec([A])], True, False, ftype="TYPE_MISMATCH", fpath="/0")

json.dump({"comment": "Generated by gen_compat.py: old is the registered schema, new the candidate; expect gives the verdict per level (transitive levels behave as their base level for one pair); *_error gives the first incompatibility expected in that direction.", "cases": cases},
          open("compat.json", "w"), indent=1)
print(len(cases), "cases")
