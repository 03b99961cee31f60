/*
 * api_events_archive.c: EventBridge's archive and replay actions
 * (AWSEvents, AWS JSON 1.1) on top of the archive service (archive.h),
 * as an action table api_events.c merges into its own.
 *
 * Each action checks its members against botocore's model first (one
 * ValidationException listing every violation, SerializationException
 * for a member of the wrong JSON type), then calls the service and maps
 * its error codes to AWS's exceptions. Timestamps are epoch seconds (JSON
 * numbers, fractions kept to the millisecond).
 *
 * The service lives in call->api->archive; without it every action
 * answers InternalException after validation.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../archive/archive.h"
#include "api_internal.h"

#define ERRSTR_SIZE 1024

static const char NAME_PATTERN[] = "[\\.\\-_A-Za-z0-9]+";
static const char ARN_PATTERN[] =
    "^arn:aws([a-z]|\\-)*:events:([a-z]|\\d|\\-)*:([0-9]{12})?:.+\\/.+$";
static const char KMS_PATTERN[] = "^[a-zA-Z0-9_\\-/:]*$";

static const char *const ARCHIVE_STATES[] = {"ENABLED",       "DISABLED",
                                             "CREATING",      "UPDATING",
                                             "CREATE_FAILED", "UPDATE_FAILED"};
static const char *const REPLAY_STATES[] = {
    "STARTING", "RUNNING", "CANCELLING", "COMPLETED", "CANCELLED", "FAILED"};

/* ---- the model's constraints -----------------------------------------------
 */

static bool name_ok(const char *s, size_t len) {
    if (!len)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_'))
            return false;
    }
    return true;
}

static bool lower_dash(char c) {
    return (c >= 'a' && c <= 'z') || c == '-';
}

/* ^arn:aws([a-z]|\-)*:events:([a-z]|\d|\-)*:([0-9]{12})?:.+\/TAIL$ where
 * TAIL is .+ or (name_tail) [\.\-_A-Za-z0-9]+. */
static bool arn_ok(const char *s, size_t len, bool name_tail) {
    size_t i = 7;
    if (len < 7 || memcmp(s, "arn:aws", 7) != 0)
        return false;
    while (i < len && lower_dash(s[i]))
        i++;
    if (len - i < 8 || memcmp(s + i, ":events:", 8) != 0)
        return false;
    i += 8;
    while (i < len && (lower_dash(s[i]) || (s[i] >= '0' && s[i] <= '9')))
        i++;
    if (i >= len || s[i++] != ':')
        return false;
    size_t d = i;
    while (i < len && s[i] >= '0' && s[i] <= '9')
        i++;
    if (i - d != 0 && i - d != 12)
        return false;
    if (i >= len || s[i++] != ':')
        return false;
    /* .+\/tail: some '/' after at least one character with a non-empty
     * tail after it (the last '/' gives the longest chance) */
    const char *rest = s + i;
    size_t rlen = len - i;
    for (size_t k = rlen; k-- > 1;) {
        if (rest[k] != '/')
            continue;
        if (k + 1 >= rlen)
            continue;
        if (!name_tail || name_ok(rest + k + 1, rlen - k - 1))
            return true;
        return false;
    }
    return false;
}

typedef enum shape {
    S_ARCHIVE_NAME, /* 1..48, name */
    S_REPLAY_NAME,  /* 1..64, name */
    S_BUS_ARN,      /* 1..1600, ARN pattern */
    S_ARCHIVE_ARN,  /* 1..1600, ARN pattern */
    S_DESCRIPTION,  /* 0..512 */
    S_PATTERN,      /* 0..4096 */
    S_KMS,          /* 0..2048, KMS pattern */
    S_ARN,          /* 1..1600 */
} shape_t;

static const struct {
    size_t min, max;
} LIMITS[] = {
    [S_ARCHIVE_NAME] = {1, 48}, [S_REPLAY_NAME] = {1, 64},
    [S_BUS_ARN] = {1, 1600},    [S_ARCHIVE_ARN] = {1, 1600},
    [S_DESCRIPTION] = {0, 512}, [S_PATTERN] = {0, 4096},
    [S_KMS] = {0, 2048},        [S_ARN] = {1, 1600},
};

