/*
 * delivery.c: ingestion-to-invocation latency of API-destination targets.
 *
 * It starts `evbus serve` (--evbus PATH) on a fresh data dir and a free
 * loopback port, runs an HTTP receiver of its own (evbus's HTTP server
 * module) on another loopback port, creates a connection, 40 API
 * destinations pointing at the receiver (InvocationRateLimitPerSecond 300
 * each, EventBridge's default quota: 12,000/s in all), and 40 rules, each
 * sending its share of the events to one destination. Then it sends
 * PutEvents at each requested rate (batches of 10 events, paced, 8
 * keep-alive connections); every event carries its send time, and the
 * receiver records, per invocation, now minus that time. One JSON line
 * per rate:
 *
 *   {"bench":"delivery","rate":1000,"seconds":10,"dests":40,
 *    "dest_rate":300,"spread":false,"sent":...,"delivered":...,
 *    "delivered_per_s":...,"p50_ms":...,"p99_ms":...,"p999_ms":...}
 *
 * Options that change the load (the defaults are the bench as first
 * written, so figures stay comparable): --dest-rate N sets every
 * destination's rate limit (at 10,000 events/s, 300 holds them at 83% of
 * their limits, where invocations queue behind the limiter by design);
 * --spread puts each connection at its own phase of the period instead of
 * all 8 sending at the same instant.
 */
#include <arpa/inet.h>
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

#include "api/http.h"

static int port;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- receiver ------------------------------------------------------------ */

static pthread_mutex_t lat_lock = PTHREAD_MUTEX_INITIALIZER;
static double *lat;
static size_t nlat, caplat;
static atomic_long received;

static void on_invocation(void *ud, const evb_http_request_t *req,
                          evb_http_response_t *resp) {
    (void)ud;
    double t = now_s();
    const char *p = req->body_len ? strstr(req->body, "\"sent\":") : NULL;
    if (p) {
        double sent = atof(p + 7);
        pthread_mutex_lock(&lat_lock);
        if (nlat == caplat) {
            size_t cap = caplat ? caplat * 2 : 65536;
            double *nv = realloc(lat, cap * sizeof *nv);
            if (nv) {
                lat = nv;
                caplat = cap;
            }
        }
        if (nlat < caplat)
            lat[nlat++] = (t - sent) * 1000.0;
        pthread_mutex_unlock(&lat_lock);
        atomic_fetch_add(&received, 1);
    }
    resp->status = 200;
}

/* ---- client -------------------------------------------------------------- */

static int connect_to(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons((uint16_t)port)};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

static int call(int fd, const char *action, const char *json, char *out,
                size_t out_size) {
    char head[512];
    size_t len = strlen(json);
    int hl = snprintf(head, sizeof head,
                      "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                      "X-Amz-Target: AWSEvents.%s\r\n"
                      "Content-Type: application/x-amz-json-1.1\r\n"
                      "Content-Length: %zu\r\n\r\n",
                      action, len);
    if (write(fd, head, (size_t)hl) != hl ||
        write(fd, json, len) != (ssize_t)len)
        return -1;
    size_t got = 0;
    char *end = NULL;
    while (!end) {
        ssize_t r = read(fd, out + got, out_size - 1 - got);
        if (r <= 0)
            return -1;
        got += (size_t)r;
        out[got] = '\0';
        end = strstr(out, "\r\n\r\n");
    }
    int status = 0;
    sscanf(out, "HTTP/1.1 %d", &status);
    const char *cl = strcasestr(out, "\r\ncontent-length:");
    size_t clen = cl ? (size_t)strtoul(cl + 17, NULL, 10) : 0;
    size_t have = got - (size_t)(end + 4 - out);
    memmove(out, end + 4, have);
    while (have < clen && have < out_size - 1) {
        ssize_t r = read(fd, out + have, clen - have);
        if (r <= 0)
            return -1;
        have += (size_t)r;
    }
    out[have] = '\0';
    return status;
}

#define NDEST 40

static int dest_rate = 300; /* InvocationRateLimitPerSecond */
static bool spread;         /* senders at evenly spread phases */

