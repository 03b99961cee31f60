/*
 * putevents.c: PutEvents load generator for `evbus serve`.
 *
 * It starts a server of its own (--evbus PATH, a fresh data dir, a free
 * loopback port) unless --endpoint names a running one, creates a bus with
 * 100 rules of which about 10% of events match one that targets a log
 * group, then drives N keep-alive connections, each sending PutEvents
 * requests of 10 entries of about 1 KB. With --rate the load is paced
 * (open loop, so latency includes queueing); without it each connection
 * sends as fast as answers come back. It prints one JSON line:
 *
 *   {"bench":"putevents","connections":8,"rate":20000,"seconds":10,
 *    "events":..., "events_per_s":..., "p50_ms":..., "p99_ms":...,
 *    "p999_ms":..., "errors":0}
 *
 * Every request's HTTP status and FailedEntryCount are checked: an event
 * counts only when the server acknowledged it.
 *
 * --auth measures the cost of SigV4 authentication: the server it starts
 * gets `--credentials` (a file with one generated key) and every request
 * is signed the way an SDK signs it: X-Amz-Date, and an Authorization
 * header over content-type, host, x-amz-date and x-amz-target and the
 * body's SHA-256. The client keeps its signing key for the day (as SDKs
 * do) and each connection cycles through a pool of 64 prebuilt bodies
 * whose hashes are computed once, so the client's own hashing does not
 * compete for the cores with the server it measures; the pool is used
 * without --auth too, so the two runs differ only by authentication.
 * With --endpoint, --key ID:SECRET signs for a server started elsewhere.
 *
 * --compare PAIRS is the measurement the authentication cost is judged
 * by: PAIRS pairs of runs, one without and one with --auth, each on a
 * fresh server, the order alternating between pairs; after their lines
 * comes one summary line with the medians of both sides:
 *
 *   {"bench":"putevents-auth","pairs":5,...,
 *    "median_events_per_s_off":..,"median_events_per_s_on":..,
 *    "throughput_loss_pct":..,"median_cpu_us_per_event_off":..,
 *    "median_cpu_us_per_event_on":..,"cpu_cost_pct":..}
 *
 * Single runs on a 2-core machine whose fsync times wander differ by 20%
 * or more from one another whatever the setting, so one run of each says
 * little; medians of alternating pairs do. --data-parent DIR puts the
 * servers' data dirs in DIR (default /tmp): on a tmpfs such as /dev/shm
 * fsync returns at once, which takes the disk's wandering out of the
 * comparison and leaves the CPU each request costs, authentication
 * included.
 *
 * For a server it started, the line also has the CPU time the server used
 * during the load (server_cpu_s, from /proc) and per acknowledged event:
 * a figure the other processes on a shared machine disturb far less than
 * events_per_s.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sigv4/sigv4.h"

static char host[64] = "127.0.0.1";
static int port;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int connect_to(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, host, &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

/* ---- SigV4 (--auth, --key) ---------------------------------------------- */

static bool auth_on;
static char key_id[64], key_secret[128];

/* The X-Amz-Date and Authorization header lines for one call ("" without
 * authentication). payload_hash may be NULL (computed). The signing key
 * is derived once a day per thread. */
static bool sign_call(const char *action, const char *json, size_t len,
                      const char *payload_hash, char *out, size_t size) {
    out[0] = '\0';
    if (!auth_on)
        return true;
    static __thread char day[9];
    static __thread uint8_t day_key[32];
    char hash[65], date[17], hostv[96], target[96];
    if (!payload_hash) {
        evb_sigv4_sha256_hex(json, len, hash);
        payload_hash = hash;
    }
    time_t now = time(NULL);
    evb_sigv4_format_date(now, date);
    if (memcmp(day, date, 8) != 0) {
        char d8[9];
        memcpy(d8, date, 8);
        d8[8] = '\0';
        evb_sigv4_signing_key(key_secret, d8, "us-east-1", "events", day_key);
        memcpy(day, d8, 9);
    }
    snprintf(hostv, sizeof hostv, "%s:%d", host, port);
    snprintf(target, sizeof target, "AWSEvents.%s", action);
    evb_sigv4_header_t hs[] = {
        {"Host", 4, hostv, strlen(hostv)},
        {"X-Amz-Target", 12, target, strlen(target)},
        {"Content-Type", 12, "application/x-amz-json-1.1", 26},
        {"X-Amz-Date", 10, date, 16},
    };
    evb_sigv4_request_t r = {"POST", "/", 1, NULL, 0, hs, 4, json, len};
    evb_sigv4_credentials_t creds = {key_id, key_secret, NULL};
    evb_sigv4_sign_opts_t o = {.region = "us-east-1",
                               .service = "events",
                               .when = now,
                               .payload_hash = payload_hash,
                               .signing_key = day_key};
    evb_sigv4_signed_t sg;
    char why[128];
    bool ok = evb_sigv4_sign(&r, &creds, &o, &sg, why, sizeof why) == 0;
    if (ok) {
        int n = snprintf(out, size, "X-Amz-Date: %s\r\nAuthorization: %s\r\n",
                         date, sg.authorization);
        ok = n > 0 && (size_t)n < size;
    }
    evb_sigv4_signed_free(&sg);
    return ok;
}

