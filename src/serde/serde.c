/*
 * serde.c: the codec. Decoding sniffs (or is told) what a record value
 * is, resolves Avro schemas through the cache (cache.c) and the source
 * (source.c), and writes JSON; encoding frames src/avro's output for a
 * resolved writer.
 *
 * The decode hot path for framed Avro with a cached schema: evb_wire_parse
 * (no copy for Confluent or uncompressed Glue), one cache probe under a
 * read lock, evb_avro_to_json straight into the caller's buffer, one
 * reference drop. No allocation unless the Glue payload is compressed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json/json.h"
#include "serde_internal.h"

/* ---- names ------------------------------------------------------------------
 */

static const char *const mode_names[] = {
    [EVB_SERDE_MODE_AUTO] = "auto",
    [EVB_SERDE_MODE_AVRO] = "avro",
    [EVB_SERDE_MODE_CONFLUENT] = "confluent",
    [EVB_SERDE_MODE_GLUE] = "glue",
    [EVB_SERDE_MODE_JSON] = "json",
    [EVB_SERDE_MODE_STRING] = "string",
    [EVB_SERDE_MODE_BYTES] = "bytes",
};

const char *evb_serde_mode_name(evb_serde_mode_t m) {
    if ((size_t)m < EVB_ARRAY_LEN(mode_names) && mode_names[m])
        return mode_names[m];
    return "unknown";
}

bool evb_serde_mode_parse(const char *name, evb_serde_mode_t *out) {
    for (size_t i = 0; i < EVB_ARRAY_LEN(mode_names); i++)
        if (mode_names[i] && strcmp(mode_names[i], name) == 0) {
            *out = (evb_serde_mode_t)i;
            return true;
        }
    return false;
}

const char *evb_serde_kind_name(evb_serde_kind_t k) {
    switch (k) {
    case EVB_SERDE_KIND_NULL: return "null";
    case EVB_SERDE_KIND_AVRO: return "avro";
    case EVB_SERDE_KIND_JSON: return "json";
    case EVB_SERDE_KIND_STRING: return "string";
    case EVB_SERDE_KIND_BYTES: return "bytes";
    }
    return "unknown";
}

/* ---- life cycle -------------------------------------------------------------
 */

evb_err_t evb_serde_new(const evb_serde_config_t *cfg, evb_serde_t **out,
                        char *errstr, size_t errstr_size) {
    *out = NULL;
    evb_serde_config_t none = {0};
    if (!cfg)
        cfg = &none;
    if (cfg->registry && cfg->registry_url)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "give either an in-process registry or a "
                           "registry URL, not both");
    evb_serde_t *s = calloc(1, sizeof *s);
    if (!s)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    long ttl = cfg->miss_ttl_ms == 0 ? EVB_SERDE_DEFAULT_MISS_TTL_MS
                                     : cfg->miss_ttl_ms;
    if (evb__serde_cache_init(&s->cache, cfg->cache_max,
                              ttl > 0 ? (uint64_t)ttl * 1000000u : 0)) {
        free(s);
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    }
    s->registry = cfg->registry;
    if (cfg->registry_url) {
        evb_registry_client_config_t cc = {.url = cfg->registry_url,
                                           .user_info = cfg->user_info,
                                           .timeout_ms = cfg->timeout_ms};
        evb_err_t err =
            evb_registry_client_new(&cc, &s->client, errstr, errstr_size);
        if (!err)
            err = evb__serde_remote_new(cfg, &s->remote, errstr, errstr_size);
        if (err) {
            evb_serde_free(s);
            return err;
        }
    }
    *out = s;
    return EVB_ERR_OK;
}

void evb_serde_free(evb_serde_t *s) {
    if (!s)
        return;
    evb__serde_cache_destroy(&s->cache);
    evb_registry_client_free(s->client);
    evb__serde_remote_free(s->remote);
    free(s);
}

bool evb_serde_has_registry(const evb_serde_t *s) {
    return s->registry || s->client;
}

void evb_serde_get_stats(evb_serde_t *s, evb_serde_stats_t *out) {
    evb__serde_cache_stats(&s->cache, out);
}

