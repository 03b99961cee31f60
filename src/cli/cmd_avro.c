/*
 * cmd_avro.c: `evbus avro`, the codec (src/serde) on the command line.
 *
 *   evbus avro decode [--registry URL] [--hex | --base64] [--mode M]
 *                     [--decimal-number] [--user-info U:P]
 *   evbus avro encode --registry URL --subject S [--schema FILE |
 *                     --version N] [--glue [--zlib]] [--hex | --base64]
 *                     [--strict] [--user-info U:P]
 *
 * decode reads record values (one per line in hex or base64, or, without
 * either option, the whole of stdin as one raw value) and prints one JSON
 * line per value: framed Avro through the registry's schemas, JSON as it
 * is, anything else as a string (docs/cli/avro.md). encode reads JSON
 * documents, one per line, and prints each as a framed Avro value (hex
 * unless --base64) written with the schema registered under the subject
 * (--schema, registered if need be) or the subject's latest version.
 *
 * A value that cannot be converted prints "evbus avro <cmd>: line N: why"
 * on stderr and the others still go through; the exit status is then 2.
 * A registry that cannot be reached stops at once with status 1.
 *
 * The command lines come from option tables (options.h): `avro` is a
 * spec whose subcommands are decode's and encode's specs, so `evbus help
 * avro`, each subcommand's --help, the man page and the configuration
 * reference are generated from the rows parsed. Each subcommand lists the
 * other's own options as unlisted rows, to refuse them by name ("--subject
 * is for encode").
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "serde/serde.h"

#define LINE_MAX_BYTES (64u << 20)

/* ---- hex and base64 ---------------------------------------------------------
 */

typedef enum text_form { FORM_RAW, FORM_HEX, FORM_BASE64 } text_form_t;

static int b64val(int c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+' || c == '-')
        return 62;
    if (c == '/' || c == '_')
        return 63;
    return -1;
}

/* Decode text (hex or base64, padding optional) into out (reset first).
 * False, with why, if it is not. */
static bool unform(text_form_t form, const char *s, size_t n, evb_buf_t *out,
                   const char **why) {
    evb_buf_reset(out);
    if (form == FORM_HEX) {
        if (n % 2) {
            *why = "odd number of hex digits";
            return false;
        }
        for (size_t i = 0; i < n; i += 2) {
            int hi = evb_hex_value(s[i]), lo = evb_hex_value(s[i + 1]);
            if (hi < 0 || lo < 0) {
                *why = "not hexadecimal";
                return false;
            }
            if (evb_buf_putc(out, (char)(hi << 4 | lo))) {
                *why = "out of memory";
                return false;
            }
        }
        return true;
    }
    while (n > 0 && s[n - 1] == '=')
        n--;
    if (n % 4 == 1) {
        *why = "not base64 (bad length)";
        return false;
    }
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        int v = b64val((unsigned char)s[i]);
        if (v < 0) {
            *why = "not base64";
            return false;
        }
        acc = acc << 6 | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (evb_buf_putc(out, (char)(acc >> bits & 0xff))) {
                *why = "out of memory";
                return false;
            }
        }
    }
    return true;
}

static void print_form(text_form_t form, const uint8_t *p, size_t n) {
    static const char hx[] = "0123456789abcdef";
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    if (form == FORM_BASE64) {
        for (size_t i = 0; i < n; i += 3) {
            uint32_t v = (uint32_t)p[i] << 16;
            if (i + 1 < n)
                v |= (uint32_t)p[i + 1] << 8;
            if (i + 2 < n)
                v |= p[i + 2];
            putchar(tab[v >> 18 & 63]);
            putchar(tab[v >> 12 & 63]);
            putchar(i + 1 < n ? tab[v >> 6 & 63] : '=');
            putchar(i + 2 < n ? tab[v & 63] : '=');
        }
    } else {
        for (size_t i = 0; i < n; i++) {
            putchar(hx[p[i] >> 4]);
            putchar(hx[p[i] & 15]);
        }
    }
    putchar('\n');
}

/* Trim white space (and a CR) from both ends of a line. */
static void trim(char **s, size_t *n) {
    while (*n > 0 && strchr(" \t\r\n", (*s)[*n - 1]))
        (*n)--;
    while (*n > 0 && strchr(" \t\r\n", (*s)[0])) {
        (*s)++;
        (*n)--;
    }
}