static int setup(unsigned recv_port) {
    int fd = connect_to();
    if (fd < 0)
        return -1;
    char out[8192], req[2048];
    int st = call(fd, "CreateConnection",
                  "{\"Name\":\"bench\",\"AuthorizationType\":\"API_KEY\","
                  "\"AuthParameters\":{\"ApiKeyAuthParameters\":{"
                  "\"ApiKeyName\":\"x-api-key\",\"ApiKeyValue\":\"k\"}}}",
                  out, sizeof out);
    const char *a = strstr(out, "\"ConnectionArn\":\"");
    if (st != 200 || !a) {
        fprintf(stderr, "CreateConnection: %d %s\n", st, out);
        close(fd);
        return -1;
    }
    char conn[512];
    sscanf(a + 17, "%511[^\"]", conn);
    for (int i = 0; i < NDEST; i++) {
        snprintf(req, sizeof req,
                 "{\"Name\":\"d%d\",\"ConnectionArn\":\"%s\","
                 "\"InvocationEndpoint\":\"http://127.0.0.1:%u/in\","
                 "\"HttpMethod\":\"POST\",\"InvocationRateLimitPerSecond\":"
                 "%d}",
                 i, conn, recv_port, dest_rate);
        st = call(fd, "CreateApiDestination", req, out, sizeof out);
        a = strstr(out, "\"ApiDestinationArn\":\"");
        if (st != 200 || !a) {
            fprintf(stderr, "CreateApiDestination: %d %s\n", st, out);
            close(fd);
            return -1;
        }
        char dest[512];
        sscanf(a + 21, "%511[^\"]", dest);
        snprintf(req, sizeof req,
                 "{\"Name\":\"r%d\",\"EventPattern\":\"{\\\"source\\\":"
                 "[\\\"bench\\\"],\\\"detail\\\":{\\\"d\\\":[%d]}}\"}",
                 i, i);
        if (call(fd, "PutRule", req, out, sizeof out) != 200) {
            fprintf(stderr, "PutRule: %s\n", out);
            close(fd);
            return -1;
        }
        snprintf(req, sizeof req,
                 "{\"Rule\":\"r%d\",\"Targets\":[{\"Id\":\"h\",\"Arn\":\"%s\","
                 "\"RoleArn\":\"arn:aws:iam::000000000000:role/bench\"}]}",
                 i, dest);
        if (call(fd, "PutTargets", req, out, sizeof out) != 200) {
            fprintf(stderr, "PutTargets: %s\n", out);
            close(fd);
            return -1;
        }
    }
    close(fd);
    return 0;
}

static double rate, seconds = 10;
static int nconn = 8;
static atomic_int stop_flag;
static atomic_long sent_events;

static void *sender(void *arg) {
    int id = (int)(intptr_t)arg;
    int fd = connect_to();
    if (fd < 0)
        return NULL;
    char req[4096], out[8192];
    double per = rate / 10.0 / nconn, next = now_s();
    if (spread) /* each sender at its own phase of the period */
        next += (double)id / (per * nconn);
    unsigned seq = (unsigned)id;
    while (!atomic_load(&stop_flag)) {
        double t = now_s();
        if (t < next) {
            struct timespec ts = {0, (long)((next - t) * 1e9)};
            nanosleep(&ts, NULL);
        }
        next += 1.0 / per;
        size_t o = (size_t)snprintf(req, sizeof req, "{\"Entries\":[");
        for (int i = 0; i < 10; i++, seq += 7)
            o += (size_t)snprintf(req + o, sizeof req - o,
                                  "%s{\"Source\":\"bench\",\"DetailType\":"
                                  "\"t\",\"Detail\":\"{\\\"d\\\":%u,"
                                  "\\\"sent\\\":%.6f}\"}",
                                  i ? "," : "", seq % NDEST, now_s());
        snprintf(req + o, sizeof req - o, "]}");
        if (call(fd, "PutEvents", req, out, sizeof out) == 200 &&
            strstr(out, "\"FailedEntryCount\":0"))
            atomic_fetch_add(&sent_events, 10);
    }
    close(fd);
    return NULL;
}

