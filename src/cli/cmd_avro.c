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
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "serde/serde.h"

#define LINE_MAX_BYTES (64u << 20)

void evb_cli_avro_usage(FILE *out) {
    fprintf(
        out,
        "usage: evbus avro decode [--registry URL] [--hex | --base64]\n"
        "                         [--mode MODE] [--decimal-number]\n"
        "       evbus avro encode --registry URL --subject SUBJECT\n"
        "                         [--schema FILE | --version N]\n"
        "                         [--glue [--zlib]] [--hex | --base64] "
        "[--strict]\n"
        "\n"
        "decode: Kafka record values to JSON lines. Values are read one per "
        "line\n"
        "in hex or base64, or, without --hex/--base64, all of stdin is one "
        "raw\n"
        "value. Confluent (magic 0) and AWS Glue (version 3) framed Avro is\n"
        "decoded with the registry's schema; JSON is printed compact; other "
        "text\n"
        "as a JSON string, other bytes as base64.\n"
        "  --registry URL      Confluent-compatible schema registry (e.g. "
        "evbus serve)\n"
        "  --mode MODE         auto (default), avro, confluent, glue, json, "
        "string, bytes\n"
        "  --decimal-number    decimals as JSON numbers instead of base64\n"
        "\n"
        "encode: JSON documents, one per line, to framed Avro values, one "
        "per line.\n"
        "  --subject SUBJECT   the subject whose schema writes the values\n"
        "  --schema FILE       register this schema under the subject (or "
        "find it\n"
        "                      there) and write with it; default: the "
        "latest version\n"
        "  --version N         write with version N of the subject\n"
        "  --glue              AWS Glue framing (the version's UUID), not "
        "Confluent's\n"
        "  --zlib              with --glue: zlib-compress the Avro datum\n"
        "  --strict            reject JSON members the schema does not have\n"
        "\n"
        "both:\n"
        "  --hex               values in hexadecimal (encode: the default)\n"
        "  --base64            values in base64\n"
        "  --user-info U:P     HTTP basic credentials for the registry\n"
        "\n"
        "exit status: 0 all converted, 2 some value or schema invalid "
        "(stderr says\n"
        "which line), 1 I/O error or registry unreachable, 64 usage\n");
}

static int usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("evbus avro: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    evb_cli_avro_usage(stderr);
    return EVB_EXIT_USAGE;
}

/* ---- hex and base64 ---------------------------------------------------------
 */

typedef enum text_form { FORM_RAW, FORM_HEX, FORM_BASE64 } text_form_t;

static int hexval(int c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

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
            int hi = hexval((unsigned char)s[i]),
                lo = hexval((unsigned char)s[i + 1]);
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
    OPT_HEX,
    OPT_BASE64,
    OPT_MODE,
    OPT_DECIMAL_NUMBER,
    OPT_USER_INFO,
    OPT_SUBJECT,
    OPT_SCHEMA,
    OPT_VERSION,
    OPT_GLUE,
    OPT_ZLIB,
    OPT_STRICT,
    OPT_HELP
};

static const struct option long_options[] = {
    {"registry", required_argument, NULL, OPT_REGISTRY},
    {"hex", no_argument, NULL, OPT_HEX},
    {"base64", no_argument, NULL, OPT_BASE64},
    {"mode", required_argument, NULL, OPT_MODE},
    {"decimal-number", no_argument, NULL, OPT_DECIMAL_NUMBER},
    {"user-info", required_argument, NULL, OPT_USER_INFO},
    {"subject", required_argument, NULL, OPT_SUBJECT},
    {"schema", required_argument, NULL, OPT_SCHEMA},
    {"version", required_argument, NULL, OPT_VERSION},
    {"glue", no_argument, NULL, OPT_GLUE},
    {"zlib", no_argument, NULL, OPT_ZLIB},
    {"strict", no_argument, NULL, OPT_STRICT},
    {"help", no_argument, NULL, OPT_HELP},
    {NULL, 0, NULL, 0},
};