/* ---- schemas through the cache ----------------------------------------------
 */

static void describe_key(const evb__serde_key_t *k, char *out, size_t n) {
    if (k->by_uuid) {
        char u[37];
        evb_wire_uuid_format(k->uuid, u);
        snprintf(out, n, "schema version %s", u);
    } else {
        snprintf(out, n, "schema %d", (int)k->id);
    }
}

/* Parse fetched text (type must be AVRO) into *out; errors worded with
 * the key. */
static evb_err_t parse_fetched(const evb__serde_key_t *key,
                               const evb_registry_schema_t *rs,
                               evb_avro_schema_t **out, char *errstr,
                               size_t errstr_size) {
    char what[64];
    describe_key(key, what, sizeof what);
    if (!rs->type || strcmp(rs->type, "AVRO") != 0)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "%s is a %s schema; only AVRO is supported", what,
                           rs->type ? rs->type : "non-AVRO");
    char why[512] = "";
    evb_err_t err =
        evb_avro_schema_parse(rs->schema, rs->schema_len, out, why, sizeof why);
    if (err == EVB_ERR_NOMEM)
        return evb_err_set(err, errstr, errstr_size, "out of memory");
    if (err)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "%s from the registry is not a valid Avro schema: "
                           "%s",
                           what, why);
    return EVB_ERR_OK;
}

/*
 * The parsed schema for key: from the cache, or fetched, parsed and
 * cached. *id gets the schema's registry id (for UUID keys, 0 if unknown).
 * Failures that will not go away by asking again (unknown schema, bad
 * schema) are remembered; transport failures are not.
 */
static evb_err_t get_schema(evb_serde_t *s, const evb__serde_key_t *key,
                            evb_avro_schema_t **schema, int32_t *id,
                            evb_registry_err_t *rerr, char *errstr,
                            size_t errstr_size) {
    *schema = NULL;
    *rerr = EVB_REGISTRY_ERR_OK;
    if (id)
        *id = key->by_uuid ? 0 : key->id;
    evb_err_t err = EVB_ERR_OK;
    switch (evb__serde_cache_get(&s->cache, key, schema, id, &err, rerr, errstr,
                                 errstr_size, true)) {
    case EVB__SERDE_HIT: return EVB_ERR_OK;
    case EVB__SERDE_MISS: return err;
    case EVB__SERDE_ABSENT: break;
    }
    evb_registry_schema_t rs;
    if (!key->by_uuid && key->id <= 0) {
        /* ids are positive: nothing to ask */
        *rerr = EVB_REGISTRY_ERR_SCHEMA_NOT_FOUND;
        err = evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                          "Schema %d not found (schema registry error 40403)",
                          (int)key->id);
        memset(&rs, 0, sizeof rs);
    } else if (key->by_uuid) {
        err =
            evb__serde_fetch_uuid(s, key->uuid, &rs, rerr, errstr, errstr_size);
    } else {
        err = evb__serde_fetch_id(s, key->id, &rs, rerr, errstr, errstr_size);
    }
    if (!err)
        err = parse_fetched(key, &rs, schema, errstr, errstr_size);
    if (err) {
        evb_registry_schema_clear(&rs);
        bool lasting = err == EVB_ERR_NOT_FOUND || err == EVB_ERR_INVALID_ARG;
        if (lasting && evb_serde_has_registry(s))
            evb__serde_cache_put_miss(&s->cache, key, err, *rerr, errstr);
        return err;
    }
    int32_t sid = key->by_uuid ? rs.id : key->id;
    evb__serde_cache_put(&s->cache, key, *schema, sid);
    if (key->by_uuid && sid > 0) {
        /* the UUID's schema is also schema sid: share the parse */
        evb__serde_key_t k2 = {.by_uuid = false, .id = sid};
        evb__serde_cache_put(&s->cache, &k2, *schema, sid);
    }
    if (id)
        *id = sid;
    evb_registry_schema_clear(&rs);
    return EVB_ERR_OK;
}

