/*
 * common: the pieces every evbus module shares.
 *
 * - One error table (EVB_ERRORS, an X-macro in the manner of libuv's
 *   UV_ERRNO_MAP) that gives each error its enum value, its AWS exception
 *   name where one applies, and its default message.
 * - A bump arena for per-request and per-compile allocations, freed in one
 *   call (h2o's mem pool): nothing allocated from it is freed on its own.
 * - A bounded growable byte buffer that refuses to grow past a stated
 *   maximum (curl's dynbuf).
 *
 * Fallible functions return evb_err_t; human detail goes into a caller
 * supplied (errstr, errstr_size) buffer, as librdkafka does.
 */
#ifndef EVB_COMMON_H
#define EVB_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* X(enum suffix, AWS exception name or "", default message) */
#define EVB_ERRORS(X)                                                          \
    X(OK, "", "Success")                                                       \
    X(NOMEM, "InternalException", "Out of memory")                             \
    X(INTERNAL, "InternalException", "Internal error")                         \
    X(INVALID_ARG, "ValidationException", "Invalid argument")                  \
    X(IO, "InternalException", "Input/output error")                           \
    X(TOO_LARGE, "ValidationException", "Value exceeds the size limit")        \
    X(INVALID_EVENT_PATTERN, "InvalidEventPatternException",                   \
      "Event pattern is not valid.")                                           \
    X(INVALID_EVENT, "ValidationException", "Parameter Event is not valid.")   \
    X(INVALID_JSON, "SerializationException", "Malformed JSON")                \
    X(NOT_FOUND, "ResourceNotFoundException", "Resource not found")            \
    X(EXISTS, "ResourceAlreadyExistsException", "Resource already exists")     \
    X(LIMIT_EXCEEDED, "LimitExceededException",                                \
      "The requested resource exceeds the maximum number allowed.")           \
    X(CONCURRENT_MODIFICATION, "ConcurrentModificationException",             \
      "Concurrent modification")                                               \
    X(UNKNOWN_OPERATION, "UnknownOperationException", "Unknown operation")     \
    X(INVALID_OUTPUT, "InvalidOutput",                                         \
      "The rendered target input is not valid JSON")

typedef enum evb_err {
#define EVB__ERR_ENUM(name, aws, msg) EVB_ERR_##name,
    EVB_ERRORS(EVB__ERR_ENUM)
#undef EVB__ERR_ENUM
        EVB_ERR__COUNT
} evb_err_t;

/* Symbolic name of the error ("INVALID_EVENT_PATTERN"). Never NULL. */
const char *evb_err_name(evb_err_t err);
/* AWS exception name ("InvalidEventPatternException"), "" if none. */
const char *evb_err_aws_type(evb_err_t err);
/* Default human message. Never NULL. */
const char *evb_err_message(evb_err_t err);

/* True when len bytes at data are well-formed UTF-8 (RFC 3629: no
 * overlong forms, no surrogates, nothing above U+10FFFF). */
bool evb_utf8_valid(const void *data, size_t len);