/* Exit status for a conversion error. */
static int status_of(evb_err_t err) {
    return err == EVB_ERR_IO || err == EVB_ERR_NOMEM || err == EVB_ERR_INTERNAL
               ? EVB_EXIT_FAILURE
               : EVB_EXIT_INVALID;
}

/* ---- options
 * -------------------------------------------------------------------- */

enum {
    OPT_REGISTRY = 1,
    OPT_USER_INFO,
    OPT_HEX,
    OPT_BASE64,
    /* decode's */
    OPT_MODE,
    OPT_DECIMAL_NUMBER,
    /* encode's */
    OPT_SUBJECT,
    OPT_SCHEMA,
    OPT_VERSION,
    OPT_GLUE,
    OPT_ZLIB,
    OPT_STRICT,
};

static const evb_cli_option_t registry_options[] = {
    {"registry", 0, EVB_CLI_STRING, "URL", NULL, 0, 0, NULL,
     "Confluent-compatible schema registry, http:// or https:// (evbus "
     "serve's own, or any other)",
     OPT_REGISTRY, 0},
    {"user-info", 0, EVB_CLI_STRING, "USER:PASSWORD", NULL, 0, 0, NULL,
     "HTTP basic credentials for the registry", OPT_USER_INFO, 0},
    EVB_CLI_OPTIONS_END,
};

static const evb_cli_option_t decode_options[] = {
    {"mode", 0, EVB_CLI_CHOICE, "MODE", "auto", 0, 0,
     "auto|avro|confluent|glue|json|string|bytes",
     "what the values are: auto (by their first byte), avro (either "
     "framing), confluent, glue, json, string or bytes",
     OPT_MODE, 0},
    {"decimal-number", 0, EVB_CLI_FLAG, NULL, NULL, 0, 0, NULL,
     "Avro decimals as JSON numbers instead of base64 of the unscaled value",
     OPT_DECIMAL_NUMBER, 0},
    EVB_CLI_OPTIONS_END,
};

static const evb_cli_option_t decode_input_options[] = {
    {"hex", 0, EVB_CLI_FLAG, NULL, NULL, 0, 0, NULL,
     "one value per line, in hexadecimal", OPT_HEX, 0},
    {"base64", 0, EVB_CLI_FLAG, NULL, NULL, 0, 0, NULL,
     "one value per line, in base64 (standard or URL-safe alphabet, padding "
     "optional)",
     OPT_BASE64, 0},
    EVB_CLI_OPTIONS_END,
};

static const evb_cli_option_t encode_options[] = {
    {"subject", 0, EVB_CLI_STRING, "SUBJECT", NULL, 0, 0, NULL,
     "the subject whose schema writes the values (TOPIC-value by "
     "Confluent's naming); required",
     OPT_SUBJECT, 0},
    {"schema", 0, EVB_CLI_STRING, "FILE", NULL, 0, 0, NULL,
     "write with this Avro schema, registered under the subject if it is "
     "not there yet (refused if incompatible); default: the subject's "
     "latest version",
     OPT_SCHEMA, 0},
    {"version", 0, EVB_CLI_UINT, "N", NULL, 1, INT32_MAX, NULL,
     "write with version N of the subject", OPT_VERSION, 0},
    {"glue", 0, EVB_CLI_FLAG, NULL, NULL, 0, 0, NULL,
     "AWS Glue framing (the version's UUID) instead of Confluent's", OPT_GLUE,
     0},
    {"zlib", 0, EVB_CLI_FLAG, NULL, NULL, 0, 0, NULL,
     "with --glue: zlib-compress the Avro datum", OPT_ZLIB, 0},
    {"strict", 0, EVB_CLI_FLAG, NULL, NULL, 0, 0, NULL,
     "reject JSON members the schema does not have", OPT_STRICT, 0},
    EVB_CLI_OPTIONS_END,
};

static const evb_cli_option_t encode_output_options[] = {
    {"hex", 0, EVB_CLI_FLAG, NULL, NULL, 0, 0, NULL,
     "print the values in hexadecimal, one per line (the default)", OPT_HEX, 0},
    {"base64", 0, EVB_CLI_FLAG, NULL, NULL, 0, 0, NULL,
     "print the values in base64, one per line", OPT_BASE64, 0},
    EVB_CLI_OPTIONS_END,
};

static const evb_cli_option_group_t registry_group = {"Schema registry",
                                                      registry_options};
static const evb_cli_option_group_t decode_group = {NULL, decode_options};
static const evb_cli_option_group_t decode_input_group = {"Input",
                                                          decode_input_options};