static int dbl_cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void run_rate(double r) {
    rate = r;
    atomic_store(&stop_flag, 0);
    atomic_store(&sent_events, 0);
    atomic_store(&received, 0);
    pthread_mutex_lock(&lat_lock);
    nlat = 0;
    pthread_mutex_unlock(&lat_lock);
    pthread_t th[64];
    for (int i = 0; i < nconn; i++)
        pthread_create(&th[i], NULL, sender, (void *)(intptr_t)i);
    double t0 = now_s();
    while (now_s() - t0 < seconds)
        usleep(20000);
    atomic_store(&stop_flag, 1);
    for (int i = 0; i < nconn; i++)
        pthread_join(th[i], NULL);
    /* let the last deliveries arrive (bounded) */
    for (int i = 0; i < 100 && atomic_load(&received) < atomic_load(&sent_events);
         i++)
        usleep(50000);
    double secs = now_s() - t0;
    pthread_mutex_lock(&lat_lock);
    qsort(lat, nlat, sizeof *lat, dbl_cmp);
    size_t n = nlat;
    double p50 = n ? lat[n / 2] : 0, p99 = n ? lat[(size_t)(n * 0.99)] : 0,
           p999 = n ? lat[(size_t)(n * 0.999)] : 0;
    pthread_mutex_unlock(&lat_lock);
    printf("{\"bench\":\"delivery\",\"rate\":%.0f,\"seconds\":%.0f,"
           "\"dests\":%d,\"dest_rate\":%d,\"spread\":%s,\"sent\":%ld,\"delivered\":%ld,"
           "\"delivered_per_s\":%.0f,"
           "\"p50_ms\":%.3f,\"p99_ms\":%.3f,\"p999_ms\":%.3f}\n",
           r, seconds, NDEST, dest_rate, spread ? "true" : "false",
           atomic_load(&sent_events),
           atomic_load(&received), (double)atomic_load(&received) / secs, p50,
           p99, p999);
    fflush(stdout);
}

int main(int argc, char **argv) {
    const char *evbus = "build/evbus";
    double rates[8] = {1000, 10000};
    int nrates = 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--evbus") && i + 1 < argc)
            evbus = argv[++i];
        else if (!strcmp(argv[i], "--dest-rate") && i + 1 < argc)
            dest_rate = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--spread"))
            spread = true;
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
            seconds = atof(argv[++i]);
        else if (!strcmp(argv[i], "--rate") && i + 1 < argc && nrates < 8) {
            if (nrates == 2 && rates[0] == 1000 && rates[1] == 10000)
                nrates = 0;
            rates[nrates++] = atof(argv[++i]);
        } else {
            fprintf(stderr, "usage: delivery [--evbus PATH] [--seconds S] "
                            "[--dest-rate N] [--spread] "
                            "[--rate EVENTS_PER_S]...\n");
            return 64;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    char err[256];
    evb_http_config_t hc = evb_http_config_default();
    hc.host = "127.0.0.1";
    hc.threads = 2;
    evb_http_server_t *recv_srv;
    if (evb_http_server_start(&hc, on_invocation, NULL, &recv_srv, err,
                              sizeof err)) {
        fprintf(stderr, "receiver: %s\n", err);
        return 1;
    }
    /* a free port for the server */
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET};
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    socklen_t al = sizeof a;
    bind(s, (struct sockaddr *)&a, sizeof a);
    getsockname(s, (struct sockaddr *)&a, &al);
    port = ntohs(a.sin_port);
    close(s);
    char datadir[] = "/tmp/evb-bench-delivery-XXXXXX";
    if (!mkdtemp(datadir))
        return 1;
    char listen[64];
    snprintf(listen, sizeof listen, "127.0.0.1:%d", port);
    pid_t pid = fork();
    if (pid == 0) {
        execl(evbus, evbus, "serve", "--listen", listen, "--data-dir",
              datadir, (char *)NULL);
        _exit(127);
    }
    int up = 0;
    for (int i = 0; i < 100 && !up; i++) {
        int fd = connect_to();
        if (fd >= 0) {
            close(fd);
            up = 1;
        } else {
            usleep(50000);
        }
    }
    int rc = 1;
    if (up && setup(evb_http_server_port(recv_srv)) == 0) {
        for (int i = 0; i < nrates; i++)
            run_rate(rates[i]);
        rc = 0;
    }
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    evb_http_server_stop(recv_srv);
    free(lat);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", datadir);
    if (system(cmd) != 0)
        rc = 1;
    return rc;
}
