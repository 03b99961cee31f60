/*
 * avro: Avro schemas, Avro binary <-> JSON, and the Kafka wire formats
 * (Confluent and AWS Glue Schema Registry framing).
 *
 * Design: a schema is parsed once into an immutable, reference-counted
 * plan (a graph of typed nodes with every JSON fragment the renderer needs
 * precomputed: record keys, enum symbols, union wrappers, defaults already
 * encoded). Decoding walks the plan over the bytes and writes JSON straight
 * into one growing buffer: no per-field allocation, no intermediate value
 * tree. Encoding walks the plan over a JSON DOM (src/json's arena parser,
 * which keeps the source text of numbers, so longs and decimals are exact).
 * avro-c (Debian's libavro-dev) checks every schema a second time and gives
 * callers its avro_schema_t (for resolution and compatibility checks).
 *
 * ==========================================================================
 * Avro -> JSON: the exact rules (those of the EventBridge Kafka sink
 * connector: AWS Glue's AvroData into Kafka Connect's JsonConverter with
 * schemas.enable=false; reference: kafka-connector.md section 5; the same
 * list is in docs/avro-json.md)
 * ==========================================================================
 *  1. null -> null; boolean -> true/false; int, long -> decimal integers.
 *  2. float and double -> the text Java's Float.toString / Double.toString
 *     gives (what Jackson writes): the shortest digits that read back to the
 *     same value; plain notation with at least one fraction digit when
 *     1e-3 <= |x| < 1e7 ("1.0", "-0.0", "153.27", "0.001"), otherwise
 *     computerized scientific notation ("1.0E7", "1.234E-5", "-4.9E-324").
 *     NaN, Infinity and -Infinity are written as the JSON strings "NaN",
 *     "Infinity" and "-Infinity" (Jackson's default QUOTE_NON_NUMERIC_NUMBERS).
 *  3. string -> JSON string. Escapes: \" \\ \b \t \n \f \r, \u00XX (upper
 *     case hex) for the other bytes below 0x20; '/', DEL and all non-ASCII
 *     characters are written as UTF-8. Bytes that are not valid UTF-8 are
 *     replaced by U+FFFD, one per maximal invalid subpart (as Java's
 *     decoder does), so the output is always valid UTF-8 and valid JSON.
 *  4. bytes and fixed -> base64 (RFC 4648 standard alphabet, '=' padding,
 *     no line breaks) of the raw bytes.
 *  5. enum -> its symbol as a string.
 *  6. array -> JSON array; map -> JSON object in the order of the data. A
 *     key that occurs twice keeps its first position and takes its last
 *     value (Java's map semantics; the JSON never has duplicate keys).
 *  7. record -> JSON object, fields in schema order, every field present.
 *  8. A union of exactly two branches one of which is null ("nullable",
 *     either order) is unwrapped: null, or the value of the other branch.
 *  9. Any other union ("general") is wrapped in an object with one member
 *     per non-null branch, in branch order, all null except the one holding
 *     the value: ["null","string","int"] gives {"string":"x","int":null}.
 *     A null value is JSON null. Member names: the short name of a record
 *     or enum branch, the Avro type name of every other branch ("string",
 *     "long", "bytes", "fixed", "array", "map", ...; a logical type keeps its
 *     underlying type's name). As in AvroData the value goes to the FIRST
 *     branch of its Java class: a fixed value in ["bytes", SomeFixed] is
 *     written under "bytes" (rendered as that branch renders it). If two
 *     branches would get the same member name (two fixed types, or two
 *     records with the same short name), the connector rejects the schema;
 *     evbus accepts the schema but fails to convert any value of that union.
 *     An enum branch is written under its name (Confluent's behaviour; Glue's
 *     AvroData fails on enums inside general unions).
 * 10. Defaults: a null in a general union that is a record field with a
 *     non-null default is replaced by that default (Connect's Struct.get
 *     and replace.null.with.default); two-branch nullable unions never get a
 *     default (AvroData drops it), so their null stays null.
 * 11. Logical types render as their underlying type: date, time-millis (int),
 *     time-micros, timestamp-millis/-micros, local-timestamp-millis/-micros
 *     (long) as numbers, uuid as a string, duration (fixed 12) as base64.
 *     time-millis must be within 0..86400000 (Kafka Connect's Time rejects
 *     anything else, so does evbus). The names date, time-millis,
 *     timestamp-millis and decimal are matched ignoring case (as AvroData).
 *     An int with "connect.type" "int8" or "int16" is narrowed like Java's
 *     byteValue()/shortValue().
 * 12. decimal (bytes or fixed): by default base64 of the unscaled value's
 *     MINIMAL big-endian two's-complement bytes (BigInteger.toByteArray:
 *     fixed(8) holding 1 gives "AQ==", zero gives "AA=="); with
 *     EVB_AVRO_DECIMAL_NUMBER the number, written as Java's
 *     BigDecimal.toString ("10.2345", "1.00", "1E-10", "-0.5"). "scale"
 *     defaults to 0; "precision" does not matter for reading. An empty
 *     decimal is an error (new BigInteger(new byte[0]) throws).
 * 13. A record field of type null is written as null (the connector rejects
 *     standalone null schemas; evbus does not).
 *
 * JSON -> Avro accepts the shape above (so decode -> encode -> decode gives
 * the same JSON), plus: unions in Avro's own JSON encoding ({"int":5},
 * {"ns.Rec":{...}} with full names), bare values for general unions (the
 * first branch that fits the JSON type: null; boolean; an integral number
 * for int/long if in range, any number for float/double/decimal; a string
 * for string, enum with that symbol, "NaN"/"Infinity" for float/double,
 * base64 for bytes/fixed; array; object for map or record), decimals as
 * base64 or as JSON numbers (exact; more fraction digits than the scale, or
 * more digits than the precision, is an error), ints given as integral
 * reals ("5.0"). Missing record fields take their schema default; a missing
 * field without a default is an error. Unknown members are ignored unless
 * EVB_AVRO_STRICT. Strings that are not valid UTF-8 are repaired (U+FFFD).
 *
 * Errors. Every function below returns an evb_err_t and writes a human
 * reason into (errstr, errstr_size):
 *   EVB_ERR_INVALID_ARG  invalid schema, or data that does not match it
 *                        (truncation, bad varints, bad lengths, bad union or
 *                        enum indexes, trailing bytes, too deep, unknown
 *                        wire format, bad zlib, JSON of the wrong shape);
 *                        data errors name the byte offset and the path.
 *   EVB_ERR_INVALID_JSON the JSON given to the encoder does not parse.
 *   EVB_ERR_TOO_LARGE    output would pass the configured maximum.
 *   EVB_ERR_NOMEM        allocation failure.
 * On error the output buffer is left as it was before the call.
 *
 * Threads: a parsed schema is immutable; any number of threads may decode
 * and encode with it at once. ref/unref are atomic.
 */