static const evb_cli_option_group_t encode_group = {NULL, encode_options};
static const evb_cli_option_group_t encode_output_group = {
    "Output", encode_output_options};

static const evb_cli_option_group_t *const decode_groups[] = {
    &decode_group, &decode_input_group, &registry_group, NULL};
static const evb_cli_option_group_t *const encode_groups[] = {
    &encode_group, &encode_output_group, &registry_group, NULL};
/* The other subcommand's own options, so that they are refused by name
 * ("--subject is for encode") rather than as unknown. */
static const evb_cli_option_group_t *const decode_unlisted[] = {&encode_group,
                                                                NULL};
static const evb_cli_option_group_t *const encode_unlisted[] = {&decode_group,
                                                                NULL};

#define AVRO_EXIT_STATUS                                                       \
    "  0   every value converted\n"                                            \
    "  1   I/O error, or the registry could not be reached\n"                  \
    "  2   some value or schema invalid (stderr says which line)\n"            \
    "  64  usage\n"

static const evb_cli_spec_t decode_spec = {
    .name = "avro decode",
    .synopsis = "[--registry URL] [--hex | --base64] [options]",
    .summary = "print Kafka record values as JSON lines",
    .description =
        "Read Kafka record values on stdin and print one JSON line per "
        "value: the JSON EventBridge would put in detail.value. Values are "
        "read one per line in hexadecimal or base64 (blank lines are "
        "skipped), or, without --hex and --base64, all of stdin is one raw "
        "value. Confluent (magic byte 0) and AWS Glue (version byte 3) "
        "framed Avro is decoded with the registry's schema (without "
        "--registry only JSON and raw values decode); JSON is printed "
        "compact, other text as a JSON string, other bytes as base64.",
    .groups = decode_groups,
    .unlisted = decode_unlisted,
    .exit_status = AVRO_EXIT_STATUS,
};

static const evb_cli_spec_t encode_spec = {
    .name = "avro encode",
    .synopsis = "--registry URL --subject SUBJECT [options]",
    .summary = "write JSON documents as framed Avro values",
    .description =
        "Read JSON documents on stdin, one per line, and print each as a "
        "framed Avro value (Confluent's, or AWS Glue's with --glue), one "
        "per line, written with the schema registered under SUBJECT: "
        "--schema's, version N, or the latest version. The JSON may have "
        "the shape decode prints or Avro's own JSON encoding "
        "(docs/avro-json.md).",
    .groups = encode_groups,
    .unlisted = encode_unlisted,
    .exit_status = AVRO_EXIT_STATUS,
};

static const evb_cli_spec_t *const avro_subcommands[] = {&decode_spec,
                                                         &encode_spec, NULL};

const evb_cli_spec_t evb_cli_avro_spec = {
    .name = "avro",
    .summary = "decode Kafka record values to JSON, encode JSON to framed Avro",
    .description =
        "Convert Kafka record values to JSON (decode) and JSON to framed Avro "
        "(encode) on stdin and stdout, with the codec Pipes, the sink "
        "connector and Kafka targets use (src/serde) and a "
        "Confluent-compatible schema registry, evbus serve's own or any "
        "other, for the schemas (docs/cli/avro.md). A value that cannot be "
        "converted is "
        "reported on stderr as `evbus avro COMMAND: line N: why` and the "
        "others still go through; a registry that cannot be reached stops "
        "the command at once.",
    .exit_status = AVRO_EXIT_STATUS,
    .subcommands = avro_subcommands,
};

void evb_cli_avro_usage(FILE *out) {
    evb_cli_usage(&evb_cli_avro_spec, out);
}

typedef struct args {
    bool encode;
    const char *registry, *user_info, *subject, *schema_file;
    int32_t version; /* 0: not given */
    text_form_t form;
    evb_serde_mode_t mode;
    bool decimal_number, glue, zlib, strict;
} args_t;

