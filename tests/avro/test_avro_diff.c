/* test_avro_diff.c: differential test against avro-c.
 *
 * For a few hundred random schemas (records, enums, fixed, arrays, maps,
 * nullable and general unions, recursion through nullable references,
 * decimals and the other logical types) and random values of each:
 *   1. avro-c's generic value API builds a random value and avro-c's writer
 *      (avro_value_write) produces the bytes: the independent oracle;
 *   2. evb_avro_to_json decodes the bytes; the JSON (parsed by jansson) is
 *      compared structurally with avro-c's value under the rules of avro.h
 *      (unwrapped nullable unions, wrapped general unions with every
 *      branch, base64, minimal decimals, exact floats and doubles);
 *   3. evb_avro_from_json encodes that JSON back, which must give exactly
 *      avro-c's bytes, and avro-c's reader must read our bytes back to an
 *      equal value (avro_value_equal).
 * Everything is seeded, so a failure reproduces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <avro.h>
#include <cmocka.h>
#include <jansson.h>

#include "avro/avro_internal.h"

/* ---- random ------------------------------------------------------------- */

static uint64_t rs;
static uint64_t rnd(void) {
    uint64_t z = (rs += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static unsigned rn(unsigned n) {
    return (unsigned)(rnd() % n);
}

/* ---- random schemas -------------------------------------------------------
 */

typedef struct gen {
    int next_name;
    const char *ns;       /* the root's namespace, inherited by every type */
    char records[32][32]; /* record names defined so far */
    int nrecords;
} gen_t;

static json_t *gen_type(gen_t *g, int depth);

static json_t *gen_named(gen_t *g, const char *type, int depth) {
    char name[16];
    snprintf(name, sizeof name, "%c%d",
             type[0] == 'r'   ? 'R'
             : type[0] == 'e' ? 'E'
                              : 'F',
             g->next_name++);
    json_t *o = json_pack("{s:s,s:s}", "type", type, "name", name);
    if (g->next_name == 1 && g->ns)
        json_object_set_new(o, "namespace", json_string(g->ns));
    if (type[0] == 'r') {
        /* referenced by full name, which avro-c always resolves */
        if (g->nrecords < 32)
            snprintf(g->records[g->nrecords++], 32, "%s%s%s",
                     g->ns ? g->ns : "", g->ns ? "." : "", name);
        json_t *fields = json_array();
        unsigned nf = 1 + rn(4); /* avro-c cannot allocate empty records */
        for (unsigned i = 0; i < nf; i++) {
            char fname[8];
            snprintf(fname, sizeof fname, "f%u", i);
            json_array_append_new(fields,
                                  json_pack("{s:s,s:o}", "name", fname, "type",
                                            gen_type(g, depth + 1)));
        }
        json_object_set_new(o, "fields", fields);
    } else if (type[0] == 'e') {
        json_t *syms = json_array();
        unsigned ns = 1 + rn(5);
        for (unsigned i = 0; i < ns; i++) {
            char sym[8];
            snprintf(sym, sizeof sym, "S%u", i);
            json_array_append_new(syms, json_string(sym));
        }
        json_object_set_new(o, "symbols", syms);
    } else {
        json_object_set_new(
            o, "size",
            json_integer(1 + rn(17))); /* avro-c cannot read fixed(0) */
        if (rn(4) == 0 && json_integer_value(json_object_get(o, "size")) > 0) {
            json_object_set_new(o, "logicalType", json_string("decimal"));
            json_object_set_new(o, "precision", json_integer(1));
            json_object_set_new(o, "scale", json_integer(rn(4)));
        }
    }
    return o;
}

static json_t *gen_prim(void) {
    static const char *p[] = {"null",  "boolean", "int",   "long",
                              "float", "double",  "bytes", "string"};
    switch (rn(14)) {
    case 0: return json_pack("{s:s,s:s}", "type", "int", "logicalType", "date");
    case 1:
        return json_pack("{s:s,s:s}", "type", "int", "logicalType",
                         "time-millis");
    case 2:
        return json_pack("{s:s,s:s}", "type", "long", "logicalType",
                         rn(2) ? "timestamp-millis" : "timestamp-micros");
    case 3:
        return json_pack("{s:s,s:s,s:i,s:i}", "type", "bytes", "logicalType",
                         "decimal", "precision", 30, "scale", (int)rn(5));
    case 4:
        return json_pack("{s:s,s:s}", "type", "string", "logicalType", "uuid");
    default: return json_string(p[rn(8)]);
    }
}

/* the Avro type name a branch is known by in a union (for distinctness) */
static const char *branch_key(json_t *t) {
    if (json_is_string(t))
        return json_string_value(t);
    const char *ty = json_string_value(json_object_get(t, "type"));
    if (!strcmp(ty, "record") || !strcmp(ty, "enum") || !strcmp(ty, "fixed"))
        return json_string_value(json_object_get(t, "name"));
    return ty;
}

static json_t *gen_union(gen_t *g, int depth) {
    if (rn(2) == 0) { /* nullable; sometimes a (recursive) reference */
        json_t *other;
        int save = g->nrecords; /* forget names of discarded definitions */
        if (g->nrecords && rn(3) == 0)
            other = json_string(g->records[rn((unsigned)g->nrecords)]);
        else
            other = gen_type(g, depth + 1);
        while (json_is_array(other) ||
               (json_is_string(other) &&
                !strcmp(json_string_value(other), "null"))) {
            json_decref(other);
            g->nrecords = save;
            other = gen_prim();
            if (json_is_string(other) &&
                !strcmp(json_string_value(other), "null")) {
                json_decref(other);
                other = json_string("int");
            }
        }
        return rn(2) ? json_pack("[s,o]", "null", other)
                     : json_pack("[o,s]", other, "null");
    }
    json_t *u = json_array();
    unsigned want = 2 + rn(4);
    bool fixed_used = false, has_null = false;
    for (unsigned tries = 0; json_array_size(u) < want && tries < 20; tries++) {
        json_t *b;
        int save = g->nrecords;
        switch (rn(6)) {
        case 0: b = gen_named(g, "record", depth + 1); break;
        case 1: b = gen_named(g, "enum", depth + 1); break;
        case 2:
            if (fixed_used)
                continue;
            b = gen_named(g, "fixed", depth + 1);
            fixed_used = true;
            break;
        case 3:
            b = rn(2) ? json_pack("{s:s,s:o}", "type", "array", "items",
                                  gen_type(g, depth + 2))
                      : json_pack("{s:s,s:o}", "type", "map", "values",
                                  gen_type(g, depth + 2));
            while (json_is_array(json_object_get(b, "items")) ||
                   json_is_array(json_object_get(b, "values"))) {
                const char *k =
                    json_object_get(b, "items") ? "items" : "values";
                json_object_set_new(b, k, json_string("long"));
            }
            break;
        default: b = gen_prim();
        }
        const char *k = branch_key(b);
        bool dup = false;
        size_t i;
        json_t *o;
        json_array_foreach(u, i, o) dup = dup || !strcmp(branch_key(o), k);
        if (dup) {
            json_decref(b);
            g->nrecords = save;
            continue;
        }
        has_null = has_null || !strcmp(k, "null");
        json_array_append_new(u, b);
    }
    if (json_array_size(u) == 2 && has_null) /* keep it general */
        json_array_append_new(
            u, json_string(
                   strcmp(branch_key(json_array_get(u, 0)), "boolean") &&
                           strcmp(branch_key(json_array_get(u, 1)), "boolean")
                       ? "boolean"
                       : "double"));
    return u;
}

static json_t *gen_type(gen_t *g, int depth) {
    if (depth > 4)
        return gen_prim();
    switch (rn(10)) {
    case 0:
    case 1: return gen_named(g, "record", depth);
    case 2: return gen_named(g, "enum", depth);
    case 3: return gen_named(g, "fixed", depth);
    case 4:
        return json_pack("{s:s,s:o}", "type", "array", "items",
                         gen_type(g, depth + 1));
    case 5:
        return json_pack("{s:s,s:o}", "type", "map", "values",
                         gen_type(g, depth + 1));
    case 6:
    case 7: return gen_union(g, depth);
    default: return gen_prim();
    }
}

/* ---- random values, through avro-c ------------------------------------------
 */

static void rand_utf8(char *buf, size_t *len, size_t max) {
    size_t n = 0, want = rn(12);
    for (size_t i = 0; i < want && n + 4 < max; i++) {
        unsigned cp;
        switch (rn(6)) {
        case 0: cp = 1 + rn(0x1f); break; /* controls */
        case 1: cp = "\"\\/ab"[rn(5)]; break;
        case 2: cp = 0x80 + rn(0x780); break;           /* 2 bytes */
        case 3: cp = 0x800 + rn(0xD000 - 0x800); break; /* 3 bytes */
        case 4: cp = 0x10000 + rn(0x100000); break;     /* 4 bytes */
        default: cp = 0x20 + rn(0x5f);
        }
        if (cp < 0x80) {
            buf[n++] = (char)cp;
        } else if (cp < 0x800) {
            buf[n++] = (char)(0xC0 | cp >> 6);
            buf[n++] = (char)(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
            buf[n++] = (char)(0xE0 | cp >> 12);
            buf[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            buf[n++] = (char)(0x80 | (cp & 0x3F));
        } else {
            buf[n++] = (char)(0xF0 | cp >> 18);
            buf[n++] = (char)(0x80 | ((cp >> 12) & 0x3F));
            buf[n++] = (char)(0x80 | ((cp >> 6) & 0x3F));
            buf[n++] = (char)(0x80 | (cp & 0x3F));
        }
    }
    buf[n] = '\0';
    *len = n;
}

static double rand_double(void) {
    uint64_t u;
    double d;
    switch (rn(8)) {
    case 0:
        u = rnd();
        memcpy(&d, &u, 8);
        return isnan(d) ? NAN : d;
    case 1: return (double)(int64_t)rnd() / pow(10, rn(8));
    case 2: return (double)rn(100000) / 100.0;
    case 3: return ldexp(1.0, (int)rn(2000) - 1000);
    case 4: {
        static const double sp[] = {
            0.0,         -0.0,   1e7,    1e-3,
            9999999.999, 1e-300, 5e-324, 1.7976931348623157e308};
        return sp[rn(8)] * (rn(2) ? 1 : -1);
    }
    default: return ((double)rnd() / 18446744073709551616.0 - 0.5) * 400.0;
    }
}

static bool saw_nan; /* avro_value_equal says NaN != NaN */

static void fill(const evb__avro_node_t *n, avro_value_t *v, int depth) {
    switch ((evb__avro_kind_t)n->kind) {
    case EVB__AK_NULL: avro_value_set_null(v); break;
    case EVB__AK_BOOLEAN: avro_value_set_boolean(v, (int)rn(2)); break;
    case EVB__AK_INT: {
        int32_t x = (int32_t)(uint32_t)rnd();
        if (rn(2))
            x = (int32_t)rn(200) - 100;
        if (n->logical == EVB__AL_TIME_MILLIS)
            x = (int32_t)rn(86400001);
        avro_value_set_int(v, x);
        break;
    }
    case EVB__AK_LONG: {
        int64_t x = rn(2) ? (int64_t)rnd() : (int64_t)rn(2000) - 1000;
        avro_value_set_long(v, x);
        break;
    }
    case EVB__AK_FLOAT: {
        float f = (float)rand_double();
        if (rn(4) == 0) {
            uint32_t u = (uint32_t)rnd();
            memcpy(&f, &u, 4);
        }
        if (isnan(f)) {
            f = NAN;
            saw_nan = true;
        }
        avro_value_set_float(v, f);
        break;
    }
    case EVB__AK_DOUBLE: {
        double d = rand_double();
        saw_nan = saw_nan || isnan(d);
        avro_value_set_double(v, d);
        break;
    }
    case EVB__AK_STRING: {
        char buf[64];
        size_t len;
        rand_utf8(buf, &len, sizeof buf);
        avro_value_set_string_len(v, buf, len + 1);
        break;
    }
    case EVB__AK_BYTES: {
        uint8_t buf[24];
        /* never empty: an empty value shown under a decimal branch is an
         * error by rule 12 (the vectors test that) */
        size_t len = 1 + rn(19);
        for (size_t i = 0; i < len; i++)
            buf[i] = rn(3) ? (uint8_t)rnd() : (rn(2) ? 0x00 : 0xFF);
        avro_value_set_bytes(v, buf, len);
        break;
    }
    case EVB__AK_FIXED: {
        uint8_t buf[32];
        for (size_t i = 0; i < n->u.fixed.size; i++)
            buf[i] = rn(3) ? (uint8_t)rnd() : (rn(2) ? 0x00 : 0xFF);
        avro_value_set_fixed(v, buf, n->u.fixed.size);
        break;
    }
    case EVB__AK_ENUM: avro_value_set_enum(v, (int)rn(n->u.en.n)); break;
    case EVB__AK_RECORD:
        for (uint32_t i = 0; i < n->u.rec.n; i++) {
            avro_value_t f;
            assert_int_equal(avro_value_get_by_index(v, i, &f, NULL), 0);
            fill(n->u.rec.fields[i].type, &f, depth + 1);
        }
        break;
    case EVB__AK_ARRAY: {
        unsigned cnt = depth > 5 ? 0 : rn(4);
        for (unsigned i = 0; i < cnt; i++) {
            avro_value_t item;
            assert_int_equal(avro_value_append(v, &item, NULL), 0);
            fill(n->u.coll.items, &item, depth + 1);
        }
        break;
    }
    case EVB__AK_MAP: {
        unsigned cnt = depth > 5 ? 0 : rn(4);
        for (unsigned i = 0; i < cnt; i++) {
            char key[64];
            size_t kl;
            rand_utf8(key, &kl, sizeof key);
            avro_value_t item;
            assert_int_equal(avro_value_add(v, key, &item, NULL, NULL), 0);
            fill(n->u.coll.items, &item, depth + 1);
        }
        break;
    }
    case EVB__AK_UNION: {
        uint32_t b = rn(n->u.uni.n);
        if (depth > 5 && n->u.uni.null_idx >= 0)
            b = (uint32_t)n->u.uni.null_idx;
        avro_value_t br;
        assert_int_equal(avro_value_set_branch(v, (int)b, &br), 0);
        fill(n->u.uni.br[b], &br, depth + 1);
        break;
    }
    }
}

/* ---- expectations
 * ------------------------------------------------------------ */

static const char b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static void base64(const uint8_t *p, size_t n, char *out) {
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        out[o++] = b64[v >> 18];
        out[o++] = b64[(v >> 12) & 63];
        out[o++] = i + 1 < n ? b64[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    out[o] = '\0';
}

/* the JSON does not give back the same bytes: a value rendered under an
 * earlier bytes branch, or a decimal with redundant sign bytes */
static bool lossy;
static char why[512];

#define MISMATCH(...)                                                          \
    do {                                                                       \
        snprintf(why, sizeof why, __VA_ARGS__);                                \
        return false;                                                          \
    } while (0)

static bool check_bytes(json_t *got, const uint8_t *p, size_t n,
                        const evb__avro_node_t *as) {
    if (as->logical == EVB__AL_DECIMAL) {
        /* BigInteger.toByteArray: drop redundant sign bytes */
        while (n > 1 && ((p[0] == 0 && !(p[1] & 0x80)) ||
                         (p[0] == 0xFF && (p[1] & 0x80)))) {
            p++;
            n--;
            lossy = lossy || as->kind == EVB__AK_BYTES;
        }
    }
    char want[64];
    base64(p, n, want);
    if (!json_is_string(got) || strcmp(json_string_value(got), want) != 0)
        MISMATCH("bytes: want \"%s\"", want);
    return true;
}

static bool check(json_t *got, avro_value_t *v, const evb__avro_node_t *n);

static bool check_union(json_t *got, avro_value_t *v,
                        const evb__avro_node_t *n) {
    int disc = 0;
    avro_value_t br;
    avro_value_get_discriminant(v, &disc);
    avro_value_get_current_branch(v, &br);
    const evb__avro_node_t *b = n->u.uni.br[disc];
    if (b->kind == EVB__AK_NULL) {
        if (!json_is_null(got))
            MISMATCH("union null: want null");
        return true;
    }
    if (n->u.uni.nullable)
        return check(got, &br, b);
    if (!json_is_object(got))
        MISMATCH("general union: want an object");
    uint32_t slot = disc;
    for (uint32_t k = 0; k < (uint32_t)disc; k++) {
        const evb__avro_node_t *o = n->u.uni.br[k];
        bool by = (o->kind == EVB__AK_BYTES || o->kind == EVB__AK_FIXED) &&
                  (b->kind == EVB__AK_BYTES || b->kind == EVB__AK_FIXED);
        if (by) {
            slot = k;
            break;
        }
    }
    void *it = json_object_iter(got);
    for (uint32_t k = 0; k < n->u.uni.n; k++) {
        const evb__avro_node_t *o = n->u.uni.br[k];
        if (o->kind == EVB__AK_NULL)
            continue;
        const char *want_key =
            (o->kind == EVB__AK_RECORD || o->kind == EVB__AK_ENUM)
                ? o->name
                : evb__avro_kind_name(o);
        if (!it || strcmp(json_object_iter_key(it), want_key) != 0)
            MISMATCH("general union: want member \"%s\"", want_key);
        json_t *m = json_object_iter_value(it);
        if (k == slot) {
            if (slot != (uint32_t)disc) {
                const void *p = NULL;
                size_t len = 0;
                lossy = true;
                if (b->kind == EVB__AK_FIXED)
                    avro_value_get_fixed(&br, &p, &len);
                else
                    avro_value_get_bytes(&br, &p, &len);
                if (!check_bytes(m, p, len, o))
                    return false;
            } else if (!check(m, &br, b)) {
                return false;
            }
        } else if (!json_is_null(m)) {
            MISMATCH("general union: member \"%s\" should be null", want_key);
        }
        it = json_object_iter_next(got, it);
    }
    if (it)
        MISMATCH("general union: extra members");
    return true;
}

static bool check(json_t *got, avro_value_t *v, const evb__avro_node_t *n) {
    switch ((evb__avro_kind_t)n->kind) {
    case EVB__AK_NULL:
        if (!json_is_null(got))
            MISMATCH("want null");
        return true;
    case EVB__AK_BOOLEAN: {
        int b = 0;
        avro_value_get_boolean(v, &b);
        if (!json_is_boolean(got) || json_is_true(got) != (b != 0))
            MISMATCH("boolean");
        return true;
    }
    case EVB__AK_INT: {
        int32_t x = 0;
        avro_value_get_int(v, &x);
        if (!json_is_integer(got) || json_integer_value(got) != x)
            MISMATCH("int: want %d", x);
        return true;
    }
    case EVB__AK_LONG: {
        int64_t x = 0;
        avro_value_get_long(v, &x);
        if (!json_is_integer(got) || json_integer_value(got) != x)
            MISMATCH("long: want %lld", (long long)x);
        return true;
    }
    case EVB__AK_FLOAT:
    case EVB__AK_DOUBLE: {
        double want = 0;
        if (n->kind == EVB__AK_FLOAT) {
            float f = 0;
            avro_value_get_float(v, &f);
            want = f;
        } else {
            avro_value_get_double(v, &want);
        }
        if (isnan(want) || isinf(want)) {
            const char *s = isnan(want) ? "NaN"
                            : want > 0  ? "Infinity"
                                        : "-Infinity";
            if (!json_is_string(got) || strcmp(json_string_value(got), s))
                MISMATCH("float: want \"%s\"", s);
            return true;
        }
        if (!json_is_real(got))
            MISMATCH("float/double: want a real for %.17g", want);
        double g = json_real_value(got);
        bool same =
            n->kind == EVB__AK_FLOAT ? (float)g == (float)want : g == want;
        if (!same || signbit(g) != signbit(want))
            MISMATCH("float/double: want %.17g got %.17g", want, g);
        return true;
    }
    case EVB__AK_STRING: {
        const char *s = NULL;
        size_t len = 0;
        avro_value_get_string(v, &s, &len);
        if (!json_is_string(got) || json_string_length(got) != len - 1 ||
            memcmp(json_string_value(got), s, len - 1) != 0)
            MISMATCH("string");
        return true;
    }
    case EVB__AK_BYTES:
    case EVB__AK_FIXED: {
        const void *p = NULL;
        size_t len = 0;
        if (n->kind == EVB__AK_FIXED)
            avro_value_get_fixed(v, &p, &len);
        else
            avro_value_get_bytes(v, &p, &len);
        return check_bytes(got, p, len, n);
    }
    case EVB__AK_ENUM: {
        int e = 0;
        avro_value_get_enum(v, &e);
        if (!json_is_string(got) ||
            strcmp(json_string_value(got), n->u.en.syms[e]) != 0)
            MISMATCH("enum: want %s", n->u.en.syms[e]);
        return true;
    }
    case EVB__AK_RECORD: {
        if (!json_is_object(got) || json_object_size(got) != n->u.rec.n)
            MISMATCH("record %s: want %u members", n->fullname, n->u.rec.n);
        void *it = json_object_iter(got);
        for (uint32_t i = 0; i < n->u.rec.n;
             i++, it = json_object_iter_next(got, it)) {
            if (strcmp(json_object_iter_key(it), n->u.rec.fields[i].name))
                MISMATCH("record %s: field %u out of order", n->fullname, i);
            avro_value_t f;
            avro_value_get_by_index(v, i, &f, NULL);
            if (!check(json_object_iter_value(it), &f, n->u.rec.fields[i].type))
                return false;
        }
        return true;
    }
    case EVB__AK_ARRAY: {
        size_t cnt = 0;
        avro_value_get_size(v, &cnt);
        if (!json_is_array(got) || json_array_size(got) != cnt)
            MISMATCH("array: want %zu items", cnt);
        for (size_t i = 0; i < cnt; i++) {
            avro_value_t item;
            avro_value_get_by_index(v, i, &item, NULL);
            if (!check(json_array_get(got, i), &item, n->u.coll.items))
                return false;
        }
        return true;
    }
    case EVB__AK_MAP: {
        size_t cnt = 0;
        avro_value_get_size(v, &cnt);
        if (!json_is_object(got) || json_object_size(got) != cnt)
            MISMATCH("map: want %zu entries", cnt);
        for (size_t i = 0; i < cnt; i++) {
            avro_value_t item;
            const char *key = NULL;
            avro_value_get_by_index(v, i, &item, &key);
            json_t *m = json_object_get(got, key);
            if (!m)
                MISMATCH("map: key missing");
            if (!check(m, &item, n->u.coll.items))
                return false;
        }
        return true;
    }
    case EVB__AK_UNION: return check_union(got, v, n);
    }
    return false;
}

/* ---- the test
 * -------------------------------------------------------------------- */

static void differential(void **state) {
    (void)state;
    rs = 20240601;
    int schemas = 0, values = 0, lossy_values = 0;
    char err[1024];
    for (int round = 0; round < 400; round++) {
        static const char *spaces[] = {NULL, "a.b", "x"};
        gen_t g = {.next_name = 0, .ns = spaces[rn(3)]};
        json_t *root;
        if (rn(4)) {
            root = gen_named(&g, "record", 0);
        } else {
            g.ns = NULL; /* the namespace only goes on a root record */
            root = gen_type(&g, 0);
        }
        char *text = json_dumps(root, JSON_COMPACT | JSON_ENCODE_ANY);
        json_decref(root);
        evb_avro_schema_t *s;
        if (evb_avro_schema_parse(text, strlen(text), &s, err, sizeof err)) {
            fprintf(stderr, "schema %d rejected: %s\n%s\n", round, err, text);
            fail();
        }
        schemas++;
        avro_schema_t as = (avro_schema_t)evb_avro_schema_avro_c(s);
        avro_value_iface_t *iface = avro_generic_class_from_schema(as);
        assert_non_null(iface);
        for (int k = 0; k < 25; k++) {
            avro_value_t val, back;
            assert_int_equal(avro_generic_value_new(iface, &val), 0);
            saw_nan = false;
            fill(s->root, &val, 0);
            size_t size = 0;
            assert_int_equal(avro_value_sizeof(&val, &size), 0);
            char *bytes = malloc(size + 1);
            avro_writer_t w = avro_writer_memory(bytes, (int64_t)size);
            assert_int_equal(avro_value_write(w, &val), 0);
            avro_writer_free(w);

            evb_buf_t out, bin;
            evb_buf_init(&out, 0);
            evb_buf_init(&bin, 0);
            size_t used = 0;
            if (evb_avro_to_json(s, bytes, size, NULL, &out, &used, err,
                                 sizeof err)) {
                fprintf(stderr, "schema %s\ndecode failed: %s\n", text, err);
                fail();
            }
            assert_int_equal(used, size);
            json_error_t je;
            json_t *got = json_loadb(out.data, out.len,
                                     JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
            if (!got) {
                fprintf(stderr, "not JSON (%s): %s\n", je.text, out.data);
                fail();
            }
            lossy = false;
            if (!check(got, &val, s->root)) {
                fprintf(stderr, "schema %s\njson %s\nmismatch: %s\n", text,
                        out.data, why);
                fail();
            }
            if (evb_avro_from_json(s, out.data, out.len, EVB_AVRO_STRICT, &bin,
                                   err, sizeof err)) {
                fprintf(stderr, "schema %s\njson %s\nencode failed: %s\n", text,
                        out.data, err);
                fail();
            }
            if (!lossy) {
                if (bin.len != size ||
                    (size && memcmp(bin.data, bytes, size) != 0)) {
                    fprintf(stderr,
                            "schema %s\njson %s\nre-encoding differs "
                            "from avro-c's bytes\n",
                            text, out.data);
                    fail();
                }
                assert_int_equal(avro_generic_value_new(iface, &back), 0);
                avro_reader_t r =
                    avro_reader_memory(bin.data, (int64_t)bin.len);
                int rrc = avro_value_read(r, &back);
                if (rrc)
                    fprintf(stderr,
                            "schema %s\njson %s\navro-c cannot read "
                            "it back: %s\n",
                            text, out.data, avro_strerror());
                assert_int_equal(rrc, 0);
                avro_reader_free(r);
                assert_true(saw_nan || avro_value_equal(&val, &back));
                avro_value_decref(&back);
            } else {
                /* the JSON must still come back the same */
                evb_buf_t again;
                evb_buf_init(&again, 0);
                assert_int_equal(evb_avro_to_json(s, bin.data, bin.len, NULL,
                                                  &again, NULL, err,
                                                  sizeof err),
                                 EVB_ERR_OK);
                assert_string_equal(again.data, out.data);
                evb_buf_free(&again);
                lossy_values++;
            }
            values++;
            json_decref(got);
            evb_buf_free(&out);
            evb_buf_free(&bin);
            free(bytes);
            avro_value_decref(&val);
        }
        avro_value_iface_decref(iface);
        evb_avro_schema_unref(s);
        free(text);
    }
    fprintf(stderr,
            "%d schemas, %d values (%d not byte-identical after a "
            "round trip: minimal decimals, bytes-class branches)\n",
            schemas, values, lossy_values);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(differential),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
