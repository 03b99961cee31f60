/*
 * util.c: the registry's small shared pieces: the error table,
 * compatibility levels and modes by name, version segments, UUID text,
 * and freeing results.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "registry_internal.h"

static const struct {
    int code;
    unsigned status;
    const char *message;
} err_table[] = {
#define EVB__REGISTRY_ERR_ROW(name, code, status, msg) {code, status, msg},
    EVB_REGISTRY_ERRORS(EVB__REGISTRY_ERR_ROW)
#undef EVB__REGISTRY_ERR_ROW
};

int evb_registry_err_code(evb_registry_err_t err) {
    return (unsigned)err < EVB_REGISTRY_ERR__COUNT ? err_table[err].code : 0;
}

unsigned evb_registry_err_status(evb_registry_err_t err) {
    return (unsigned)err < EVB_REGISTRY_ERR__COUNT ? err_table[err].status
                                                   : 500;
}

const char *evb_registry_err_message(evb_registry_err_t err) {
    return (unsigned)err < EVB_REGISTRY_ERR__COUNT ? err_table[err].message
                                                   : "Unknown error";
}

evb_registry_err_t evb_registry_err_from_code(int code) {
    if (code == 0)
        return EVB_REGISTRY_ERR_REMOTE;
    for (size_t i = 1; i < EVB_REGISTRY_ERR__COUNT; i++)
        if (err_table[i].code == code)
            return (evb_registry_err_t)i;
    if (code == 40901) /* newer servers' code for an incompatible schema */
        return EVB_REGISTRY_ERR_INCOMPATIBLE;
    return EVB_REGISTRY_ERR_REMOTE;
}

static const char *const compat_names[] = {
    "NONE",    "BACKWARD",           "BACKWARD_TRANSITIVE",
    "FORWARD", "FORWARD_TRANSITIVE", "FULL",
    "FULL_TRANSITIVE",
};

const char *evb_registry_compat_name(evb_registry_compat_t level) {
    return (unsigned)level < EVB_ARRAY_LEN(compat_names) ? compat_names[level]
                                                         : "NONE";
}

bool evb_registry_compat_parse(const char *s, evb_registry_compat_t *out) {
    for (size_t i = 0; s && i < EVB_ARRAY_LEN(compat_names); i++)
        if (strcasecmp(s, compat_names[i]) == 0) {
            *out = (evb_registry_compat_t)i;
            return true;
        }
    return false;
}

static const char *const mode_names[] = {"READWRITE", "READONLY", "IMPORT"};

const char *evb_registry_mode_name(evb_registry_mode_t mode) {
    return (unsigned)mode < EVB_ARRAY_LEN(mode_names) ? mode_names[mode]
                                                      : "READWRITE";
}

bool evb_registry_mode_parse(const char *s, evb_registry_mode_t *out) {
    for (size_t i = 0; s && i < EVB_ARRAY_LEN(mode_names); i++)
        if (strcasecmp(s, mode_names[i]) == 0) {
            *out = (evb_registry_mode_t)i;
            return true;
        }
    return false;
}

evb_registry_err_t evb_registry_parse_version(const char *s, int32_t *out,
                                              evb_buf_t *msg) {
    if (s && (strcasecmp(s, "latest") == 0 || strcmp(s, "-1") == 0)) {
        *out = EVB_REGISTRY_VERSION_LATEST;
        return EVB_REGISTRY_ERR_OK;
    }
    int64_t v = 0;
    bool ok = s && s[0] >= '0' && s[0] <= '9';
    for (const char *c = s; ok && *c; c++) {
        if (*c < '0' || *c > '9' || v > INT32_MAX)
            ok = false;
        else
            v = v * 10 + (*c - '0');
    }
    if (!ok || v < 1 || v > INT32_MAX) {
        evb__msg(msg,
                 "The specified version '%.200s' is not a valid version id. "
                 "Allowed values are between [1, 2^31-1] and the string "
                 "\"latest\"",
                 s ? s : "");
        return EVB_REGISTRY_ERR_INVALID_VERSION;
    }
    *out = (int32_t)v;
    return EVB_REGISTRY_ERR_OK;
}

void evb_registry_schema_clear(evb_registry_schema_t *s) {
    if (!s)
        return;
    free(s->schema);
    free(s->subject);
    memset(s, 0, sizeof *s);
}

void evb_registry_subject_versions_free(evb_registry_subject_version_t *v,
                                        size_t n) {
    for (size_t i = 0; v && i < n; i++)
        free(v[i].subject);
    free(v);
}

void evb_registry_strv_free(char **v) {
    for (size_t i = 0; v && v[i]; i++)
        free(v[i]);
    free(v);
}

void evb_registry_uuid_format(const uint8_t uuid[16], char out[37]) {
    evb_uuid_format(uuid, out);
}

bool evb_registry_uuid_parse(const char *s, uint8_t out[16]) {
    return s && evb_uuid_parse(s, strlen(s), out);
}