evb_err_t evb_serde_schema_by_id(evb_serde_t *s, int32_t id,
                                 evb_avro_schema_t **out,
                                 evb_registry_err_t *rerr, char *errstr,
                                 size_t errstr_size) {
    evb_registry_err_t r;
    evb__serde_key_t key = {.by_uuid = false, .id = id};
    evb_err_t err = get_schema(s, &key, out, NULL, &r, errstr, errstr_size);
    if (rerr)
        *rerr = r;
    return err;
}

evb_err_t evb_serde_schema_by_uuid(evb_serde_t *s, const uint8_t uuid[16],
                                   evb_avro_schema_t **out, int32_t *id,
                                   evb_registry_err_t *rerr, char *errstr,
                                   size_t errstr_size) {
    evb_registry_err_t r;
    evb__serde_key_t key = {.by_uuid = true};
    memcpy(key.uuid, uuid, 16);
    evb_err_t err = get_schema(s, &key, out, id, &r, errstr, errstr_size);
    if (rerr)
        *rerr = r;
    return err;
}

/* ---- text helpers
 * ------------------------------------------------------------ */

/*
 * Length of the UTF-8 sequence at p (n > 0 bytes left): *ok tells whether
 * it is a whole valid character; when it is not, the return value is the
 * length of the maximal subpart (Unicode's "substitution of maximal
 * subparts", what Java's decoder replaces by one U+FFFD), at least 1.
 */
static size_t utf8_seq(const uint8_t *p, size_t n, bool *ok) {
    uint8_t b = p[0];
    *ok = false;
    if (b < 0x80) {
        *ok = true;
        return 1;
    }
    if (b < 0xC2 || b > 0xF4)
        return 1;
    size_t need = b < 0xE0 ? 2 : b < 0xF0 ? 3 : 4;
    uint8_t lo = 0x80, hi = 0xBF;
    if (b == 0xE0)
        lo = 0xA0;
    else if (b == 0xED)
        hi = 0x9F;
    else if (b == 0xF0)
        lo = 0x90;
    else if (b == 0xF4)
        hi = 0x8F;
    if (n < 2 || p[1] < lo || p[1] > hi)
        return 1;
    size_t i = 2;
    while (i < need && i < n && (p[i] & 0xC0) == 0x80)
        i++;
    *ok = i == need;
    return i;
}

/* Append the bytes as a JSON string, invalid UTF-8 replaced by U+FFFD. */
static evb_err_t append_text(evb_buf_t *out, const uint8_t *p, size_t n) {
    if (evb_utf8_valid(p, n))
        return evb_json_append_string(out, (const char *)p, n);
    evb_buf_t fixed;
    evb_buf_init(&fixed, 0);
    evb_err_t err = EVB_ERR_OK;
    for (size_t i = 0; i < n && !err;) {
        bool ok;
        size_t k = utf8_seq(p + i, n - i, &ok);
        err = ok ? evb_buf_append(&fixed, p + i, k)
                 : evb_buf_append(&fixed, "\xEF\xBF\xBD", 3);
        i += k;
    }
    if (!err)
        err = evb_json_append_string(out, fixed.data ? fixed.data : "",
                                     fixed.len);
    evb_buf_free(&fixed);
    return err;
}

static evb_err_t append_base64(evb_buf_t *out, const uint8_t *p, size_t n) {
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    evb_err_t err = evb_buf_putc(out, '"');
    char q[4];
    for (size_t i = 0; i < n && !err; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        q[0] = tab[v >> 18 & 63];
        q[1] = tab[v >> 12 & 63];
        q[2] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        q[3] = i + 2 < n ? tab[v & 63] : '=';
        err = evb_buf_append(out, q, 4);
    }
    if (!err)
        err = evb_buf_putc(out, '"');
    return err;
}

/* ---- decoding
 * ---------------------------------------------------------------- */

static size_t output_limit(const evb_serde_decode_opts_t *o) {
    return o->avro.max_output ? o->avro.max_output
                              : EVB_AVRO_DEFAULT_MAX_OUTPUT;
}

