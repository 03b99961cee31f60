/*
 * schedule.c: ScheduleExpression parsing and next-firing arithmetic.
 *
 * A cron expression compiles into one bit set per field (minutes, hours,
 * day-of-month, month, day-of-week, year) plus the special day forms
 * (L, LW, nW, nL, n#k), which depend on the month and so are evaluated
 * day by day. evb_schedule_next walks the calendar coarse to fine: a year
 * not in the set skips to the next one, a month to the next month, a day
 * to the next day, then picks the first hour and minute; so a search never
 * costs more than a few thousand steps, even for a schedule that ends in
 * 2199. Calendar arithmetic is done here on proleptic Gregorian day
 * numbers (Hinnant's algorithms), not with timegm/gmtime, so it is pure,
 * reentrant and independent of the process's time zone.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "schedule.h"

#define YEAR_MIN 1970
#define YEAR_MAX 2199
#define MINUTE_MS INT64_C(60000)

enum dom_mode { DOM_ANY, DOM_SET, DOM_LAST, DOM_LAST_WEEKDAY, DOM_NEAREST };
enum dow_mode { DOW_ANY, DOW_SET, DOW_LAST, DOW_NTH };

/* 256 bits, indexed by value - field minimum */
typedef struct bits256 {
    uint64_t w[4];
} bits256_t;

struct evb_schedule {
    bool rate;
    int64_t interval_ms;
    bits256_t minutes, hours, dom, months, dow, years;
    enum dom_mode dom_mode;
    int dom_n; /* DOM_NEAREST: the day */
    enum dow_mode dow_mode;
    int dow_day; /* DOW_LAST / DOW_NTH: 1 = Sunday .. 7 = Saturday */
    int dow_nth; /* DOW_NTH: 1..5 */
};

static void bits_set(bits256_t *b, int i) {
    b->w[i >> 6] |= UINT64_C(1) << (i & 63);
}

static bool bits_has(const bits256_t *b, int i) {
    return (b->w[i >> 6] >> (i & 63)) & 1;
}

static bool bits_empty(const bits256_t *b) {
    return !(b->w[0] | b->w[1] | b->w[2] | b->w[3]);
}

