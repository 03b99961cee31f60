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
 */
#include <arpa/inet.h>
#include <errno.h>
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

/* Send one AWSEvents call on fd and read the response into body (NUL-
 * terminated). Returns the HTTP status, or -1 on a transport error. */
static int call(int fd, const char *action, const char *json, size_t len,
                char *body, size_t body_size) {
    char head[512];
    int hl = snprintf(head, sizeof head,
                      "POST / HTTP/1.1\r\nHost: %s:%d\r\n"
                      "X-Amz-Target: AWSEvents.%s\r\n"
                      "Content-Type: application/x-amz-json-1.1\r\n"
                      "Content-Length: %zu\r\n\r\n",
                      host, port, action, len);
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

static void *run_worker(void *arg) {
    worker_t *w = arg;
    int fd = connect_to();
    if (fd < 0) {
        atomic_fetch_add(&total_errors, 1);
        return NULL;
    }
    unsigned seed = (unsigned)w->id * 7919u + 1;
    static __thread char req[16384], body[65536];
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
        size_t len = build_request(req, sizeof req, &seed);
        double t0 = per_conn > 0 ? next : now_s();
        int st = call(fd, "PutEvents", req, len, body, sizeof body);
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
    return NULL;
}

static int dbl_cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static pid_t spawn_server(const char *evbus, char *datadir) {
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

int main(int argc, char **argv) {
    const char *evbus = "build/evbus", *endpoint = NULL;
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
        else {
            fprintf(stderr,
                    "usage: putevents [--evbus PATH | --endpoint HOST:PORT] "
                    "[--connections N] [--seconds S] [--rate EVENTS_PER_S]\n");
            return 64;
        }
    }
    if (nconn < 1 || nconn > 256 || duration <= 0 || duration > 600)
        return 64;
    signal(SIGPIPE, SIG_IGN);
    pid_t server = 0;
    char datadir[] = "/tmp/evb-putevents-XXXXXX";
    if (endpoint) {
        if (sscanf(endpoint, "%63[^:]:%d", host, &port) != 2)
            return 64;
    } else {
        if (!mkdtemp(datadir))
            return 1;
        server = spawn_server(evbus, datadir);
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
    size_t n = 0;
    for (int i = 0; i < nconn; i++)
        n += w[i].lat.n;
    double *all = malloc((n ? n : 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; i < nconn; i++) {
        memcpy(all + k, w[i].lat.v, w[i].lat.n * sizeof *all);
        k += w[i].lat.n;
        free(w[i].lat.v);
    }
    qsort(all, n, sizeof *all, dbl_cmp);
    double p50 = n ? all[n / 2] : 0, p99 = n ? all[(size_t)(n * 0.99)] : 0,
           p999 = n ? all[(size_t)(n * 0.999)] : 0;
    long events = atomic_load(&total_events);
    printf("{\"bench\":\"putevents\",\"connections\":%d,\"rate\":%.0f,"
           "\"seconds\":%.1f,\"events\":%ld,\"events_per_s\":%.0f,"
           "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f,"
           "\"errors\":%ld}\n",
           nconn, rate, secs, events, events / secs, p50, p99, p999,
           atomic_load(&total_errors));
    free(all);
    free(w);
    free(th);
out:
    if (server > 0) {
        kill(server, SIGTERM);
        waitpid(server, NULL, 0);
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", datadir);
        if (system(cmd) != 0)
            rc = 1;
    }
    return rc;
}