static unsigned depth_limit(const evb_serde_decode_opts_t *o) {
    return o->avro.max_depth ? o->avro.max_depth : EVB_AVRO_DEFAULT_MAX_DEPTH;
}

/* Finish a non-Avro append: undo it on error or when it is over the
 * output limit. */
static evb_err_t finish_append(evb_buf_t *out, size_t base, evb_err_t err,
                               const evb_serde_decode_opts_t *o, char *errstr,
                               size_t errstr_size) {
    if (!err && out->len - base > output_limit(o))
        err = EVB_ERR_TOO_LARGE;
    if (err) {
        out->len = base;
        if (out->data)
            out->data[base] = '\0';
        if (err == EVB_ERR_TOO_LARGE)
            return evb_err_set(err, errstr, errstr_size,
                               "the value's JSON is larger than the output "
                               "limit (%zu bytes)",
                               output_limit(o));
        return evb_err_set(err, errstr, errstr_size, "%s",
                           evb_err_message(err));
    }
    return EVB_ERR_OK;
}

static evb_err_t decode_json(const uint8_t *p, size_t len,
                             const evb_serde_decode_opts_t *o, evb_buf_t *out,
                             char *errstr, size_t errstr_size) {
    char why[256];
    evb_err_t err = evb_json_validate((const char *)p, len, depth_limit(o), why,
                                      sizeof why);
    if (err == EVB_ERR_NOMEM)
        return evb_err_set(err, errstr, errstr_size, "out of memory");
    if (err)
        return evb_err_set(EVB_ERR_INVALID_JSON, errstr, errstr_size,
                           "the value is not JSON: %s", why);
    size_t base = out->len;
    err = evb_json_append_compact(out, (const char *)p, len);
    return finish_append(out, base, err, o, errstr, errstr_size);
}

static evb_err_t decode_avro(evb_serde_t *s, const uint8_t *p, size_t len,
                             const evb_serde_decode_opts_t *o, evb_buf_t *out,
                             evb_serde_info_t *info, char *errstr,
                             size_t errstr_size) {
    if (len == 0)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "empty record value: no wire format header");
    if (o->mode == EVB_SERDE_MODE_CONFLUENT && p[0] != 0x00)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "Unknown magic byte! 0x%02x is not the Confluent "
                           "wire format's 0",
                           p[0]);
    if (o->mode == EVB_SERDE_MODE_GLUE && p[0] != 0x03)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "0x%02x is not the AWS Glue wire format's header "
                           "version 3",
                           p[0]);
    evb_buf_t scratch;
    evb_buf_init(&scratch, 0);
    evb_wire_info_t wi;
    evb_err_t err = evb_wire_parse(p, len, &scratch, o->max_payload, &wi,
                                   errstr, errstr_size);
    if (err) {
        evb_buf_free(&scratch);
        return err;
    }
    info->kind = EVB_SERDE_KIND_AVRO;
    info->wire = wi.format;
    info->glue_compression = wi.glue_compression;
    evb__serde_key_t key = {.by_uuid = wi.format == EVB_WIRE_GLUE};
    if (key.by_uuid) {
        memcpy(key.uuid, wi.glue_uuid, 16);
        memcpy(info->glue_uuid, wi.glue_uuid, 16);
    } else if (wi.schema_id > INT32_MAX) {
        info->schema_id = -1;
        info->registry_err = EVB_REGISTRY_ERR_SCHEMA_NOT_FOUND;
        evb_buf_free(&scratch);
        return evb_err_set(EVB_ERR_NOT_FOUND, errstr, errstr_size,
                           "Schema %u not found (schema registry error "
                           "40403)",
                           (unsigned)wi.schema_id);
    } else {
        key.id = (int32_t)wi.schema_id;
        info->schema_id = key.id;
    }
    evb_avro_schema_t *schema;
    int32_t id = 0;
    err = get_schema(s, &key, &schema, &id, &info->registry_err, errstr,
                     errstr_size);
    if (!err) {
        info->schema_id = id;
        char why[512] = "";
        err = evb_avro_to_json(schema, wi.payload, wi.payload_len, &o->avro,
                               out, NULL, why, sizeof why);
        evb_avro_schema_unref(schema);
        if (err) {
            char what[64];
            describe_key(&key, what, sizeof what);
            evb_err_set(err, errstr, errstr_size, "Avro value of %s: %s", what,
                        why);
        }
    }
    evb_buf_free(&scratch);
    return err;
}