static void check(evb__api_call_t *call, const char *s, size_t len,
                  const char *path, shape_t sh) {
    size_t n = evb__api_utf16_len(s, len);
    if (n < LIMITS[sh].min)
        evb_api_validation_add(&call->validation, s, len, path, EVB_API_MIN_LEN,
                               LIMITS[sh].min);
    const char *pat = NULL;
    switch (sh) {
    case S_ARCHIVE_NAME:
    case S_REPLAY_NAME:
        if (!name_ok(s, len))
            pat = NAME_PATTERN;
        break;
    case S_BUS_ARN:
        if (!arn_ok(s, len, false))
            pat = ARN_PATTERN;
        break;
    case S_ARCHIVE_ARN:
        if (!arn_ok(s, len, false))
            pat = ARN_PATTERN;
        break;
    case S_KMS:
        for (size_t i = 0; i < len && !pat; i++) {
            char c = s[i];
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '/' ||
                  c == ':'))
                pat = KMS_PATTERN;
        }
        break;
    default: break;
    }
    if (pat)
        evb_api_validation_add(&call->validation, s, len, path, EVB_API_PATTERN,
                               pat);
}

/* A top-level string member (NULL when absent). */
static const char *str(evb__api_call_t *call, const char *name,
                       const char *path, bool required, shape_t sh) {
    const char *s;
    size_t len;
    if (!evb__api_string_member(call, name, path, required, LIMITS[sh].max, &s,
                                &len))
        return NULL;
    check(call, s, len, path, sh);
    return s;
}

static void check_enum(evb__api_call_t *call, const char *s, const char *path,
                       const char *const *values, size_t n) {
    if (!s)
        return;
    for (size_t i = 0; i < n; i++)
        if (strcmp(values[i], s) == 0)
            return;
    char set[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < n && used < sizeof set; i++)
        used += (size_t)snprintf(set + used, sizeof set - used, "%s%s",
                                 i ? ", " : "", values[i]);
    evb_api_validation_add(&call->validation, s, strlen(s), path,
                           "Member must satisfy enum value set: [%s]", set);
}

/* Member name of obj; NULL when absent or JSON null. */
static const evb_jval_t *member(const evb_jval_t *obj, const char *name) {
    const evb_jval_t *found = evb__api_member(obj, name);
    return found && found->type != EVB_JSON_NULL ? found : NULL;
}

/* A Timestamp member (epoch seconds, a JSON number) in milliseconds. */
static bool time_member(evb__api_call_t *call, const char *name,
                        const char *path, int64_t *ms) {
    const evb_jval_t *v = member(call->input, name);
    if (!v) {
        evb_api_validation_add(&call->validation, NULL, 0, path, "%s",
                               EVB_API_NOT_NULL);
        return false;
    }
    if (v->type != EVB_JSON_NUMBER) {
        evb__api_fail_type(call, name, "a number", v);
        return false;
    }
    double d = strtod(v->u.str.s, NULL);
    if (!isfinite(d) || fabs(d) > 1e13) {
        evb__api_fail(call, 400, "SerializationException",
                      "Value for member '%s' is out of range", name);
        return false;
    }
    *ms = (int64_t)llround(d * 1000.0);
    return true;
}

/* ---- shared steps ----------------------------------------------------------
 */

static evb_archive_service_t *service(evb__api_call_t *call) {
    if (!call->api->archive)
        evb__api_fail(call, 500, "InternalException",
                      "The archive service is not available.");
    return call->api->archive;
}

static void fail(evb__api_call_t *call, evb_err_t err, const char *errstr) {
    evb__api_fail_err(call, err, errstr);
}

/* ---- archives --------------------------------------------------------------
 */

static void write_archive_summary(evb__jw_t *w, const evb_archive_info_t *a) {
    evb__jw_str(w, "ArchiveName", a->name);
    evb__jw_str(w, "EventSourceArn", a->bus_arn);
    evb__jw_str(w, "State", a->state);
    evb__jw_int(w, "RetentionDays", a->retention_days);
    evb__jw_int(w, "SizeBytes", a->size_bytes);
    evb__jw_int(w, "EventCount", a->event_count);
    evb__jw_time(w, "CreationTime", a->created_ms);
}

/* The members CreateArchive and UpdateArchive share after the name (and
 * the source): Description, EventPattern, KmsKeyIdentifier (checked, not
 * kept) and RetentionDays. */
