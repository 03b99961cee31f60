/*
 * avro_internal.h: the compiled schema plan shared by the files of the avro
 * module (schema.c builds it, decode.c and encode.c walk it, text.c holds
 * the number/string/base64 helpers both need).
 *
 * A plan is a graph of nodes allocated from the schema's arena; named types
 * are one node referenced from everywhere they are used, so recursive
 * schemas are cycles in the graph. Nothing in a plan changes after
 * evb_avro_schema_parse returns.
 */
#ifndef EVB_AVRO_INTERNAL_H
#define EVB_AVRO_INTERNAL_H

#include <stdatomic.h>

#include "../json/json.h"
#include "avro.h"

typedef enum evb__avro_kind {
    EVB__AK_NULL,
    EVB__AK_BOOLEAN,
    EVB__AK_INT,
    EVB__AK_LONG,
    EVB__AK_FLOAT,
    EVB__AK_DOUBLE,
    EVB__AK_BYTES,
    EVB__AK_STRING,
    EVB__AK_RECORD,
    EVB__AK_ENUM,
    EVB__AK_ARRAY,
    EVB__AK_MAP,
    EVB__AK_UNION,
    EVB__AK_FIXED
} evb__avro_kind_t;

typedef enum evb__avro_logical {
    EVB__AL_NONE,
    EVB__AL_DECIMAL,
    EVB__AL_UUID,
    EVB__AL_DATE,
    EVB__AL_TIME_MILLIS,
    EVB__AL_TIME_MICROS,
    EVB__AL_TIMESTAMP_MILLIS,
    EVB__AL_TIMESTAMP_MICROS,
    EVB__AL_LOCAL_TIMESTAMP_MILLIS,
    EVB__AL_LOCAL_TIMESTAMP_MICROS,
    EVB__AL_DURATION,
    EVB__AL_INT8, /* "connect.type": "int8" */
    EVB__AL_INT16 /* "connect.type": "int16" */
} evb__avro_logical_t;

typedef struct evb__avro_node evb__avro_node_t;

typedef struct evb__avro_field {
    const char *name; /* NUL-terminated */
    uint32_t name_len;
    const char *key; /* rendered '{"name":' (first field) or ',"name":' */
    uint32_t key_len;
    evb__avro_node_t *type;
    const evb_jval_t *defval; /* the "default" JSON, or NULL */
    /* Avro binary of the default (as a value of type), for the encoder's
     * missing members. NULL when there is no default. */
    const uint8_t *def_bin;
    size_t def_len;
    /* General unions only: binary of the non-null default (union index
     * included) rendered in place of a null value (rule 10). */
    const uint8_t *nulldef_bin;
    size_t nulldef_len;
} evb__avro_field_t;

struct evb__avro_node {
    uint8_t kind;         /* evb__avro_kind_t */
    uint8_t logical;      /* evb__avro_logical_t */
    uint8_t named;        /* record, enum, fixed */
    uint8_t klass;        /* union "Java class" group, see schema.c */
    uint32_t min_size;    /* fewest bytes an encoding can take (saturating) */
    uint32_t id;          /* index in the compile order */
    const char *name;     /* short name (named types) */
    const char *fullname; /* full name (named types) */
    const char *branch;   /* union member name in the JSON (rule 9) */
    uint32_t branch_len;
    int32_t scale;     /* decimal */
    int32_t precision; /* decimal; 0 = unknown / not checked */
    union {
        struct {
            evb__avro_field_t *fields;
            uint32_t n;
        } rec;
        struct {
            const char **syms; /* NUL-terminated symbols */
            uint32_t *sym_lens;
            const char **quoted; /* "\"SYM\"" */
            uint32_t *quoted_lens;
            uint32_t n;
        } en;
        struct {
            evb__avro_node_t *items; /* array items or map values */
        } coll;
        struct {
            evb__avro_node_t **br;
            uint32_t n;
            int32_t null_idx; /* index of the null branch, -1 if none */
            uint8_t nullable; /* two branches, one null: unwrapped */
            /* general unions: per branch, the wrapper text before and after
             * the value, and the branch whose member receives the value */
            const char **pre;
            uint32_t *pre_lens;
            const char **post;
            uint32_t *post_lens;
            uint32_t *slot;
            const char *bad; /* why values cannot be rendered, or NULL */
        } uni;
        struct {
            uint32_t size;
        } fixed;
    } u;
};