evb_err_t evb_serde_decode(evb_serde_t *s, const void *data, size_t len,
                           const evb_serde_decode_opts_t *opts, evb_buf_t *out,
                           evb_serde_info_t *info, char *errstr,
                           size_t errstr_size) {
    static const evb_serde_decode_opts_t defaults;
    const evb_serde_decode_opts_t *o = opts ? opts : &defaults;
    evb_serde_info_t scratch_info;
    if (!info)
        info = &scratch_info;
    memset(info, 0, sizeof *info);
    const uint8_t *p = data ? data : (const uint8_t *)"";
    if (errstr && errstr_size)
        errstr[0] = '\0';
    size_t base = out->len;
    evb_serde_mode_t mode = o->mode;

    if (!data || (len == 0 && (mode == EVB_SERDE_MODE_AUTO ||
                               mode == EVB_SERDE_MODE_JSON))) {
        info->kind = EVB_SERDE_KIND_NULL;
        return finish_append(out, base, evb_buf_append(out, "null", 4), o,
                             errstr, errstr_size);
    }
    if (mode == EVB_SERDE_MODE_AUTO) {
        if (p[0] == 0x00 || p[0] == 0x03)
            mode = EVB_SERDE_MODE_AVRO;
        else if (evb_json_validate((const char *)p, len, depth_limit(o), NULL,
                                   0) == EVB_ERR_OK)
            mode = EVB_SERDE_MODE_JSON;
        else if (evb_utf8_valid(p, len))
            mode = EVB_SERDE_MODE_STRING;
        else
            mode = EVB_SERDE_MODE_BYTES;
    }
    switch (mode) {
    case EVB_SERDE_MODE_AVRO:
    case EVB_SERDE_MODE_CONFLUENT:
    case EVB_SERDE_MODE_GLUE: {
        evb_serde_decode_opts_t o2 = *o;
        o2.mode = mode;
        info->kind = EVB_SERDE_KIND_AVRO;
        return decode_avro(s, p, len, &o2, out, info, errstr, errstr_size);
    }
    case EVB_SERDE_MODE_JSON:
        info->kind = EVB_SERDE_KIND_JSON;
        return decode_json(p, len, o, out, errstr, errstr_size);
    case EVB_SERDE_MODE_STRING:
        info->kind = EVB_SERDE_KIND_STRING;
        return finish_append(out, base, append_text(out, p, len), o, errstr,
                             errstr_size);
    case EVB_SERDE_MODE_BYTES:
        info->kind = EVB_SERDE_KIND_BYTES;
        return finish_append(out, base, append_base64(out, p, len), o, errstr,
                             errstr_size);
    case EVB_SERDE_MODE_AUTO: break;
    }
    return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                       "unknown decode mode %d", (int)mode);
}

/* ---- writers
 * ------------------------------------------------------------------ */

void evb_serde_writer_clear(evb_serde_writer_t *w) {
    if (!w)
        return;
    evb_avro_schema_unref(w->schema);
    memset(w, 0, sizeof *w);
}

/* The parsed schema of id whose text the caller has: from the cache, or
 * parsed from the text and cached. */
static evb_err_t schema_of_text(evb_serde_t *s, const evb_registry_schema_t *rs,
                                evb_avro_schema_t **out, char *errstr,
                                size_t errstr_size) {
    evb__serde_key_t key = {.by_uuid = false, .id = rs->id};
    evb_err_t e;
    evb_registry_err_t r;
    if (evb__serde_cache_get(&s->cache, &key, out, NULL, &e, &r, NULL, 0,
                             false) == EVB__SERDE_HIT)
        return EVB_ERR_OK;
    evb_err_t err = parse_fetched(&key, rs, out, errstr, errstr_size);
    if (!err)
        evb__serde_cache_put(&s->cache, &key, *out, rs->id);
    return err;
}