typedef struct archive_settings {
    const char *desc, *pattern;
    bool has_days;
    long long days;
} archive_settings_t;

static void read_settings(evb__api_call_t *call, archive_settings_t *st) {
    st->desc = str(call, "Description", "description", false, S_DESCRIPTION);
    st->pattern = str(call, "EventPattern", "eventPattern", false, S_PATTERN);
    str(call, "KmsKeyIdentifier", "kmsKeyIdentifier", false, S_KMS);
    st->days = 0;
    st->has_days = evb__api_int_member(call, call->input, "RetentionDays",
                                       "retentionDays", 0, 0, &st->days);
}

/* The answer of CreateArchive and UpdateArchive (the service's err, or
 * the archive a, which is freed). */
static void answer_change(evb__api_call_t *call, evb_err_t err,
                          const char *errstr, evb_archive_info_t *a) {
    if (err) {
        fail(call, err, errstr);
        return;
    }
    evb__jw_t w;
    evb__jw_init(&w, call);
    evb__jw_open(&w, NULL, '{');
    evb__jw_str(&w, "ArchiveArn", a->arn);
    evb__jw_str(&w, "State", a->state);
    evb__jw_time(&w, "CreationTime", a->created_ms);
    evb__jw_close(&w, '}');
    evb__jw_done(call, &w);
    evb_archive_info_free(a);
}

/*
 * CreateArchive {ArchiveName*, EventSourceArn*, Description, EventPattern,
 * RetentionDays, KmsKeyIdentifier} -> {ArchiveArn, State, CreationTime}
 */
static void create_archive(evb__api_call_t *call) {
    const char *name =
        str(call, "ArchiveName", "archiveName", true, S_ARCHIVE_NAME);
    const char *src =
        str(call, "EventSourceArn", "eventSourceArn", true, S_BUS_ARN);
    archive_settings_t st;
    read_settings(call, &st);
    if (!evb__api_validated(call))
        return;
    evb_archive_service_t *svc = service(call);
    if (!svc)
        return;
    char errstr[ERRSTR_SIZE] = "";
    evb_archive_info_t a = {0};
    evb_err_t err = evb_archive_create(svc, name, src, st.desc, st.pattern,
                                       st.has_days ? st.days : 0, &a, errstr,
                                       sizeof errstr);
    answer_change(call, err, errstr, &a);
}

/* DescribeArchive {ArchiveName*} -> the archive with EventCount and
 * SizeBytes. */
static void describe_archive(evb__api_call_t *call) {
    const char *name =
        str(call, "ArchiveName", "archiveName", true, S_ARCHIVE_NAME);
    if (!evb__api_validated(call))
        return;
    evb_archive_service_t *svc = service(call);
    if (!svc)
        return;
    char errstr[ERRSTR_SIZE] = "";
    evb_archive_info_t a = {0};
    evb_err_t err = evb_archive_describe(svc, name, &a, errstr, sizeof errstr);
    if (err) {
        fail(call, err, errstr);
        return;
    }
    evb__jw_t w;
    evb__jw_init(&w, call);
    evb__jw_open(&w, NULL, '{');
    evb__jw_str(&w, "ArchiveArn", a.arn);
    evb__jw_str(&w, "ArchiveName", a.name);
    evb__jw_str(&w, "EventSourceArn", a.bus_arn);
    evb__jw_str(&w, "Description", a.description);
    evb__jw_str(&w, "EventPattern", a.event_pattern);
    evb__jw_str(&w, "State", a.state);
    evb__jw_int(&w, "RetentionDays", a.retention_days);
    evb__jw_int(&w, "SizeBytes", a.size_bytes);
    evb__jw_int(&w, "EventCount", a.event_count);
    evb__jw_time(&w, "CreationTime", a.created_ms);
    evb__jw_close(&w, '}');
    evb__jw_done(call, &w);
    evb_archive_info_free(&a);
}

/* ListArchives {NamePrefix, EventSourceArn, State, NextToken, Limit} ->
 * {Archives, NextToken} */
