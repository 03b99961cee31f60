/*
 * logs.c: log events for CloudWatch Logs targets (reference §3.4).
 *
 * EventBridge gives a log group target a log event, not a message body:
 * without an InputTransformer the payload is the message and the event's
 * time the timestamp; with one, the template must be
 * {"timestamp":<timestamp>,"message":<message>} and the rendered object
 * supplies both (the message must be a string, as AWS's CDK states; the
 * timestamp defaults to the event's time, as the CDK does). AWS refuses a
 * log group target whose template is not JSON at PutTargets with "Input
 * for target <id> is not a valid JSON text.", observed in
 * awsdocs/aws-cloudformation-user-guide#1010.
 *
 * Design: the message is rendered with the same code as apply, so the
 * quoting rules are the same; only the final shape check differs.
 */
#include <string.h>

#include "transform_internal.h"

/* ---- ISO 8601 ------------------------------------------------------------ */

static bool digits(const char *s, size_t n, int *out) {
    int v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m) {
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
        return 29;
    return dim[m - 1];
}

bool evb_transform_parse_time(const char *s, size_t len, int64_t *ms) {
    int y, mo, d, h, mi, sec;
    if (len < 19 || s[4] != '-' || s[7] != '-' ||
        (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
        return false;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
        !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) ||
        !digits(s + 17, 2, &sec))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 ||
        mi > 59 || sec > 60)
        return false;
    size_t i = 19;
    int frac_ms = 0;
    if (i < len && s[i] == '.') {
        size_t start = ++i;
        int scale = 100;
        while (i < len && s[i] >= '0' && s[i] <= '9') {
            frac_ms += (s[i] - '0') * scale;
            scale /= 10;
            i++;
        }
        if (i == start)
            return false;
    }
    int64_t offset_min = 0;
    if (i < len && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i < len && (s[i] == '+' || s[i] == '-')) {
        int sign = s[i] == '-' ? -1 : 1, oh, om;
        i++;
        if (len - i < 4 || !digits(s + i, 2, &oh))
            return false;
        i += 2;
        if (s[i] == ':')
            i++;
        if (len - i < 2 || !digits(s + i, 2, &om) || oh > 23 || om > 59)
            return false;
        i += 2;
        offset_min = sign * (oh * 60 + om);
    }
    if (i != len)
        return false;
    int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 +
                   sec - offset_min * 60;
    *ms = secs * 1000 + frac_ms;
    return true;
}

/* ---- log events ---------------------------------------------------------- */

static evb_err_t undeliverable(char *errstr, size_t errstr_size,
                               const char *target_id, const char *why) {
    return evb_err_set(EVB_TRANSFORM_ERR_UNDELIVERABLE, errstr, errstr_size,
                       "log event for target %s: %s; the event is not "
                       "delivered",
                       target_id, why);
}

/* The event's time, else the ingestion time. */
static evb_err_t event_time(const evb_transform_t *t, evb_arena_t *a,
                            const char *event, size_t len,
                            const evb_transform_vars_t *vars,
                            const evb_jval_t **root, int64_t *ms, char *errstr,
                            size_t errstr_size) {
    if (!*root) {
        evb_err_t err =
            evb__parse_event(a, event, len, root, errstr, errstr_size);
        if (err)
            return err;
    }
    const evb_jval_t *tv = evb__json_member(*root, "time", 4);
    if (tv && tv->type == EVB_JSON_STRING &&
        evb_transform_parse_time(tv->u.str.s, tv->u.str.len, ms))
        return EVB_ERR_OK;
    if (vars && vars->ingestion_time &&
        evb_transform_parse_time(vars->ingestion_time,
                                 strlen(vars->ingestion_time), ms))
        return EVB_ERR_OK;
    return undeliverable(errstr, errstr_size, t->target_id,
                         "the event has no time");
}

/* An integer of milliseconds, as JSON number text. */
static bool epoch_ms(const char *s, size_t len, int64_t *ms) {
    size_t i = 0;
    bool neg = len > 0 && s[0] == '-';
    if (neg)
        i++;
    if (i == len)
        return false;
    int64_t v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        if (v > (INT64_MAX - (s[i] - '0')) / 10)
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *ms = neg ? -v : v;
    return true;
}