/* snprintf into errstr (if non-NULL and size > 0); returns err. */
evb_err_t evb_err_set(evb_err_t err, char *errstr, size_t errstr_size,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- arena ------------------------------------------------------------ */

typedef struct evb_arena_block evb_arena_block_t;
typedef struct evb_arena {
    evb_arena_block_t *head;
    size_t block_size; /* default size of new blocks */
    size_t total;      /* bytes handed out so far */
} evb_arena_t;

/* Initialise an empty arena; block_size 0 means 16 KiB. Cannot fail. */
void evb_arena_init(evb_arena_t *a, size_t block_size);
/* Allocate size bytes aligned to 16; NULL on allocation failure. */
void *evb_arena_alloc(evb_arena_t *a, size_t size);
/* Allocate and zero. */
void *evb_arena_calloc(evb_arena_t *a, size_t n, size_t size);
/* Copy len bytes and add a terminating NUL. */
char *evb_arena_strndup(evb_arena_t *a, const char *s, size_t len);
/* Forget every allocation but keep the first block for reuse. */
void evb_arena_reset(evb_arena_t *a);
/* Free everything. The arena may be initialised again afterwards. */
void evb_arena_free(evb_arena_t *a);

/* ---- bounded buffer ---------------------------------------------------- */

typedef struct evb_buf {
    char *data; /* always NUL-terminated when non-NULL */
    size_t len;
    size_t cap;
    size_t max; /* growth beyond this fails with EVB_ERR_TOO_LARGE */
} evb_buf_t;

void evb_buf_init(evb_buf_t *b, size_t max);
evb_err_t evb_buf_append(evb_buf_t *b, const void *data, size_t len);
evb_err_t evb_buf_appendf(evb_buf_t *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
evb_err_t evb_buf_putc(evb_buf_t *b, char c);
void evb_buf_reset(evb_buf_t *b);
void evb_buf_free(evb_buf_t *b);

/* Read a whole file ("-" is stdin) into b. */
evb_err_t evb_buf_read_file(evb_buf_t *b, const char *path, char *errstr,
                            size_t errstr_size);

/* ---- misc ---------------------------------------------------------------- */

/* Monotonic clock in nanoseconds. */
uint64_t evb_now_ns(void);

/* Fill out with a random (version 4) UUID in its 36-character text form
 * plus NUL, e.g. "3f1c9a52-8d0e-4b7a-9c61-0e2f5d7a1b34". Uses getrandom;
 * returns EVB_ERR_IO if the kernel's generator fails. */
evb_err_t evb_uuid_v4(char out[37]);

/* The value of hex digit c (either case), or -1. */
static inline int evb_hex_value(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* UUID bytes to the 36-character text form, lower case, plus NUL. */
void evb_uuid_format(const uint8_t uuid[16], char out[37]);
/* The 36-character text form (either case, hyphens at 8, 13, 18 and 23)
 * to bytes; false, and uuid partly written, if text is NULL, not 36
 * bytes long or malformed. */
bool evb_uuid_parse(const char *text, size_t len, uint8_t uuid[16]);

/* ---- logging (log.c) ------------------------------------------------------
 *
 * One logger for the whole process, writing one line per record to stderr
 * (or the stream given to evb_log_setup): text, `evbus: <component>:
 * [warning: |error: ]<message>[ key=value ...]`, or JSON lines,
 * {"time":"...Z","level":"info","component":"...","msg":"...",<fields>}.
 * A line is written with one call, so lines from many threads never mix.
 * Field values whose key names a secret (authorization, secret, password,
 * token, credential; any case) are written as "[redacted]": a guard, not
 * a licence, since nothing should hand a secret to the logger. Any
 * thread; evb_log_setup before the threads start.
 */
typedef enum evb_log_level {
    EVB_LOG_DEBUG,
    EVB_LOG_INFO,
    EVB_LOG_WARN,
    EVB_LOG_ERROR,
} evb_log_level_t;

typedef enum evb_log_format { EVB_LOG_TEXT, EVB_LOG_JSON } evb_log_format_t;

/* Format and least level written (defaults: text, info); out NULL is
 * stderr. */
void evb_log_setup(evb_log_format_t format, evb_log_level_t level, void *out);
/* "debug", "info", "warn"/"warning", "error"; "text", "json". */
bool evb_log_parse_level(const char *s, evb_log_level_t *out);
bool evb_log_parse_format(const char *s, evb_log_format_t *out);
/* Would a record of this level be written? */
bool evb_log_enabled(evb_log_level_t level);

/* A record with a printf message; component may be NULL. */
void evb_log(evb_log_level_t level, const char *component, const char *fmt,
             ...) __attribute__((format(printf, 3, 4)));

/* A record with fields: EVB_LOG_STR("request_id", id), EVB_LOG_INT(...),
 * EVB_LOG_NUM(...) (a double). A NULL string field is left out. */
typedef struct evb_log_field {
    const char *key;
    const char *str;
    long long i;
    double d;
    char kind; /* 's', 'i', 'd' */
} evb_log_field_t;
#define EVB_LOG_STR(k, v) ((evb_log_field_t){(k), (v), 0, 0, 's'})
#define EVB_LOG_INT(k, v) ((evb_log_field_t){(k), NULL, (long long)(v), 0, 'i'})
#define EVB_LOG_NUM(k, v) ((evb_log_field_t){(k), NULL, 0, (double)(v), 'd'})
void evb_log_fields(evb_log_level_t level, const char *component,
                    const char *msg, const evb_log_field_t *fields, size_t n);

#define EVB_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define EVB_LIKELY(x) __builtin_expect(!!(x), 1)
#define EVB_UNLIKELY(x) __builtin_expect(!!(x), 0)

#endif