static void list_archives(evb__api_call_t *call) {
    const char *prefix =
        str(call, "NamePrefix", "namePrefix", false, S_ARCHIVE_NAME);
    const char *src =
        str(call, "EventSourceArn", "eventSourceArn", false, S_BUS_ARN);
    const char *state = str(call, "State", "state", false, S_DESCRIPTION);
    check_enum(call, state, "state", ARCHIVE_STATES,
               EVB_ARRAY_LEN(ARCHIVE_STATES));
    evb__api_page_t pg;
    evb__api_paging(call, &pg);
    if (!evb__api_validated(call))
        return;
    evb_archive_service_t *svc = service(call);
    if (!svc)
        return;
    char errstr[ERRSTR_SIZE] = "";
    evb_archive_info_t *items = NULL;
    size_t n = 0;
    char *next = NULL;
    evb_err_t err =
        evb_archive_list(svc, prefix, src, state, pg.next_token, pg.limit,
                         &items, &n, &next, errstr, sizeof errstr);
    if (err) {
        fail(call, err, errstr);
        return;
    }
    evb__jw_t w;
    evb__jw_list_begin(&w, call, "Archives");
    for (size_t i = 0; i < n; i++) {
        evb__jw_open(&w, NULL, '{');
        write_archive_summary(&w, &items[i]);
        evb__jw_close(&w, '}');
        evb_archive_info_free(&items[i]);
    }
    evb__jw_list_end(call, &w, next);
    free(items);
    free(next);
}

/*
 * UpdateArchive {ArchiveName*, Description, EventPattern, RetentionDays,
 * KmsKeyIdentifier} -> {ArchiveArn, State, CreationTime}
 */
static void update_archive(evb__api_call_t *call) {
    const char *name =
        str(call, "ArchiveName", "archiveName", true, S_ARCHIVE_NAME);
    archive_settings_t st;
    read_settings(call, &st);
    if (!evb__api_validated(call))
        return;
    evb_archive_service_t *svc = service(call);
    if (!svc)
        return;
    char errstr[ERRSTR_SIZE] = "";
    evb_archive_info_t a = {0};
    evb_err_t err = evb_archive_update(svc, name, st.desc, st.pattern,
                                       st.has_days ? st.days : -1, &a, errstr,
                                       sizeof errstr);
    answer_change(call, err, errstr, &a);
}

/* DeleteArchive {ArchiveName*} -> {} */
static void delete_archive(evb__api_call_t *call) {
    const char *name =
        str(call, "ArchiveName", "archiveName", true, S_ARCHIVE_NAME);
    if (!evb__api_validated(call))
        return;
    evb_archive_service_t *svc = service(call);
    if (!svc)
        return;
    char errstr[ERRSTR_SIZE] = "";
    evb_err_t err = evb_archive_delete(svc, name, errstr, sizeof errstr);
    if (err)
        fail(call, err, errstr);
    else if (evb_buf_append(call->out, "{}", 2))
        evb__api_fail_err(call, EVB_ERR_NOMEM, NULL);
}

/* ---- replays ----------------------------------------------------------------
 */

static void write_destination(evb__jw_t *w, const evb_replay_info_t *r) {
    evb__jw_open(w, "Destination", '{');
    evb__jw_str(w, "Arn", r->dest_arn);
    if (r->has_filter) {
        evb__jw_open(w, "FilterArns", '[');
        for (size_t i = 0; i < r->nfilter; i++)
            evb__jw_str(w, NULL, r->filter_arns[i]);
        evb__jw_close(w, ']');
    }
    evb__jw_close(w, '}');
}

/*
 * StartReplay {ReplayName*, Description, EventSourceArn*, EventStartTime*,
 * EventEndTime*, Destination* {Arn*, FilterArns}} -> {ReplayArn, State,
 * ReplayStartTime}
 */