/* Fill w->uuid for subject version w->version of an external registry. */
static evb_err_t remote_uuid(evb_serde_t *s, const char *subject,
                             evb_serde_writer_t *w, evb_registry_err_t *rerr,
                             char *errstr, size_t errstr_size) {
    evb_err_t err = evb__serde_remote_uuid_of(
        s->remote, subject, w->version, w->uuid, rerr, errstr, errstr_size);
    if (!err)
        w->has_uuid = true;
    return err;
}

static evb_err_t writer_done(evb_err_t err, evb_serde_writer_t *w,
                             evb_registry_err_t r, evb_registry_err_t *rerr) {
    if (rerr)
        *rerr = r;
    if (err)
        evb_serde_writer_clear(w);
    return err;
}

evb_err_t evb_serde_writer_register(evb_serde_t *s, const char *subject,
                                    const char *schema, size_t len,
                                    unsigned flags, evb_serde_writer_t *w,
                                    evb_registry_err_t *rerr, char *errstr,
                                    size_t errstr_size) {
    memset(w, 0, sizeof *w);
    evb_registry_err_t r = EVB_REGISTRY_ERR_OK;
    if (!subject || !*subject || !schema)
        return writer_done(evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                                       "a subject and a schema are needed"),
                           w, r, rerr);
    evb_err_t err = evb__serde_register(s, subject, schema, len, &w->id,
                                        &w->version, &r, errstr, errstr_size);
    if (!err) {
        /* the text registered is the writer schema (the registry may keep
         * an earlier, equal text under the id: same meaning) */
        evb_registry_schema_t rs = {.id = w->id,
                                    .type = "AVRO",
                                    .schema = (char *)(uintptr_t)schema,
                                    .schema_len = len};
        err = schema_of_text(s, &rs, &w->schema, errstr, errstr_size);
    }
    if (!err && s->registry) {
        evb_registry_schema_t v;
        evb_buf_t msg;
        evb_buf_init(&msg, 4096);
        r = evb_registry_get_version(s->registry, subject, w->version, true, &v,
                                     &msg);
        if (!r) {
            memcpy(w->uuid, v.uuid, 16);
            w->has_uuid = true;
        } else {
            err = evb_err_set(evb__serde_err_of(r), errstr, errstr_size, "%s",
                              msg.len ? msg.data : "registry error");
        }
        evb_registry_schema_clear(&v);
        evb_buf_free(&msg);
    } else if (!err && (flags & EVB_SERDE_WRITER_UUID)) {
        err =
            evb__serde_remote_version_of(s->remote, subject, schema, len,
                                         &w->version, &r, errstr, errstr_size);
        if (!err)
            err = remote_uuid(s, subject, w, &r, errstr, errstr_size);
    }
    return writer_done(err, w, r, rerr);
}

evb_err_t evb_serde_writer_version(evb_serde_t *s, const char *subject,
                                   int32_t version, unsigned flags,
                                   evb_serde_writer_t *w,
                                   evb_registry_err_t *rerr, char *errstr,
                                   size_t errstr_size) {
    memset(w, 0, sizeof *w);
    evb_registry_err_t r = EVB_REGISTRY_ERR_OK;
    if (!subject || !*subject)
        return writer_done(evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                                       "a subject is needed"),
                           w, r, rerr);
    evb_registry_schema_t rs;
    evb_err_t err = evb__serde_fetch_version(s, subject, version, &rs, &r,
                                             errstr, errstr_size);
    if (!err) {
        w->id = rs.id;
        w->version = rs.version;
        err = schema_of_text(s, &rs, &w->schema, errstr, errstr_size);
    }
    if (!err && s->registry) {
        memcpy(w->uuid, rs.uuid, 16);
        w->has_uuid = true;
    } else if (!err && (flags & EVB_SERDE_WRITER_UUID)) {
        err = remote_uuid(s, subject, w, &r, errstr, errstr_size);
    }
    evb_registry_schema_clear(&rs);
    return writer_done(err, w, r, rerr);
}