struct evb_avro_schema {
    atomic_uint refs;
    evb_arena_t arena; /* every node, string and the schema DOM */
    evb__avro_node_t *root;
    const char *name;
    char *canonical;
    size_t canonical_len;
    uint64_t fingerprint;
    struct avro_obj_t *avro_c;
};

/* ---- text helpers (text.c) ---------------------------------------------- */

/* Longest outputs of the number formatters below. */
#define EVB__NUM_MAX 40

/* Java's Double.toString / Float.toString, NaN and infinities as quoted
 * strings (rule 2). Writes at most EVB__NUM_MAX bytes, returns the length. */
size_t evb__fmt_double(double v, char *out);
size_t evb__fmt_float(float v, char *out);
/* Decimal integer. At most 20 bytes. */
size_t evb__fmt_i64(int64_t v, char *out);

/* Bytes needed to escape len bytes as a JSON string, upper bound (quotes
 * included). */
#define EVB__ESC_BOUND(len) ((len)*6 + 2)
/* Write s as a JSON string literal (quotes included) per rule 3 into out,
 * which has room for EVB__ESC_BOUND(len) bytes; returns bytes written. */
size_t evb__json_escape(const uint8_t *s, size_t len, char *out);
/* Copy s replacing invalid UTF-8 (maximal subparts) with U+FFFD; out has
 * room for 3 * len bytes. Returns bytes written. */
size_t evb__utf8_repair(const uint8_t *s, size_t len, uint8_t *out);

#define EVB__B64_LEN(n) ((((n) + 2) / 3) * 4)
/* Standard base64 with padding; returns bytes written. */
size_t evb__base64_encode(const uint8_t *in, size_t n, char *out);
/* Decode standard base64 (padding optional, no whitespace). Returns false
 * if malformed. out has room for (n / 4 + 1) * 3 bytes. */
bool evb__base64_decode(const char *in, size_t n, uint8_t *out,
                        size_t *out_len);

/* Minimal two's-complement form of a big-endian two's-complement integer
 * (BigInteger.toByteArray of new BigInteger(bytes)): returns the offset of
 * the first byte to keep. n must be > 0. */
size_t evb__twos_minimal(const uint8_t *b, size_t n);
/* Render a big-endian two's-complement unscaled value with the given scale
 * as Java's BigDecimal.toString. Appends to out; EVB_ERR_TOO_LARGE past
 * out's maximum, EVB_ERR_NOMEM. n must be > 0. */
evb_err_t evb__decimal_to_text(const uint8_t *b, size_t n, int32_t scale,
                               evb_buf_t *out);
/* Parse a JSON number's text as an exact decimal, rescale it to scale and
 * write the unscaled value as big-endian two's complement: minimal when
 * fixed_size is 0, else sign-extended to exactly fixed_size bytes. precision
 * > 0 limits the digits. EVB_ERR_INVALID_ARG with a reason in errstr. */
evb_err_t evb__decimal_from_text(const char *num, size_t len, int32_t scale,
                                 int32_t precision, size_t fixed_size,
                                 evb_buf_t *out, char *errstr,
                                 size_t errstr_size);

/* ---- encoder entry used by schema.c for defaults (encode.c) -------------- */

/* Encode v as a value of n into out. avro_default: v is an Avro schema
 * default (bytes as ISO-8859-1 strings, unions as the value of their first
 * matching branch, no wrapping); otherwise the decoder-shaped JSON accepted
 * by evb_avro_from_json. */
evb_err_t evb__avro_encode_value(const evb__avro_node_t *n, const evb_jval_t *v,
                                 bool avro_default, unsigned flags,
                                 evb_buf_t *out, char *errstr,
                                 size_t errstr_size);

/* Name of a node's type for messages ("int", "record Foo", ...). */
const char *evb__avro_kind_name(const evb__avro_node_t *n);

#endif