/* ---- calendar ------------------------------------------------------------ */

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d) {
    y -= m <= 2;
    int64_t era = floor_div(y, 400);
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int *m, int *d) {
    z += 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static bool is_leap(int64_t y) {
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m) {
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* 1 = Sunday .. 7 = Saturday (1970-01-01 was a Thursday). */
static int weekday(int64_t y, int m, int d) {
    int64_t z = days_from_civil(y, m, d);
    return (int)((z + 4) % 7 + 7) % 7 + 1;
}

void evb_schedule_format_time(int64_t ms, char out[21]) {
    int64_t s = floor_div(ms, 1000);
    int64_t days = floor_div(s, 86400);
    int64_t sod = s - days * 86400;
    int64_t y;
    int m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) /* not a time a schedule produces */
        y = y < 0 ? 0 : 9999;
    /* digit by digit: every field is bounded, and no snprintf truncation
     * warning to argue with */
    int v[6] = {(int)y,         m, d, (int)(sod / 3600), (int)(sod / 60 % 60),
                (int)(sod % 60)};
    static const char seps[6] = {'-', '-', 'T', ':', ':', 'Z'};
    char *p = out;
    *p++ = (char)('0' + v[0] / 1000);
    *p++ = (char)('0' + v[0] / 100 % 10);
    *p++ = (char)('0' + v[0] / 10 % 10);
    *p++ = (char)('0' + v[0] % 10);
    *p++ = seps[0];
    for (int f = 1; f < 6; f++) {
        *p++ = (char)('0' + v[f] / 10);
        *p++ = (char)('0' + v[f] % 10);
        *p++ = seps[f];
    }
    *p = '\0';
}

/* ---- parsing ------------------------------------------------------------- */

typedef struct span {
    const char *p;
    size_t n;
} span_t;

static bool span_eq(span_t s, const char *lit) {
    return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

static char upper(char c) {
    return c >= 'a' && c <= 'z' ? c - 32 : c;
}

static bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

static const char *const MONTH_NAMES[] = {"JAN", "FEB", "MAR", "APR", "MAY",
                                          "JUN", "JUL", "AUG", "SEP", "OCT",
                                          "NOV", "DEC", NULL};
static const char *const DAY_NAMES[] = {"SUN", "MON", "TUE", "WED",
                                        "THU", "FRI", "SAT", NULL};

typedef struct field_spec {
    int min, max;
    const char *const *names; /* names[i] is min + i; NULL if none */
    bool wrap;                /* a-b with a > b wraps around */
} field_spec_t;

static const field_spec_t F_MINUTES = {0, 59, NULL, true};
static const field_spec_t F_HOURS = {0, 23, NULL, true};
static const field_spec_t F_DOM = {1, 31, NULL, true};
static const field_spec_t F_MONTHS = {1, 12, MONTH_NAMES, true};
static const field_spec_t F_DOW = {1, 7, DAY_NAMES, true};
static const field_spec_t F_YEARS = {YEAR_MIN, YEAR_MAX, NULL, false};

/* A decimal of 1-4 digits at *s (advancing it); -1 if none. */
static int take_number(span_t *s) {
    size_t i = 0;
    int v = 0;
    while (i < s->n && is_digit(s->p[i])) {
        if (i == 4)
            return -1;
        v = v * 10 + (s->p[i] - '0');
        i++;
    }
    if (i == 0)
        return -1;
    s->p += i;
    s->n -= i;
    return v;
}

/* A value of the field (number in range, or a name): -1 if none. */
static int take_value(span_t *s, const field_spec_t *f) {
    if (s->n && is_digit(s->p[0])) {
        int v = take_number(s);
        return v >= f->min && v <= f->max ? v : -1;
    }
    if (f->names && s->n >= 3) {
        for (int i = 0; f->names[i]; i++) {
            if (upper(s->p[0]) == f->names[i][0] &&
                upper(s->p[1]) == f->names[i][1] &&
                upper(s->p[2]) == f->names[i][2]) {
                s->p += 3;
                s->n -= 3;
                return f->min + i;
            }
        }
    }
    return -1;
}

static bool take_char(span_t *s, char c) {
    if (s->n && s->p[0] == c) {
        s->p++;
        s->n--;
        return true;
    }
    return false;
}

/* One list item: '*' ['/' n] | v ['-' v] ['/' n]. */
static bool parse_item(span_t s, const field_spec_t *f, bits256_t *out) {
    int size = f->max - f->min + 1;
    int lo, hi, step = 1;
    if (take_char(&s, '*')) {
        lo = f->min;
        hi = f->max;
    } else {
        if ((lo = take_value(&s, f)) < 0)
            return false;
        hi = lo;
        if (take_char(&s, '-')) {
            if ((hi = take_value(&s, f)) < 0)
                return false;
            if (hi < lo && !f->wrap)
                return false;
        } else if (s.n && s.p[0] == '/') {
            hi = f->max; /* "a/n": from a to the end of the field */
        }
    }
    if (take_char(&s, '/')) {
        int limit = f->min <= 1 ? f->max : size;
        if ((step = take_number(&s)) < 1 || step > limit)
            return false;
    }
    if (s.n)
        return false;
    int count = (hi - lo + size) % size + 1;
    for (int i = 0; i < count; i += step)
        bits_set(out, (lo - f->min + i) % size);
    return true;
}

/* A comma-separated list of items. */
static bool parse_list(span_t s, const field_spec_t *f, bits256_t *out) {
    memset(out, 0, sizeof *out);
    for (;;) {
        const char *comma = memchr(s.p, ',', s.n);
        size_t n = comma ? (size_t)(comma - s.p) : s.n;
        if (!parse_item((span_t){s.p, n}, f, out))
            return false;
        if (!comma)
            break;
        s.p += n + 1;
        s.n -= n + 1;
    }
    return !bits_empty(out);
}

static bool ends_with_upper(span_t s, char c) {
    return s.n && upper(s.p[s.n - 1]) == c;
}

static bool parse_dom(span_t s, evb_schedule_t *sc) {
    if (span_eq(s, "?")) {
        sc->dom_mode = DOM_ANY;
        return true;
    }
    if (s.n == 1 && upper(s.p[0]) == 'L') {
        sc->dom_mode = DOM_LAST;
        return true;
    }
    if (s.n == 2 && upper(s.p[0]) == 'L' && upper(s.p[1]) == 'W') {
        sc->dom_mode = DOM_LAST_WEEKDAY;
        return true;
    }
    if (ends_with_upper(s, 'W')) {
        span_t num = {s.p, s.n - 1};
        int v = take_number(&num);
        if (num.n || v < 1 || v > 31)
            return false;
        sc->dom_mode = DOM_NEAREST;
        sc->dom_n = v;
        return true;
    }
    sc->dom_mode = DOM_SET;
    return parse_list(s, &F_DOM, &sc->dom);
}

static bool parse_dow(span_t s, evb_schedule_t *sc) {
    if (span_eq(s, "?")) {
        sc->dow_mode = DOW_ANY;
        return true;
    }
    sc->dow_mode = DOW_SET;
    memset(&sc->dow, 0, sizeof sc->dow);
    if (s.n == 1 && upper(s.p[0]) == 'L') { /* Quartz: L alone = Saturday */
        bits_set(&sc->dow, 7 - F_DOW.min);
        return true;
    }
    if (ends_with_upper(s, 'L')) {
        span_t v = {s.p, s.n - 1};
        int day = take_value(&v, &F_DOW);
        if (day < 0 || v.n)
            return false;
        sc->dow_mode = DOW_LAST;
        sc->dow_day = day;
        return true;
    }
    if (memchr(s.p, '#', s.n)) {
        span_t v = s;
        int day = take_value(&v, &F_DOW);
        if (day < 0 || !take_char(&v, '#'))
            return false;
        int nth = take_number(&v);
        if (v.n || nth < 1 || nth > 5)
            return false;
        sc->dow_mode = DOW_NTH;
        sc->dow_day = day;
        sc->dow_nth = nth;
        return true;
    }
    return parse_list(s, &F_DOW, &sc->dow);
}

static bool parse_rate(span_t body, evb_schedule_t *sc) {
    const char *sp = memchr(body.p, ' ', body.n);
    if (!sp || sp == body.p)
        return false;
    size_t vn = (size_t)(sp - body.p);
    int64_t v = 0;
    for (size_t i = 0; i < vn; i++) {
        if (!is_digit(body.p[i]))
            return false;
        v = v * 10 + (body.p[i] - '0');
        if (v > INT32_MAX)
            return false;
    }
    if (v < 1)
        return false;
    span_t unit = {sp + 1, body.n - vn - 1};
    static const struct {
        const char *one, *many;
        int64_t ms;
    } units[] = {{"minute", "minutes", MINUTE_MS},
                 {"hour", "hours", 60 * MINUTE_MS},
                 {"day", "days", 1440 * MINUTE_MS}};
    for (size_t i = 0; i < EVB_ARRAY_LEN(units); i++) {
        if (span_eq(unit, v == 1 ? units[i].one : units[i].many)) {
            sc->rate = true;
            sc->interval_ms = v * units[i].ms;
            return true;
        }
    }
    return false;
}

static bool parse_cron(span_t body, evb_schedule_t *sc) {
    span_t f[6];
    size_t nf = 0, i = 0;
    if (!body.n || body.p[0] == ' ' || body.p[body.n - 1] == ' ')
        return false;
    while (i < body.n) {
        size_t start = i;
        while (i < body.n && body.p[i] != ' ')
            i++;
        if (nf == 6)
            return false;
        f[nf++] = (span_t){body.p + start, i - start};
        while (i < body.n && body.p[i] == ' ')
            i++;
    }
    if (nf != 6)
        return false;
    if (!parse_list(f[0], &F_MINUTES, &sc->minutes) ||
        !parse_list(f[1], &F_HOURS, &sc->hours) || !parse_dom(f[2], sc) ||
        !parse_list(f[3], &F_MONTHS, &sc->months) || !parse_dow(f[4], sc) ||
        !parse_list(f[5], &F_YEARS, &sc->years))
        return false;
    /* exactly one of day-of-month and day-of-week is '?' */
    return (sc->dom_mode == DOM_ANY) != (sc->dow_mode == DOW_ANY);
}

evb_err_t evb_schedule_parse(const char *expr, size_t len, evb_schedule_t **out,
                             char *errstr, size_t errstr_size) {
    *out = NULL;
    if (!expr || len < 6 || expr[len - 1] != ')' || memchr(expr, '\0', len))
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size, "%s",
                           EVB_SCHEDULE_INVALID_MSG);
    /* control characters (tabs, newlines) are never part of the grammar */
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)expr[i] < 0x20 || expr[i] == 0x7f)
            return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size, "%s",
                               EVB_SCHEDULE_INVALID_MSG);
    evb_schedule_t *sc = calloc(1, sizeof *sc);
    if (!sc)
        return evb_err_set(EVB_ERR_NOMEM, errstr, errstr_size, "out of memory");
    span_t body = {expr + 5, len - 6};
    bool ok = false;
    if (memcmp(expr, "rate(", 5) == 0)
        ok = parse_rate(body, sc);
    else if (memcmp(expr, "cron(", 5) == 0)
        ok = parse_cron(body, sc);
    if (!ok) {
        free(sc);
        return evb_err_set(EVB_ERR_INVALID_ARG, errstr, errstr_size, "%s",
                           EVB_SCHEDULE_INVALID_MSG);
    }
    *out = sc;
    return EVB_ERR_OK;
}