#ifndef EVB_AVRO_H
#define EVB_AVRO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/common.h"

struct avro_obj_t; /* avro-c's schema object (avro_schema_t) */

/* ---- schemas --------------------------------------------------------------
 */

typedef struct evb_avro_schema evb_avro_schema_t;

/* Nesting limit of schema JSON and of named-type definitions. */
#define EVB_AVRO_SCHEMA_MAX_DEPTH 200

/*
 * Parse Avro schema JSON text (len bytes, need not be NUL-terminated) and
 * compile it. Checks what Java's Schema.Parser checks (names, namespaces,
 * duplicate fields/symbols/union branches, nested unions, defaults valid for
 * their types, fixed sizes, ...; messages worded like Java's), then parses
 * the text with avro-c as a second opinion. On success *out holds a new
 * schema with one reference; release it with evb_avro_schema_unref.
 */
evb_err_t evb_avro_schema_parse(const char *json, size_t len,
                                evb_avro_schema_t **out, char *errstr,
                                size_t errstr_size);

/* Take another reference (returns s). */
evb_avro_schema_t *evb_avro_schema_ref(evb_avro_schema_t *s);
/* Drop a reference; the last one frees the schema. NULL is ignored. */
void evb_avro_schema_unref(evb_avro_schema_t *s);

/* Full name of the top-level named type ("software.amazon.X.Event"), or the
 * type name of an unnamed top-level type ("string", "array", "union").
 * Valid while s is. */
const char *evb_avro_schema_name(const evb_avro_schema_t *s);

/* Parsing Canonical Form (Avro spec) of the schema, NUL-terminated, and
 * its length in *len (if len is not NULL). Valid while s is. */
const char *evb_avro_schema_canonical(const evb_avro_schema_t *s, size_t *len);

/* CRC-64-AVRO (Rabin) fingerprint of the Parsing Canonical Form. */
uint64_t evb_avro_schema_fingerprint64(const evb_avro_schema_t *s);

/* The same schema as parsed by avro-c (borrowed: valid while s is; take
 * your own avro_schema_incref to keep it longer). */
struct avro_obj_t *evb_avro_schema_avro_c(const evb_avro_schema_t *s);

/* ---- Avro binary -> JSON --------------------------------------------------
 */

/* Flags for evb_avro_json_opts_t.flags */
#define EVB_AVRO_DECIMAL_NUMBER 0x1u /* decimals as JSON numbers, not base64   \
                                      */
#define EVB_AVRO_ALLOW_TRAILING 0x2u /* ignore bytes after the datum */