typedef struct args {
    bool encode;
    const char *registry, *user_info, *subject, *schema_file;
    int32_t version; /* 0: not given */
    text_form_t form;
    evb_serde_mode_t mode;
    bool decimal_number, glue, zlib, strict;
    /* which decode-only / encode-only options were given, for errors */
    const char *decode_only, *encode_only;
} args_t;

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
    if (argc < 2)
        return usage_error("%s", "missing subcommand: decode or encode");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        evb_cli_avro_usage(stdout);
        return EVB_EXIT_OK;
    }
    args_t a = {.form = FORM_RAW};
    if (strcmp(argv[1], "encode") == 0)
        a.encode = true;
    else if (strcmp(argv[1], "decode") != 0)
        return usage_error("unknown subcommand '%s' (decode or encode)",
                           argv[1]);
    argc--;
    argv++;
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "+:h", long_options, NULL)) != -1) {
        switch (c) {
        case OPT_REGISTRY: a.registry = optarg; break;
        case OPT_USER_INFO: a.user_info = optarg; break;
        case OPT_HEX:
        case OPT_BASE64: {
            text_form_t f = c == OPT_HEX ? FORM_HEX : FORM_BASE64;
            if (a.form != FORM_RAW && a.form != f)
                return usage_error("%s", "give only one of --hex and --base64");
            a.form = f;
            break;
        }
        case OPT_MODE:
            if (!evb_serde_mode_parse(optarg, &a.mode))
                return usage_error("unknown --mode '%s' (auto, avro, "
                                   "confluent, glue, json, string, bytes)",
                                   optarg);
            a.decode_only = "--mode";
            break;
        case OPT_DECIMAL_NUMBER:
            a.decimal_number = true;
            a.decode_only = "--decimal-number";
            break;
        case OPT_SUBJECT:
            a.subject = optarg;
            a.encode_only = "--subject";
            break;
        case OPT_SCHEMA:
            a.schema_file = optarg;
            a.encode_only = "--schema";
            break;
        case OPT_VERSION: {
            char *end;
            long v = strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end || v < 1 || v > INT32_MAX)
                return usage_error("--version '%s' is not a version number",
                                   optarg);
            a.version = (int32_t)v;
            a.encode_only = "--version";
            break;
        }
        case OPT_GLUE:
            a.glue = true;
            a.encode_only = "--glue";
            break;
        case OPT_ZLIB:
            a.zlib = true;
            a.encode_only = "--zlib";
            break;
        case OPT_STRICT:
            a.strict = true;
            a.encode_only = "--strict";
            break;
        case 'h':
        case OPT_HELP: evb_cli_avro_usage(stdout); return EVB_EXIT_OK;
        case ':':
            return usage_error("option '%s' needs a value", argv[optind - 1]);
        default: return usage_error("unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (a.encode) {
        if (a.decode_only)
            return usage_error("%s is for decode", a.decode_only);
        if (!a.registry)
            return usage_error("%s", "encode needs --registry");
        if (!a.subject || !*a.subject)
            return usage_error("%s", "encode needs --subject");
        if (a.schema_file && a.version)
            return usage_error("%s", "give --schema or --version, not both");
        if (a.zlib && !a.glue)
            return usage_error("%s", "--zlib goes with --glue");
    } else if (a.encode_only) {
        return usage_error("%s is for encode", a.encode_only);
    }

    char err[512];
    evb_serde_config_t cfg = {.registry_url = a.registry,
                              .user_info = a.user_info};
    evb_serde_t *s;
    evb_err_t e = evb_serde_new(&cfg, &s, err, sizeof err);
    if (e == EVB_ERR_INVALID_ARG)
        return usage_error("%s", err);
    if (e) {
        fprintf(stderr, "evbus avro: %s\n", err);
        return EVB_EXIT_FAILURE;
    }
    int rc = a.encode ? run_encode(s, &a) : run_decode(s, &a);
    evb_serde_free(s);
    return rc;
}