evb_err_t evb_schedule_validate(const char *expr, size_t len, char *errstr,
                                size_t errstr_size) {
    evb_schedule_t *s;
    evb_err_t err = evb_schedule_parse(expr, len, &s, errstr, errstr_size);
    evb_schedule_free(s);
    return err;
}

void evb_schedule_free(evb_schedule_t *s) {
    free(s);
}

bool evb_schedule_is_rate(const evb_schedule_t *s) {
    return s->rate;
}

/* ---- next firing -----------------------------------------------------------
 */

static int64_t rate_next(const evb_schedule_t *s, int64_t after_ms,
                         int64_t created_ms) {
    int64_t base = floor_div(created_ms, MINUTE_MS) * MINUTE_MS;
    int64_t k = 1;
    if (after_ms >= base + s->interval_ms)
        k = floor_div(after_ms - base, s->interval_ms) + 1;
    int64_t off, r;
    if (__builtin_mul_overflow(k, s->interval_ms, &off) ||
        __builtin_add_overflow(base, off, &r))
        return -1;
    return r;
}

static bool day_matches(const evb_schedule_t *s, int64_t y, int m, int d) {
    int dim = days_in_month(y, m);
    switch (s->dom_mode) {
    case DOM_ANY: break;
    case DOM_SET: return bits_has(&s->dom, d - 1);
    case DOM_LAST: return d == dim;
    case DOM_LAST_WEEKDAY: {
        int wd = weekday(y, m, dim);
        int last = wd == 7 ? dim - 1 : wd == 1 ? dim - 2 : dim;
        return d == last;
    }
    case DOM_NEAREST: {
        int n = s->dom_n;
        if (n > dim)
            return false;
        int wd = weekday(y, m, n), target = n;
        if (wd == 7)
            target = n == 1 ? 3 : n - 1;
        else if (wd == 1)
            target = n == dim ? n - 2 : n + 1;
        return d == target;
    }
    }
    int wd = weekday(y, m, d);
    switch (s->dow_mode) {
    case DOW_SET: return bits_has(&s->dow, wd - 1);
    case DOW_LAST: return wd == s->dow_day && d + 7 > dim;
    case DOW_NTH: return wd == s->dow_day && (d - 1) / 7 + 1 == s->dow_nth;
    case DOW_ANY: break;
    }
    return true; /* both '?' cannot parse */
}