/* Send one AWSEvents call on fd and read the response into body (NUL-
 * terminated). Returns the HTTP status, or -1 on a transport error.
 * payload_hash: the body's SHA-256 if known (for signing), else NULL. */
static int call_hashed(int fd, const char *action, const char *json,
                       size_t len, const char *payload_hash, char *body,
                       size_t body_size) {
    char head[1024], auth[512];
    if (!sign_call(action, json, len, payload_hash, auth, sizeof auth))
        return -1;
    int hl = snprintf(head, sizeof head,
                      "POST / HTTP/1.1\r\nHost: %s:%d\r\n"
                      "X-Amz-Target: AWSEvents.%s\r\n"
                      "Content-Type: application/x-amz-json-1.1\r\n"
                      "%s"
                      "Content-Length: %zu\r\n\r\n",
                      host, port, action, auth, len);
    if (hl < 0 || (size_t)hl >= sizeof head)
        return -1;
    if (write(fd, head, (size_t)hl) != hl)
        return -1;
    size_t off = 0;
    while (off < len) {
        ssize_t w = write(fd, json + off, len - off);
        if (w <= 0)
            return -1;
        off += (size_t)w;
    }
    /* read headers, then Content-Length bytes */
    static __thread char buf[65536];
    size_t got = 0;
    char *end = NULL;
    while (!end) {
        ssize_t r = read(fd, buf + got, sizeof buf - 1 - got);
        if (r <= 0)
            return -1;
        got += (size_t)r;
        buf[got] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (!end && got >= sizeof buf - 1)
            return -1;
    }
    int status = 0;
    sscanf(buf, "HTTP/1.1 %d", &status);
    size_t clen = 0;
    const char *cl = strcasestr(buf, "\r\ncontent-length:");
    if (cl)
        clen = (size_t)strtoul(cl + 17, NULL, 10);
    size_t have = got - (size_t)(end + 4 - buf);
    if (clen + 1 > body_size)
        return -1;
    memcpy(body, end + 4, have < clen ? have : clen);
    while (have < clen) {
        ssize_t r = read(fd, body + have, clen - have);
        if (r <= 0)
            return -1;
        have += (size_t)r;
    }
    body[clen] = '\0';
    return status;
}

static int call(int fd, const char *action, const char *json, size_t len,
                char *body, size_t body_size) {
    return call_hashed(fd, action, json, len, NULL, body, body_size);
}

static char bus_name[64] = "bench";

static int setup_rules(void) {
    int fd = connect_to();
    if (fd < 0)
        return -1;
    char body[8192], req[1024];
    int n = snprintf(req, sizeof req, "{\"Name\":\"%s\"}", bus_name);
    int st = call(fd, "CreateEventBus", req, (size_t)n, body, sizeof body);
    if (st != 200 && !strstr(body, "already exists")) {
        fprintf(stderr, "CreateEventBus: %d %s\n", st, body);
        close(fd);
        return -1;
    }
    /* 100 rules on detail.bucket (0..999); events pick a bucket uniformly,
     * so rules 0..9 (buckets 0..99) see ~10% of events; each has a log
     * group target. The other 90 rules match buckets never used. */
    for (int i = 0; i < 100; i++) {
        int lo = i < 10 ? i * 10 : 1000 + i;
        n = snprintf(req, sizeof req,
                     "{\"Name\":\"r%d\",\"EventBusName\":\"%s\","
                     "\"EventPattern\":\"{\\\"source\\\":[\\\"bench\\\"],"
                     "\\\"detail\\\":{\\\"bucket\\\":[{\\\"numeric\\\":"
                     "[\\\">=\\\",%d,\\\"<\\\",%d]}]}}\"}",
                     i, bus_name, lo, lo + 10);
        st = call(fd, "PutRule", req, (size_t)n, body, sizeof body);
        if (st != 200) {
            fprintf(stderr, "PutRule: %d %s\n", st, body);
            close(fd);
            return -1;
        }
        if (i < 10) {
            n = snprintf(req, sizeof req,
                         "{\"Rule\":\"r%d\",\"EventBusName\":\"%s\","
                         "\"Targets\":[{\"Id\":\"log\",\"Arn\":\"arn:aws:"
                         "logs:us-east-1:000000000000:log-group:/bench/"
                         "matched\"}]}",
                         i, bus_name);
            st = call(fd, "PutTargets", req, (size_t)n, body, sizeof body);
            if (st != 200) {
                fprintf(stderr, "PutTargets: %d %s\n", st, body);
                close(fd);
                return -1;
            }
        }
    }
    close(fd);
    return 0;
}