static bool set(void *ud, const evb_cli_option_t *opt, const evb_cli_value_t *v,
                char *why, size_t why_size) {
    args_t *a = ud;
    bool decode_only = opt->id == OPT_MODE || opt->id == OPT_DECIMAL_NUMBER;
    bool encode_only = opt->id >= OPT_SUBJECT;
    if (a->encode ? decode_only : encode_only) {
        snprintf(why, why_size, "--%s is for %s", opt->name,
                 a->encode ? "decode" : "encode");
        return false;
    }
    switch (opt->id) {
    case OPT_REGISTRY: a->registry = v->str; return true;
    case OPT_USER_INFO: a->user_info = v->str; return true;
    case OPT_HEX:
    case OPT_BASE64: {
        text_form_t f = opt->id == OPT_HEX ? FORM_HEX : FORM_BASE64;
        if (a->form != FORM_RAW && a->form != f) {
            snprintf(why, why_size, "give only one of --hex and --base64");
            return false;
        }
        a->form = f;
        return true;
    }
    case OPT_MODE: return evb_serde_mode_parse(v->str, &a->mode);
    case OPT_DECIMAL_NUMBER: a->decimal_number = true; return true;
    case OPT_SUBJECT: a->subject = v->str; return true;
    case OPT_SCHEMA: a->schema_file = v->str; return true;
    case OPT_VERSION: a->version = (int32_t)v->num; return true;
    case OPT_GLUE: a->glue = true; return true;
    case OPT_ZLIB: a->zlib = true; return true;
    case OPT_STRICT: a->strict = true; return true;
    default: return false;
    }
}

/* ---- decode
 * --------------------------------------------------------------------- */

static int decode_one(evb_serde_t *s, const args_t *a, const void *data,
                      size_t len, evb_buf_t *out, long line) {
    evb_serde_decode_opts_t o = {
        .mode = a->mode,
        .avro = {.flags = a->decimal_number ? EVB_AVRO_DECIMAL_NUMBER : 0}};
    char err[1024];
    evb_buf_reset(out);
    evb_err_t e =
        evb_serde_decode(s, data, len, &o, out, NULL, err, sizeof err);
    if (e) {
        if (line > 0)
            fprintf(stderr, "evbus avro decode: line %ld: %s\n", line, err);
        else
            fprintf(stderr, "evbus avro decode: %s\n", err);
        return status_of(e);
    }
    fwrite(out->data, 1, out->len, stdout);
    putchar('\n');
    return EVB_EXIT_OK;
}

static int run_decode(evb_serde_t *s, const args_t *a) {
    evb_buf_t out, bytes;
    evb_buf_init(&out, 0);
    evb_buf_init(&bytes, LINE_MAX_BYTES);
    int rc = EVB_EXIT_OK;
    if (a->form == FORM_RAW) {
        char err[512];
        if (evb_buf_read_file(&bytes, "-", err, sizeof err)) {
            fprintf(stderr, "evbus avro decode: cannot read stdin: %s\n", err);
            rc = EVB_EXIT_FAILURE;
        } else {
            rc = decode_one(s, a, bytes.data ? bytes.data : "", bytes.len, &out,
                            0);
        }
    } else {
        char *line = NULL;
        size_t cap = 0;
        ssize_t n;
        long no = 0;
        while ((n = getline(&line, &cap, stdin)) >= 0) {
            no++;
            char *t = line;
            size_t len = (size_t)n;
            trim(&t, &len);
            if (len == 0)
                continue;
            const char *why = NULL;
            int r;
            if (len > LINE_MAX_BYTES * 2) {
                fprintf(stderr, "evbus avro decode: line %ld: too long\n", no);
                r = EVB_EXIT_INVALID;
            } else if (!unform(a->form, t, len, &bytes, &why)) {
                fprintf(stderr, "evbus avro decode: line %ld: %s\n", no, why);
                r = EVB_EXIT_INVALID;
            } else {
                r = decode_one(s, a, bytes.data ? bytes.data : "", bytes.len,
                               &out, no);
            }
            if (r == EVB_EXIT_FAILURE) {
                rc = r;
                break;
            }
            if (r)
                rc = r;
        }
        if (ferror(stdin)) {
            fprintf(stderr, "evbus avro decode: cannot read stdin\n");
            rc = EVB_EXIT_FAILURE;
        }
        free(line);
    }
    evb_buf_free(&out);
    evb_buf_free(&bytes);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "evbus avro decode: cannot write stdout\n");
        rc = EVB_EXIT_FAILURE;
    }
    return rc;
}

/* ---- encode
 * --------------------------------------------------------------------- */