/* First set index >= from in [from, n), or -1. */
static int bits_next(const bits256_t *b, int from, int n) {
    for (int i = from; i < n; i++)
        if (bits_has(b, i))
            return i;
    return -1;
}

static int64_t cron_next(const evb_schedule_t *s, int64_t after_ms) {
    int64_t t = floor_div(after_ms, MINUTE_MS) + 1; /* minutes since epoch */
    int64_t days = floor_div(t, 1440);
    int mod = (int)(t - days * 1440);
    int64_t y;
    int m, d, hh = mod / 60, mm = mod % 60;
    civil_from_days(days, &y, &m, &d);
    if (y < YEAR_MIN) {
        y = YEAR_MIN;
        m = d = 1;
        hh = mm = 0;
    }
    for (;;) {
        if (y > YEAR_MAX)
            return -1;
        if (!bits_has(&s->years, (int)(y - YEAR_MIN))) {
            int ny = bits_next(&s->years, (int)(y - YEAR_MIN) + 1,
                               YEAR_MAX - YEAR_MIN + 1);
            if (ny < 0)
                return -1;
            y = YEAR_MIN + ny;
            m = d = 1;
            hh = mm = 0;
            continue;
        }
        if (!bits_has(&s->months, m - 1)) {
            if (++m > 12) {
                m = 1;
                y++;
            }
            d = 1;
            hh = mm = 0;
            continue;
        }
        if (!day_matches(s, y, m, d)) {
            goto next_day;
        }
        int h = bits_next(&s->hours, hh, 24);
        if (h < 0)
            goto next_day;
        if (h != hh)
            mm = 0;
        hh = h;
        int mi = bits_next(&s->minutes, mm, 60);
        if (mi < 0) {
            if (++hh == 24)
                goto next_day;
            mm = 0;
            continue;
        }
        return ((days_from_civil(y, m, d) * 1440) + hh * 60 + mi) * MINUTE_MS;
    next_day:
        hh = mm = 0;
        if (++d > days_in_month(y, m)) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
    }
}

int64_t evb_schedule_next(const evb_schedule_t *s, int64_t after_ms,
                          int64_t created_ms) {
    /* keep the arithmetic far from int64 overflow: past 2199 either way */
    if (after_ms > INT64_MAX / 4)
        return -1;
    if (after_ms < INT64_MIN / 4)
        after_ms = INT64_MIN / 4;
    return s->rate ? rate_next(s, after_ms, created_ms)
                   : cron_next(s, after_ms);
}