static evb_err_t from_template(const evb_transform_t *t, evb_arena_t *a,
                               const char *event, size_t len,
                               const evb_transform_vars_t *vars,
                               evb_buf_t *message, int64_t *ms, char *errstr,
                               size_t errstr_size) {
    if (!t->json_template)
        return undeliverable(errstr, errstr_size, t->target_id,
                             "the InputTemplate is not a JSON object");
    const evb_jval_t *root = NULL;
    evb_buf_t body;
    evb_buf_init(&body, message->max);
    evb_err_t err = evb__render_template(t, a, event, len, vars, &root, &body,
                                         errstr, errstr_size);
    evb_jval_t *obj = NULL;
    if (!err) {
        char why[200] = "";
        err =
            evb_json_parse(a, body.data, body.len,
                           EVB_TRANSFORM_MAX_DEPTH + EVB_TRANSFORM_MAX_TEMPLATE,
                           &obj, why, sizeof why);
        if (err == EVB_ERR_NOMEM)
            evb_err_set(err, errstr, errstr_size, "out of memory");
        else if (err)
            err = undeliverable(errstr, errstr_size, t->target_id,
                                "the rendered InputTemplate is not valid JSON");
    }
    evb_buf_free(&body);
    if (err)
        return err;
    const evb_jval_t *msg = evb__json_member(obj, "message", 7);
    if (!msg || msg->type != EVB_JSON_STRING)
        return undeliverable(errstr, errstr_size, t->target_id,
                             "\"message\" must be a string");
    const evb_jval_t *ts = evb__json_member(obj, "timestamp", 9);
    if (!ts || ts->type == EVB_JSON_NULL) {
        err =
            event_time(t, a, event, len, vars, &root, ms, errstr, errstr_size);
        if (err)
            return err;
    } else if (!(ts->type == EVB_JSON_NUMBER &&
                 epoch_ms(ts->u.str.s, ts->u.str.len, ms)) &&
               !(ts->type == EVB_JSON_STRING &&
                 evb_transform_parse_time(ts->u.str.s, ts->u.str.len, ms))) {
        return undeliverable(errstr, errstr_size, t->target_id,
                             "\"timestamp\" must be epoch milliseconds or an "
                             "ISO-8601 time");
    }
    err = evb_buf_append(message, msg->u.str.s, msg->u.str.len);
    if (err)
        return evb_err_set(err, errstr, errstr_size, "%s",
                           err == EVB_ERR_TOO_LARGE
                               ? "the payload exceeds the output limit"
                               : "out of memory");
    return EVB_ERR_OK;
}

evb_err_t evb_transform_log_message(const evb_transform_t *t,
                                    const char *event_text, size_t event_len,
                                    const evb_transform_vars_t *vars,
                                    evb_buf_t *message, int64_t *timestamp_ms,
                                    char *errstr, size_t errstr_size) {
    evb_arena_t a;
    evb_arena_init(&a, 0);
    size_t start = message->len;
    int64_t ms = 0;
    evb_err_t err;
    if (t->kind == EVB_TRANSFORM_TRANSFORMER) {
        err = from_template(t, &a, event_text, event_len, vars, message, &ms,
                            errstr, errstr_size);
    } else {
        const evb_jval_t *root = NULL;
        err = event_time(t, &a, event_text, event_len, vars, &root, &ms, errstr,
                         errstr_size);
        if (!err)
            err = evb_transform_apply(t, event_text, event_len, vars, message,
                                      errstr, errstr_size);
    }
    evb_arena_free(&a);
    if (err) {
        if (message->data) {
            message->len = start;
            message->data[start] = '\0';
        }
        return err;
    }
    *timestamp_ms = ms;
    return EVB_ERR_OK;
}

evb_err_t evb_transform_check_log_target(const evb_transform_t *t, char *errstr,
                                         size_t errstr_size) {
    if (t->kind == EVB_TRANSFORM_TRANSFORMER && !t->json_template)
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size,
                           "Input for target %s is not a valid JSON text.",
                           t->target_id);
    return EVB_ERR_OK;
}