static void start_replay(evb__api_call_t *call) {
    evb_replay_spec_t s = {0};
    s.name = str(call, "ReplayName", "replayName", true, S_REPLAY_NAME);
    s.description =
        str(call, "Description", "description", false, S_DESCRIPTION);
    s.archive_arn =
        str(call, "EventSourceArn", "eventSourceArn", true, S_ARCHIVE_ARN);
    time_member(call, "EventStartTime", "eventStartTime", &s.start_ms);
    time_member(call, "EventEndTime", "eventEndTime", &s.end_ms);
    const evb_jval_t *d = member(call->input, "Destination");
    const char **filters = NULL;
    if (!d) {
        evb_api_validation_add(&call->validation, NULL, 0, "destination", "%s",
                               EVB_API_NOT_NULL);
    } else if (d->type != EVB_JSON_OBJECT) {
        evb__api_fail_type(call, "Destination", "an object", d);
        return;
    } else {
        const evb_jval_t *arn = member(d, "Arn");
        if (!arn)
            evb_api_validation_add(&call->validation, NULL, 0,
                                   "destination.arn", "%s", EVB_API_NOT_NULL);
        else if (arn->type != EVB_JSON_STRING) {
            evb__api_fail_type(call, "Arn", "a string", arn);
            return;
        } else {
            s.dest_arn = arn->u.str.s;
            size_t n = evb__api_utf16_len(arn->u.str.s, arn->u.str.len);
            if (n > 1600)
                evb_api_validation_add(&call->validation, arn->u.str.s,
                                       arn->u.str.len, "destination.arn",
                                       EVB_API_MAX_LEN, (size_t)1600);
            check(call, arn->u.str.s, arn->u.str.len, "destination.arn", S_ARN);
        }
        const evb_jval_t *f = member(d, "FilterArns");
        if (f && f->type != EVB_JSON_ARRAY) {
            evb__api_fail_type(call, "FilterArns", "an array", f);
            return;
        }
        if (f) {
            filters =
                evb_arena_calloc(call->arena, f->u.arr.n + 1, sizeof *filters);
            if (!filters) {
                evb__api_fail_err(call, EVB_ERR_NOMEM, NULL);
                return;
            }
            for (size_t i = 0; i < f->u.arr.n; i++) {
                const evb_jval_t *e = f->u.arr.items[i];
                if (e->type != EVB_JSON_STRING) {
                    evb__api_fail_type(call, "FilterArns", "a string", e);
                    return;
                }
                filters[s.nfilter++] = e->u.str.s;
            }
            s.filter_arns = filters;
        }
    }
    if (!evb__api_validated(call))
        return;
    evb_archive_service_t *svc = service(call);
    if (!svc)
        return;
    char errstr[ERRSTR_SIZE] = "";
    evb_replay_info_t r = {0};
    evb_err_t err = evb_replay_start(svc, &s, &r, errstr, sizeof errstr);
    if (err) {
        fail(call, err, errstr);
        return;
    }
    evb__jw_t w;
    evb__jw_init(&w, call);
    evb__jw_open(&w, NULL, '{');
    evb__jw_str(&w, "ReplayArn", r.arn);
    /* the state it was created in, as AWS answers: the replay worker may
     * already have moved it on by the time this answer is written */
    evb__jw_str(&w, "State", "STARTING");
    evb__jw_str(&w, "StateReason", r.state_reason);
    evb__jw_time(&w, "ReplayStartTime", r.replay_start_ms);
    evb__jw_close(&w, '}');
    evb__jw_done(call, &w);
    evb_replay_info_free(&r);
}

/* DescribeReplay {ReplayName*} -> the replay. */
static void describe_replay(evb__api_call_t *call) {
    const char *name =
        str(call, "ReplayName", "replayName", true, S_REPLAY_NAME);
    if (!evb__api_validated(call))
        return;
    evb_archive_service_t *svc = service(call);
    if (!svc)
        return;
    char errstr[ERRSTR_SIZE] = "";
    evb_replay_info_t r = {0};
    evb_err_t err = evb_replay_describe(svc, name, &r, errstr, sizeof errstr);
    if (err) {
        fail(call, err, errstr);
        return;
    }
    evb__jw_t w;
    evb__jw_init(&w, call);
    evb__jw_open(&w, NULL, '{');
    evb__jw_str(&w, "ReplayName", r.name);
    evb__jw_str(&w, "ReplayArn", r.arn);
    evb__jw_str(&w, "Description", r.description);
    evb__jw_str(&w, "State", r.state);
    evb__jw_str(&w, "StateReason", r.state_reason);
    evb__jw_str(&w, "EventSourceArn", r.archive_arn);
    write_destination(&w, &r);
    evb__jw_time(&w, "EventStartTime", r.start_ms);
    evb__jw_time(&w, "EventEndTime", r.end_ms);
    evb__jw_time(&w, "EventLastReplayedTime", r.last_replayed_ms);
    evb__jw_time(&w, "ReplayStartTime", r.replay_start_ms);
    evb__jw_time(&w, "ReplayEndTime", r.replay_end_ms);
    evb__jw_close(&w, '}');
    evb__jw_done(call, &w);
    evb_replay_info_free(&r);
}