#define EVB_AVRO_DEFAULT_MAX_DEPTH 128
#define EVB_AVRO_DEFAULT_MAX_OUTPUT (64u * 1024 * 1024)

typedef struct evb_avro_json_opts {
    unsigned flags;     /* EVB_AVRO_DECIMAL_NUMBER | EVB_AVRO_ALLOW_TRAILING */
    unsigned max_depth; /* nesting of records/arrays/maps/unions; 0 = 128 */
    size_t max_output;  /* bytes of JSON one call may add; 0 = 64 MiB */
} evb_avro_json_opts_t;

/*
 * Decode one Avro binary datum of schema s (len bytes at data) and append
 * its JSON text (rules above) to out; out->data stays NUL-terminated.
 * opts may be NULL (defaults). *consumed (if not NULL) receives the number
 * of bytes the datum used. The output is also bounded by out->max.
 */
evb_err_t evb_avro_to_json(const evb_avro_schema_t *s, const void *data,
                           size_t len, const evb_avro_json_opts_t *opts,
                           evb_buf_t *out, size_t *consumed, char *errstr,
                           size_t errstr_size);

/* ---- JSON -> Avro binary --------------------------------------------------
 */

/* Flags for the encoder */
#define EVB_AVRO_STRICT 0x100u /* reject record members the schema lacks */

/*
 * Encode the JSON document (len bytes of text) as one Avro binary datum of
 * schema s and append it to out (bounded by out->max). flags: 0 or
 * EVB_AVRO_STRICT. EVB_ERR_INVALID_JSON if the text is not JSON;
 * EVB_ERR_INVALID_ARG if it does not fit the schema (errstr says where).
 */
evb_err_t evb_avro_from_json(const evb_avro_schema_t *s, const char *json,
                             size_t len, unsigned flags, evb_buf_t *out,
                             char *errstr, size_t errstr_size);

/* ---- wire formats (Kafka record values) -----------------------------------
 */

typedef enum evb_wire_format {
    EVB_WIRE_CONFLUENT = 1, /* magic 0, 4-byte big-endian schema id */
    EVB_WIRE_GLUE = 2       /* version 3, compression, 16-byte UUID */
} evb_wire_format_t;

#define EVB_WIRE_CONFLUENT_HEADER 5
#define EVB_WIRE_GLUE_HEADER 18
#define EVB_WIRE_GLUE_COMPRESSION_NONE 0
#define EVB_WIRE_GLUE_COMPRESSION_ZLIB 5
#define EVB_WIRE_DEFAULT_MAX_PAYLOAD (64u * 1024 * 1024)

typedef struct evb_wire_info {
    evb_wire_format_t format;
    uint32_t schema_id;       /* Confluent: the registry's schema id */
    uint8_t glue_uuid[16];    /* Glue: schema version id (big-endian) */
    uint8_t glue_compression; /* Glue: 0 (none) or 5 (zlib) */
    const uint8_t *payload;   /* the Avro datum: into the input, or into
                                 the scratch buffer when decompressed */
    size_t payload_len;
} evb_wire_info_t;

/*
 * Parse a framed record value. Confluent: byte 0 is 0, bytes 1-4 the schema
 * id. Glue: byte 0 is 3, byte 1 the compression (0 none, 5 zlib), bytes
 * 2-17 the schema version UUID. A zlib payload is inflated into scratch
 * (reset first; it must not be NULL then), at most max_payload bytes
 * (0 = 64 MiB); anything else about it that is wrong (bad stream,
 * truncated, trailing bytes, too large) is an error. info->payload points
 * into data or into scratch->data, so keep both while using it.
 */
evb_err_t evb_wire_parse(const void *data, size_t len, evb_buf_t *scratch,
                         size_t max_payload, evb_wire_info_t *info,
                         char *errstr, size_t errstr_size);

/* Append the 5-byte Confluent header (magic 0, big-endian id) to out. */
evb_err_t evb_wire_confluent_header(evb_buf_t *out, uint32_t schema_id);

/* Append a whole Glue frame: header (version 3, compression, uuid) and the
 * payload, zlib-compressed when compression is 5. */
evb_err_t evb_wire_glue_frame(evb_buf_t *out, const uint8_t uuid[16],
                              uint8_t compression, const void *payload,
                              size_t payload_len);

/* UUID bytes <-> the 36-character text form (lower case, NUL-terminated).
 * evb_wire_uuid_parse accepts either case; returns false if malformed.
 * The same as evb_uuid_format and evb_uuid_parse of common.h. */
void evb_wire_uuid_format(const uint8_t uuid[16], char out[37]);
bool evb_wire_uuid_parse(const char *text, size_t len, uint8_t uuid[16]);

/* Name of a format ("confluent", "glue"). */
const char *evb_wire_format_name(evb_wire_format_t f);

#endif