static int run_encode(evb_serde_t *s, const args_t *a) {
    char err[1024];
    evb_serde_writer_t w;
    evb_err_t e;
    unsigned flags = a->glue ? EVB_SERDE_WRITER_UUID : 0;
    if (a->schema_file) {
        evb_buf_t schema;
        evb_buf_init(&schema, LINE_MAX_BYTES);
        e = evb_buf_read_file(&schema, a->schema_file, err, sizeof err);
        if (e) {
            fprintf(stderr, "evbus avro encode: cannot read %s: %s\n",
                    a->schema_file, err);
            evb_buf_free(&schema);
            return EVB_EXIT_FAILURE;
        }
        e = evb_serde_writer_register(
            s, a->subject, schema.data ? schema.data : "", schema.len, flags,
            &w, NULL, err, sizeof err);
        evb_buf_free(&schema);
    } else {
        e = evb_serde_writer_version(s, a->subject,
                                     a->version ? a->version
                                                : EVB_REGISTRY_VERSION_LATEST,
                                     flags, &w, NULL, err, sizeof err);
    }
    if (e) {
        fprintf(stderr, "evbus avro encode: subject '%s': %s\n", a->subject,
                err);
        return status_of(e);
    }
    evb_serde_encode_opts_t o = {
        .wire = a->glue ? EVB_WIRE_GLUE : EVB_WIRE_CONFLUENT,
        .glue_compression = a->zlib ? EVB_WIRE_GLUE_COMPRESSION_ZLIB
                                    : EVB_WIRE_GLUE_COMPRESSION_NONE,
        .flags = a->strict ? EVB_AVRO_STRICT : 0};
    evb_buf_t out;
    evb_buf_init(&out, 0);
    int rc = EVB_EXIT_OK;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    long no = 0;
    while ((n = getline(&line, &cap, stdin)) >= 0) {
        no++;
        char *t = line;
        size_t len = (size_t)n;
        trim(&t, &len);
        if (len == 0)
            continue;
        evb_buf_reset(&out);
        e = evb_serde_encode(&w, &o, t, len, &out, err, sizeof err);
        if (e) {
            fprintf(stderr, "evbus avro encode: line %ld: %s\n", no, err);
            rc = status_of(e);
            if (rc == EVB_EXIT_FAILURE)
                break;
            continue;
        }
        print_form(a->form == FORM_BASE64 ? FORM_BASE64 : FORM_HEX,
                   (const uint8_t *)out.data, out.len);
    }
    if (ferror(stdin)) {
        fprintf(stderr, "evbus avro encode: cannot read stdin\n");
        rc = EVB_EXIT_FAILURE;
    }
    free(line);
    evb_buf_free(&out);
    evb_serde_writer_clear(&w);
    if (fflush(stdout) != 0) {
        fprintf(stderr, "evbus avro encode: cannot write stdout\n");
        rc = EVB_EXIT_FAILURE;
    }
    return rc;
}

int evb_cli_avro(int argc, char **argv) {
    const evb_cli_spec_t *sub;
    int at;
    int rc = evb_cli_parse_subcommand(&evb_cli_avro_spec, argc, argv, NULL,
                                      NULL, EVB_EXIT_USAGE, &sub, &at);
    if (rc != EVB_CLI_CONTINUE)
        return rc;
    args_t a = {.form = FORM_RAW, .encode = sub == &encode_spec};
    int first;
    rc = evb_cli_parse(sub, argc - at, argv + at, set, &a, EVB_EXIT_USAGE,
                       &first);
    if (rc != EVB_CLI_CONTINUE)
        return rc;
    if (first < argc - at)
        return evb_cli_usage_error(
            sub, EVB_EXIT_USAGE, "unexpected argument '%s'", argv[at + first]);
    if (a.encode) {
        if (!a.registry)
            return evb_cli_usage_error(sub, EVB_EXIT_USAGE,
                                       "--registry URL is required");
        if (!a.subject || !*a.subject)
            return evb_cli_usage_error(sub, EVB_EXIT_USAGE,
                                       "--subject SUBJECT is required");
        if (a.schema_file && a.version)
            return evb_cli_usage_error(sub, EVB_EXIT_USAGE,
                                       "give --schema or --version, not both");
        if (a.zlib && !a.glue)
            return evb_cli_usage_error(sub, EVB_EXIT_USAGE,
                                       "--zlib goes with --glue");
    }

    char err[512];
    evb_serde_config_t cfg = {.registry_url = a.registry,
                              .user_info = a.user_info};
    evb_serde_t *s;
    evb_err_t e = evb_serde_new(&cfg, &s, err, sizeof err);
    if (e == EVB_ERR_INVALID_ARG)
        return evb_cli_usage_error(sub, EVB_EXIT_USAGE, "%s", err);
    if (e) {
        fprintf(stderr, "evbus %s: %s\n", sub->name, err);
        return EVB_EXIT_FAILURE;
    }
    rc = a.encode ? run_encode(s, &a) : run_decode(s, &a);
    evb_serde_free(s);
    return rc;
}