evb_err_t evb_serde_writer_id(evb_serde_t *s, int32_t id, evb_serde_writer_t *w,
                              evb_registry_err_t *rerr, char *errstr,
                              size_t errstr_size) {
    memset(w, 0, sizeof *w);
    evb_registry_err_t r;
    evb__serde_key_t key = {.by_uuid = false, .id = id};
    evb_err_t err =
        get_schema(s, &key, &w->schema, NULL, &r, errstr, errstr_size);
    if (!err)
        w->id = id;
    return writer_done(err, w, r, rerr);
}

evb_err_t evb_serde_writer_uuid(evb_serde_t *s, const uint8_t uuid[16],
                                evb_serde_writer_t *w, evb_registry_err_t *rerr,
                                char *errstr, size_t errstr_size) {
    memset(w, 0, sizeof *w);
    evb_registry_err_t r;
    evb__serde_key_t key = {.by_uuid = true};
    memcpy(key.uuid, uuid, 16);
    evb_err_t err =
        get_schema(s, &key, &w->schema, &w->id, &r, errstr, errstr_size);
    if (!err) {
        memcpy(w->uuid, uuid, 16);
        w->has_uuid = true;
    }
    return writer_done(err, w, r, rerr);
}

/* ---- encoding
 * ------------------------------------------------------------------ */

evb_err_t evb_serde_encode(const evb_serde_writer_t *w,
                           const evb_serde_encode_opts_t *opts,
                           const char *json, size_t len, evb_buf_t *out,
                           char *errstr, size_t errstr_size) {
    static const evb_serde_encode_opts_t defaults;
    const evb_serde_encode_opts_t *o = opts ? opts : &defaults;
    if (!w || !w->schema)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "the writer has no schema (resolve it first)");
    evb_wire_format_t wire = o->wire ? o->wire : EVB_WIRE_CONFLUENT;
    if (wire != EVB_WIRE_CONFLUENT && wire != EVB_WIRE_GLUE)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "unknown wire format %d", (int)wire);
    if (wire == EVB_WIRE_GLUE && !w->has_uuid)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "AWS Glue framing needs the schema version UUID, "
                           "and the registry gave none for schema %d",
                           (int)w->id);
    if (wire == EVB_WIRE_GLUE &&
        o->glue_compression != EVB_WIRE_GLUE_COMPRESSION_NONE &&
        o->glue_compression != EVB_WIRE_GLUE_COMPRESSION_ZLIB)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "unknown AWS Glue compression %u (0 or 5)",
                           o->glue_compression);
    size_t base = out->len;
    evb_err_t err;
    if (wire == EVB_WIRE_GLUE &&
        o->glue_compression == EVB_WIRE_GLUE_COMPRESSION_ZLIB) {
        evb_buf_t tmp;
        evb_buf_init(&tmp, out->max);
        err = evb_avro_from_json(w->schema, json, len, o->flags, &tmp, errstr,
                                 errstr_size);
        if (!err) {
            err = evb_wire_glue_frame(out, w->uuid, o->glue_compression,
                                      tmp.data ? tmp.data : "", tmp.len);
            if (err)
                evb_err_set(err, errstr, errstr_size,
                            "cannot frame the value: %s", evb_err_message(err));
        }
        evb_buf_free(&tmp);
        return err;
    }
    if (wire == EVB_WIRE_GLUE) {
        uint8_t h[2] = {3, EVB_WIRE_GLUE_COMPRESSION_NONE};
        err = evb_buf_append(out, h, 2);
        if (!err)
            err = evb_buf_append(out, w->uuid, 16);
    } else {
        err = evb_wire_confluent_header(out, (uint32_t)w->id);
    }
    if (err) {
        evb_err_set(err, errstr, errstr_size, "cannot frame the value: %s",
                    evb_err_message(err));
    } else {
        err = evb_avro_from_json(w->schema, json, len, o->flags, out, errstr,
                                 errstr_size);
    }
    if (err) {
        out->len = base;
        if (out->data)
            out->data[base] = '\0';
    }
    return err;
}