/* ---- load ---------------------------------------------------------------- */

static double duration = 10, rate;
static int nconn = 8;
static atomic_int stop_flag;
static atomic_long total_events, total_errors;

typedef struct lat {
    double *v;
    size_t n, cap;
} lat_t;

typedef struct worker {
    int id;
    lat_t lat;
} worker_t;

static size_t build_request(char *out, size_t size, unsigned *seed) {
    size_t o = (size_t)snprintf(out, size, "{\"Entries\":[");
    for (int i = 0; i < 10; i++) {
        int bucket = (int)(rand_r(seed) % 1000);
        char pad[900];
        memset(pad, 'x', sizeof pad - 1);
        pad[sizeof pad - 1] = '\0';
        o += (size_t)snprintf(out + o, size - o,
                              "%s{\"Source\":\"bench\",\"DetailType\":"
                              "\"load\",\"EventBusName\":\"%s\",\"Detail\":"
                              "\"{\\\"bucket\\\":%d,\\\"pad\\\":\\\"%s\\\"}"
                              "\"}",
                              i ? "," : "", bus_name, bucket, pad);
    }
    o += (size_t)snprintf(out + o, size - o, "]}");
    return o;
}

#define BODY_POOL 64 /* prebuilt bodies per connection */

static void *run_worker(void *arg) {
    worker_t *w = arg;
    int fd = connect_to();
    if (fd < 0) {
        atomic_fetch_add(&total_errors, 1);
        return NULL;
    }
    unsigned seed = (unsigned)w->id * 7919u + 1;
    static __thread char body[65536];
    /* the bodies and their hashes, made before the clock starts mattering */
    char *pool = malloc((size_t)BODY_POOL * 16384);
    size_t plen[BODY_POOL];
    char phash[BODY_POOL][65];
    if (!pool) {
        close(fd);
        atomic_fetch_add(&total_errors, 1);
        return NULL;
    }
    for (int i = 0; i < BODY_POOL; i++) {
        plen[i] = build_request(pool + (size_t)i * 16384, 16384, &seed);
        evb_sigv4_sha256_hex(pool + (size_t)i * 16384, plen[i], phash[i]);
    }
    unsigned k = 0;
    double per_conn = rate > 0 ? rate / 10.0 / nconn : 0; /* requests/s */
    double start = now_s(), next = start;
    while (!atomic_load(&stop_flag)) {
        if (per_conn > 0) {
            double t = now_s();
            if (t < next) {
                struct timespec ts = {0, (long)((next - t) * 1e9)};
                nanosleep(&ts, NULL);
            }
        }
        k = (k + 1) % BODY_POOL;
        const char *req = pool + (size_t)k * 16384;
        double t0 = per_conn > 0 ? next : now_s();
        int st = call_hashed(fd, "PutEvents", req, plen[k], phash[k], body,
                             sizeof body);
        double t1 = now_s();
        if (per_conn > 0)
            next += 1.0 / per_conn;
        if (st != 200 || !strstr(body, "\"FailedEntryCount\":0")) {
            atomic_fetch_add(&total_errors, 1);
            if (st < 0) {
                close(fd);
                fd = connect_to();
                if (fd < 0)
                    break;
            }
            continue;
        }
        atomic_fetch_add(&total_events, 10);
        if (w->lat.n == w->lat.cap) {
            size_t cap = w->lat.cap ? w->lat.cap * 2 : 4096;
            double *nv = realloc(w->lat.v, cap * sizeof *nv);
            if (!nv)
                break;
            w->lat.v = nv;
            w->lat.cap = cap;
        }
        w->lat.v[w->lat.n++] = (t1 - t0) * 1000.0;
    }
    if (fd >= 0)
        close(fd);
    free(pool);
    return NULL;
}

/* CPU seconds (user + system) the process pid has used so far, from
 * /proc; -1 when unknown. */
static double proc_cpu_s(pid_t pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    unsigned long ut, st;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
                     &ut, &st) != 2)
        return -1;
    long hz = sysconf(_SC_CLK_TCK);
    return hz > 0 ? (double)(ut + st) / (double)hz : -1;
}

