/*
 * credentials.c: AWS credentials for signing, found the way the AWS SDKs'
 * default chain finds them (its environment and shared-file steps; no
 * SSO, no process credentials, no instance metadata).
 *
 * The shared credentials file is an INI file: "[profile]" sections of
 * "key = value" lines (aws_access_key_id, aws_secret_access_key,
 * aws_session_token); '#' and ';' start comment lines. Messages name the
 * file and the profile, never a secret.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connector_internal.h"

static char *trim(char *s) {
    while (isspace((unsigned char)*s))
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    return s;
}

static bool copy(char *dst, size_t n, const char *src) {
    size_t l = strlen(src);
    if (l >= n)
        return false;
    memcpy(dst, src, l + 1);
    return true;
}

/* Read profile from the shared credentials file. EVB_ERR_NOT_FOUND when
 * the file or the profile is missing. */
static evb_err_t from_file(const char *profile, bool named,
                           evb_connector_credentials_t *out, char *errstr,
                           size_t errstr_size) {
    char path[1024];
    const char *env = getenv("AWS_SHARED_CREDENTIALS_FILE");
    if (env && *env)
        snprintf(path, sizeof path, "%s", env);
    else if (getenv("HOME"))
        snprintf(path, sizeof path, "%s/.aws/credentials", getenv("HOME"));
    else
        return EVB_ERR_NOT_FOUND;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (named)
            return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                               "AWS profile '%s': cannot read %s", profile,
                               path);
        return EVB_ERR_NOT_FOUND;
    }
    char line[4096];
    bool in = false, found = false;
    char id[sizeof out->access_key_id] = "";
    char secret[sizeof out->secret_access_key] = "";
    char token[sizeof out->session_token] = "";
    bool too_long = false;
    while (fgets(line, sizeof line, f)) {
        char *s = trim(line);
        if (!*s || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            char *e = strchr(s, ']');
            if (e)
                *e = 0;
            char *name = trim(s + 1);
            in = strcmp(name, profile) == 0;
            found |= in;
            continue;
        }
        if (!in)
            continue;
        char *eq = strchr(s, '=');
        if (!eq)
            continue;
        *eq = 0;
        char *k = trim(s), *v = trim(eq + 1);
        if (strcmp(k, "aws_access_key_id") == 0)
            too_long |= !copy(id, sizeof id, v);
        else if (strcmp(k, "aws_secret_access_key") == 0)
            too_long |= !copy(secret, sizeof secret, v);
        else if (strcmp(k, "aws_session_token") == 0)
            too_long |= !copy(token, sizeof token, v);
    }
    fclose(f);
    evb_err_t err = EVB_ERR_OK;
    if (!found)
        err = named
                  ? evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                                "AWS profile '%s' is not in %s", profile, path)
                  : EVB_ERR_NOT_FOUND;
    else if (too_long)
        err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                          "AWS profile '%s' in %s: a value is too long",
                          profile, path);
    else if (!*id || !*secret)
        err = evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                          "AWS profile '%s' in %s: needs aws_access_key_id "
                          "and aws_secret_access_key",
                          profile, path);
    if (!err) {
        memcpy(out->access_key_id, id, sizeof id);
        memcpy(out->secret_access_key, secret, sizeof secret);
        memcpy(out->session_token, token, sizeof token);
        snprintf(out->source, sizeof out->source, "%s [%s]", path, profile);
    }
    memset(secret, 0, sizeof secret);
    memset(token, 0, sizeof token);
    memset(line, 0, sizeof line);
    return err;
}

evb_err_t evb_connector_credentials_find(const char *profile,
                                         evb_connector_credentials_t *out,
                                         char *errstr, size_t errstr_size) {
    memset(out, 0, sizeof *out);
    if (profile && *profile)
        return from_file(profile, true, out, errstr, errstr_size);
    const char *id = getenv("AWS_ACCESS_KEY_ID");
    const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
    if (id && *id && secret && *secret) {
        const char *token = getenv("AWS_SESSION_TOKEN");
        if (!copy(out->access_key_id, sizeof out->access_key_id, id) ||
            !copy(out->secret_access_key, sizeof out->secret_access_key,
                  secret) ||
            !copy(out->session_token, sizeof out->session_token,
                  token ? token : ""))
            return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                               "AWS credentials in the environment: a value "
                               "is too long");
        snprintf(out->source, sizeof out->source, "environment");
        return EVB_ERR_OK;
    }
    const char *p = getenv("AWS_PROFILE");
    bool named = p && *p;
    return from_file(named ? p : "default", named, out, errstr, errstr_size);
}