/* ListReplays {NamePrefix, State, EventSourceArn, NextToken, Limit} ->
 * {Replays, NextToken} */
static void list_replays(evb__api_call_t *call) {
    const char *prefix =
        str(call, "NamePrefix", "namePrefix", false, S_REPLAY_NAME);
    const char *state = str(call, "State", "state", false, S_DESCRIPTION);
    check_enum(call, state, "state", REPLAY_STATES,
               EVB_ARRAY_LEN(REPLAY_STATES));
    const char *src =
        str(call, "EventSourceArn", "eventSourceArn", false, S_ARCHIVE_ARN);
    evb__api_page_t pg;
    evb__api_paging(call, &pg);
    if (!evb__api_validated(call))
        return;
    evb_archive_service_t *svc = service(call);
    if (!svc)
        return;
    char errstr[ERRSTR_SIZE] = "";
    evb_replay_info_t *items = NULL;
    size_t n = 0;
    char *next = NULL;
    evb_err_t err =
        evb_replay_list(svc, prefix, state, src, pg.next_token, pg.limit,
                        &items, &n, &next, errstr, sizeof errstr);
    if (err) {
        fail(call, err, errstr);
        return;
    }
    evb__jw_t w;
    evb__jw_list_begin(&w, call, "Replays");
    for (size_t i = 0; i < n; i++) {
        const evb_replay_info_t *r = &items[i];
        evb__jw_open(&w, NULL, '{');
        evb__jw_str(&w, "ReplayName", r->name);
        evb__jw_str(&w, "EventSourceArn", r->archive_arn);
        evb__jw_str(&w, "State", r->state);
        evb__jw_str(&w, "StateReason", r->state_reason);
        evb__jw_time(&w, "EventStartTime", r->start_ms);
        evb__jw_time(&w, "EventEndTime", r->end_ms);
        evb__jw_time(&w, "EventLastReplayedTime", r->last_replayed_ms);
        evb__jw_time(&w, "ReplayStartTime", r->replay_start_ms);
        evb__jw_time(&w, "ReplayEndTime", r->replay_end_ms);
        evb__jw_close(&w, '}');
        evb_replay_info_free(&items[i]);
    }
    evb__jw_list_end(call, &w, next);
    free(items);
    free(next);
}

/* CancelReplay {ReplayName*} -> {ReplayArn, State, StateReason};
 * IllegalStatusException unless STARTING or RUNNING. */
static void cancel_replay(evb__api_call_t *call) {
    const char *name =
        str(call, "ReplayName", "replayName", true, S_REPLAY_NAME);
    if (!evb__api_validated(call))
        return;
    evb_archive_service_t *svc = service(call);
    if (!svc)
        return;
    char errstr[ERRSTR_SIZE] = "";
    evb_replay_info_t r = {0};
    evb_err_t err = evb_replay_cancel(svc, name, &r, errstr, sizeof errstr);
    if (err == EVB_ERR_INVALID_ARG) {
        evb__api_fail(call, 400, "IllegalStatusException", "%s", errstr);
        return;
    }
    if (err) {
        fail(call, err, errstr);
        return;
    }
    evb__jw_t w;
    evb__jw_init(&w, call);
    evb__jw_open(&w, NULL, '{');
    evb__jw_str(&w, "ReplayArn", r.arn);
    evb__jw_str(&w, "State", r.state);
    evb__jw_str(&w, "StateReason", r.state_reason);
    evb__jw_close(&w, '}');
    evb__jw_done(call, &w);
    evb_replay_info_free(&r);
}

const evb__api_action_t evb__api_archive_actions[] = {
    {"CreateArchive", create_archive},   {"DescribeArchive", describe_archive},
    {"ListArchives", list_archives},     {"UpdateArchive", update_archive},
    {"DeleteArchive", delete_archive},   {"StartReplay", start_replay},
    {"DescribeReplay", describe_replay}, {"ListReplays", list_replays},
    {"CancelReplay", cancel_replay},
};
const size_t evb__api_archive_actions_count =
    EVB_ARRAY_LEN(evb__api_archive_actions);