static int dbl_cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static pid_t spawn_server(const char *evbus, char *datadir,
                          const char *credentials) {
    /* pick a free port by binding to 0 */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    socklen_t al = sizeof a;
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) ||
        getsockname(s, (struct sockaddr *)&a, &al))
        return -1;
    port = ntohs(a.sin_port);
    close(s);
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    pid_t pid = fork();
    if (pid == 0) {
        if (credentials)
            execl(evbus, evbus, "serve", "--listen", listen, "--data-dir",
                  datadir, "--credentials", credentials, (char *)NULL);
        else
            execl(evbus, evbus, "serve", "--listen", listen, "--data-dir",
                  datadir, (char *)NULL);
        _exit(127);
    }
    /* wait until it answers */
    for (int i = 0; i < 100; i++) {
        int fd = connect_to();
        if (fd >= 0) {
            close(fd);
            return pid;
        }
        usleep(50000);
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    return -1;
}

/* where the servers' data dirs are made (--data-parent) */
static const char *data_parent = "/tmp";

typedef struct result {
    double events_per_s, cpu_us_per_event;
} result_t;

/* One measured run: a server of its own (unless --endpoint), the rules,
 * the load; prints its line. 0 on success. */
static int run_once(const char *evbus, const char *endpoint, result_t *res) {
    atomic_store(&stop_flag, 0);
    atomic_store(&total_events, 0);
    atomic_store(&total_errors, 0);
    pid_t server = 0;
    char datadir[PATH_MAX];
    snprintf(datadir, sizeof datadir, "%s/evb-putevents-XXXXXX", data_parent);
    if (!endpoint) {
        if (!mkdtemp(datadir))
            return 1;
        char credentials[PATH_MAX + 32];
        if (auth_on) {
            /* one generated key, in a file the server reads */
            if (!key_id[0]) {
                snprintf(key_id, sizeof key_id, "AKIDBENCH%d", (int)getpid());
                snprintf(key_secret, sizeof key_secret,
                         "bench/secret+%d-%ld", (int)getpid(),
                         (long)time(NULL));
            }
            snprintf(credentials, sizeof credentials, "%s/credentials.ini",
                     datadir);
            FILE *f = fopen(credentials, "w");
            if (!f)
                return 1;
            fprintf(f, "[bench]\naws_access_key_id = %s\n"
                       "aws_secret_access_key = %s\n",
                    key_id, key_secret);
            fclose(f);
        }
        server = spawn_server(evbus, datadir, auth_on ? credentials : NULL);
        if (server < 0) {
            fprintf(stderr, "putevents: could not start %s\n", evbus);
            return 1;
        }
    }
    int rc = 0;
    if (setup_rules()) {
        rc = 1;
        goto out;
    }
    worker_t *w = calloc((size_t)nconn, sizeof *w);
    pthread_t *th = calloc((size_t)nconn, sizeof *th);
    if (!w || !th) {
        free(w);
        free(th);
        rc = 1;
        goto out;
    }
    double cpu0 = server > 0 ? proc_cpu_s(server) : -1;
    double t0 = now_s();
    for (int i = 0; i < nconn; i++) {
        w[i].id = i;
        pthread_create(&th[i], NULL, run_worker, &w[i]);
    }
    while (now_s() - t0 < duration)
        usleep(20000);
    atomic_store(&stop_flag, 1);
    for (int i = 0; i < nconn; i++)
        pthread_join(th[i], NULL);
    double secs = now_s() - t0;
    double cpu1 = server > 0 ? proc_cpu_s(server) : -1;
    size_t n = 0;
    for (int i = 0; i < nconn; i++)
        n += w[i].lat.n;
    double *all = malloc((n ? n : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < nconn; i++) {
        if (all)
            memcpy(all + k, w[i].lat.v, w[i].lat.n * sizeof *all);
        k += w[i].lat.n;
        free(w[i].lat.v);
    }
    if (!all)
        n = 0;
    else
        qsort(all, n, sizeof *all, dbl_cmp);
    double p50 = n ? all[n / 2] : 0, p99 = n ? all[(size_t)(n * 0.99)] : 0,
           p999 = n ? all[(size_t)(n * 0.999)] : 0;
    long events = atomic_load(&total_events);
    double cpu_us = cpu0 >= 0 && cpu1 >= 0 && events > 0
                        ? (cpu1 - cpu0) * 1e6 / (double)events
                        : -1.0;
    res->events_per_s = events / secs;
    res->cpu_us_per_event = cpu_us;
    printf("{\"bench\":\"putevents\",\"auth\":%s,\"connections\":%d,"
           "\"rate\":%.0f,"
           "\"seconds\":%.1f,\"events\":%ld,\"events_per_s\":%.0f,"
           "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,"
           "\"errors\":%ld,\"server_cpu_s\":%.2f,"
           "\"server_cpu_us_per_event\":%.2f}\n",
           auth_on ? "true" : "false", nconn, rate, secs, events,
           events / secs, p50, p99, p999,
           atomic_load(&total_errors),
           cpu0 >= 0 && cpu1 >= 0 ? cpu1 - cpu0 : -1.0, cpu_us);
    fflush(stdout);
    if (atomic_load(&total_errors))
        rc = 1;
    free(all);
    free(w);
    free(th);
out:
    if (server > 0) {
        kill(server, SIGTERM);
        waitpid(server, NULL, 0);
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", datadir);
        if (system(cmd) != 0)
            rc = 1;
    }
    return rc;
}

static double median(double *v, size_t n) {
    qsort(v, n, sizeof *v, dbl_cmp);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
    const char *evbus = "build/evbus", *endpoint = NULL;
    int compare = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--evbus") && i + 1 < argc)
            evbus = argv[++i];
        else if (!strcmp(argv[i], "--endpoint") && i + 1 < argc)
            endpoint = argv[++i];
        else if (!strcmp(argv[i], "--connections") && i + 1 < argc)
            nconn = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            duration = atof(argv[++i]);
        else if (!strcmp(argv[i], "--rate") && i + 1 < argc)
            rate = atof(argv[++i]);
        else if (!strcmp(argv[i], "--data-parent") && i + 1 < argc)
            data_parent = argv[++i];
        else if (!strcmp(argv[i], "--compare") && i + 1 < argc)
            compare = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--auth"))
            auth_on = true;
        else if (!strcmp(argv[i], "--key") && i + 1 < argc) {
            const char *k = argv[++i], *c = strchr(k, ':');
            if (!c || (size_t)(c - k) >= sizeof key_id ||
                strlen(c + 1) >= sizeof key_secret)
                return 64;
            memcpy(key_id, k, (size_t)(c - k));
            key_id[c - k] = '\0';
            snprintf(key_secret, sizeof key_secret, "%s", c + 1);
            auth_on = true;
        } else {
            fprintf(stderr,
                    "usage: putevents [--evbus PATH | --endpoint HOST:PORT] "
                    "[--connections N] [--seconds S] [--rate EVENTS_PER_S]\n"
                    "                 [--auth | --key ID:SECRET | "
                    "--compare PAIRS] [--data-parent DIR]\n");
            return 64;
        }
    }
    if (nconn < 1 || nconn > 256 || duration <= 0 || duration > 600 ||
        compare < 0 || compare > 50 || (compare && endpoint))
        return 64;
    if (endpoint && sscanf(endpoint, "%63[^:]:%d", host, &port) != 2)
        return 64;
    signal(SIGPIPE, SIG_IGN);
    if (!compare) {
        result_t r;
        return run_once(evbus, endpoint, &r);
    }
    /* --compare: PAIRS pairs of runs, without and with authentication,
     * the order alternating from pair to pair so that a drift of the
     * machine weighs on both sides alike; then the medians */
    double off[50], on[50], off_cpu[50], on_cpu[50];
    for (int p = 0; p < compare; p++)
        for (int j = 0; j < 2; j++) {
            bool a = (p % 2 == 0) ? j == 1 : j == 0;
            auth_on = a;
            result_t r;
            if (run_once(evbus, NULL, &r))
                return 1;
            (a ? on : off)[p] = r.events_per_s;
            (a ? on_cpu : off_cpu)[p] = r.cpu_us_per_event;
        }
    double m_off = median(off, (size_t)compare),
           m_on = median(on, (size_t)compare),
           c_off = median(off_cpu, (size_t)compare),
           c_on = median(on_cpu, (size_t)compare);
    printf("{\"bench\":\"putevents-auth\",\"pairs\":%d,\"seconds\":%.1f,"
           "\"connections\":%d,\"median_events_per_s_off\":%.0f,"
           "\"median_events_per_s_on\":%.0f,\"throughput_loss_pct\":%.1f,"
           "\"median_cpu_us_per_event_off\":%.2f,"
           "\"median_cpu_us_per_event_on\":%.2f,"
           "\"cpu_cost_pct\":%.1f}\n",
           compare, duration, nconn, m_off, m_on,
           m_off > 0 ? (1 - m_on / m_off) * 100 : 0, c_off, c_on,
           c_off > 0 ? (c_on / c_off - 1) * 100 : 0);
    return 0;
}
