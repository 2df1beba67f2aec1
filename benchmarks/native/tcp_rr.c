/*
 * tcp_rr: a TCP_RR-style request/response measure, as netperf's TCP_RR runs it: one connection, one
 * request sent and its whole answer read before the next, each round trip timed with
 * clock_gettime(CLOCK_MONOTONIC). The request is an HTTP/1.1 GET (what modnet's httpd answers); the
 * answer is read up to its header's end plus Content-Length.
 *
 *   tcp_rr client HOST PORT SECONDS WARMUP [MARK [SETTLE]]
 *       WARMUP round trips first (30 s at most), then SECONDS of measured ones; MARK, when given, is a
 *       shell command run after the warm-up and after the run with 0 then 1 appended. SETTLE seconds of
 *       round trips, not counted, between the mark and the measured ones (default 0): the mark's pause
 *       leaves the connection idle, and what the first round trips after an idle spell take (a delayed
 *       ACK's timer, a JIT's code deoptimized by the new paths and compiled again) is not the steady state. Prints
 *       "p50 p99 p999 max count warmup_count warmup_p99" in microseconds. With TCP_RR_TRACE=FILE in the
 *       environment, each measured round trip's CLOCK_MONOTONIC nanoseconds go to FILE, one line each:
 *       before its send, after the send returned, its answer read.
 *   tcp_rr answer HOST PORT
 *       sends one request and writes its whole answer, as it came, to stdout (the bench keeps modnet
 *       httpd's answer so the Linux responder gives the same bytes).
 *   tcp_rr server ADDR PORT [BUSY_POLL_US [ANSWER_FILE]]
 *       answers each request on one accepted connection with ANSWER_FILE's bytes (by default a
 *       minimal HTTP/1.1 answer with a 1-byte body), with SO_BUSY_POLL set when BUSY_POLL_US > 0.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static const char REQ[] = "GET /rr HTTP/1.1\r\nHost: x\r\n\r\n";

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what) {
    perror(what);
    exit(1);
}

static char buf[65536];
static size_t have;
static int dump; /* read_answer writes each answer to stdout */

/* reads one whole answer (header, then Content-Length bytes); what follows stays in buf; its length */
static size_t read_answer(int s) {
    for (;;) {
        char *end = memmem(buf, have, "\r\n\r\n", 4);
        if (end) {
            size_t hlen = (size_t)(end - buf) + 4;
            size_t cl = 0;
            for (char *p = buf; p < end; ) {
                char *nl = memmem(p, (size_t)(end - p), "\r\n", 2);
                if (!nl) nl = end;
                if ((size_t)(nl - p) > 15 && strncasecmp(p, "content-length:", 15) == 0)
                    cl = strtoul(p + 15, NULL, 10);
                p = nl + 2;
            }
            if (have >= hlen + cl) {
                if (dump && fwrite(buf, 1, hlen + cl, stdout) != hlen + cl) die("fwrite");
                memmove(buf, buf + hlen + cl, have - hlen - cl);
                have -= hlen + cl;
                return hlen + cl;
            }
        }
        if (have == sizeof buf) { fprintf(stderr, "tcp_rr: answer too large\n"); exit(1); }
        ssize_t n = recv(s, buf + have, sizeof buf - have, 0);
        if (n == 0) { fprintf(stderr, "tcp_rr: connection closed\n"); exit(1); }
        if (n < 0) { if (errno == EINTR) continue; die("recv"); }
        have += (size_t)n;
    }
}

static int cmp(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

/* TCP_RR_TRACE=FILE: each measured round trip's CLOCK_MONOTONIC times (before send, after send, answer read) */
static long long *trace;
static size_t trace_cap;

static size_t run(int s, double secs, size_t count, long long **out, size_t *cap, int traced) {
    size_t n = 0;
    long long end = now_ns() + (long long)(secs * 1e9);
    while ((count == 0 || n < count)) {
        long long a = now_ns();
        if (a >= end) break;
        size_t off = 0;
        while (off < sizeof REQ - 1) {
            ssize_t w = send(s, REQ + off, sizeof REQ - 1 - off, 0);
            if (w < 0) { if (errno == EINTR) continue; die("send"); }
            off += (size_t)w;
        }
        long long sent = traced ? now_ns() : 0;
        read_answer(s);
        long long b = now_ns();
        if (n == *cap) {
            *cap = *cap ? *cap * 2 : 1 << 16;
            *out = realloc(*out, *cap * sizeof **out);
            if (!*out) die("realloc");
        }
        if (traced) {
            if (n == trace_cap) {
                trace_cap = trace_cap ? trace_cap * 2 : 1 << 16;
                trace = realloc(trace, trace_cap * 3 * sizeof *trace);
                if (!trace) die("realloc");
            }
            trace[3 * n] = a;
            trace[3 * n + 1] = sent;
            trace[3 * n + 2] = b;
        }
        (*out)[n++] = b - a;
    }
    qsort(*out, n, sizeof **out, cmp);
    return n;
}

static double q(const long long *t, size_t n, double p) {
    if (n == 0) return 0;
    size_t i = (size_t)(n * p);
    if (i >= n) i = n - 1;
    return t[i] / 1000.0;
}

static void mark(const char *cmd, int which) {
    if (!cmd || !*cmd) return;
    char *c;
    if (asprintf(&c, "%s%d", cmd, which) < 0) die("asprintf");
    if (system(c) == -1) die("system");
    free(c);
}

static int connect_to(const char *host, const char *port) {
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(port))};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) { fprintf(stderr, "tcp_rr: bad address %s\n", host); exit(2); }
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) die("socket");
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) die("connect");
    return s;
}

static int answer(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: tcp_rr answer HOST PORT\n"); return 2; }
    int s = connect_to(argv[2], argv[3]);
    if (send(s, REQ, sizeof REQ - 1, 0) != (ssize_t)(sizeof REQ - 1)) die("send");
    dump = 1;
    read_answer(s);
    close(s);
    return 0;
}

static int client(int argc, char **argv) {
    if (argc < 6) { fprintf(stderr, "usage: tcp_rr client HOST PORT SECONDS WARMUP [MARK [SETTLE]]\n"); return 2; }
    double secs = atof(argv[4]);
    size_t warm = strtoul(argv[5], NULL, 10);
    const char *m = argc > 6 ? argv[6] : NULL;
    double settle = argc > 7 ? atof(argv[7]) : 0;
    int s = connect_to(argv[2], argv[3]);
    long long *w = NULL, *t = NULL;
    size_t wcap = 0, tcap = 0;
    const char *tf = getenv("TCP_RR_TRACE");
    size_t nw = run(s, 30, warm, &w, &wcap, 0);
    mark(m, 0);
    if (settle > 0) {
        long long *x = NULL;
        size_t xcap = 0;
        run(s, settle, 0, &x, &xcap, 0);
        free(x);
    }
    size_t nt = run(s, secs, 0, &t, &tcap, tf && *tf);
    mark(m, 1);
    if (tf && *tf) {
        FILE *f = fopen(tf, "w");
        if (!f) die(tf);
        for (size_t i = 0; i < nt; i++) fprintf(f, "%lld %lld %lld\n", trace[3 * i], trace[3 * i + 1], trace[3 * i + 2]);
        fclose(f);
    }
    /* the measured round trips by bucket (us): <=30, <=40, <=60, <=100, <=200, <=500, more */
    static const long long edge[] = { 30000, 40000, 60000, 100000, 200000, 500000 };
    size_t hist[7] = { 0 };
    for (size_t i = 0; i < nt; i++) {
        int b = 0;
        while (b < 6 && t[i] > edge[b]) b++;
        hist[b]++;
    }
    printf("%.1f %.1f %.1f %.1f %zu %zu %.1f %zu/%zu/%zu/%zu/%zu/%zu/%zu\n", q(t, nt, 0.5), q(t, nt, 0.99), q(t, nt, 0.999),
           nt ? t[nt - 1] / 1000.0 : 0, nt, nw, q(w, nw, 0.99), hist[0], hist[1], hist[2], hist[3], hist[4], hist[5], hist[6]);
    close(s);
    return 0;
}

static int server(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: tcp_rr server ADDR PORT [BUSY_POLL_US [ANSWER_FILE]]\n"); return 2; }
    static char ans[4096] =
        "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Type: application/octet-stream\r\n\r\nx";
    size_t alen = strlen(ans);
    if (argc > 5) {
        FILE *f = fopen(argv[5], "rb");
        if (!f) die(argv[5]);
        alen = fread(ans, 1, sizeof ans, f);
        fclose(f);
        if (alen == 0 || alen == sizeof ans) { fprintf(stderr, "tcp_rr: %s: empty or too large\n", argv[5]); return 2; }
    }
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[3]))};
    if (inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1) { fprintf(stderr, "tcp_rr: bad address %s\n", argv[2]); return 2; }
    int busy = argc > 4 ? atoi(argv[4]) : 0;
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (l < 0) die("socket");
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(l, (struct sockaddr *)&sa, sizeof sa) < 0) die("bind");
    if (listen(l, 1) < 0) die("listen");
    int c = accept(l, NULL, NULL);
    if (c < 0) die("accept");
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (busy > 0 && setsockopt(c, SOL_SOCKET, SO_BUSY_POLL, &busy, sizeof busy) < 0) die("SO_BUSY_POLL");
    for (;;) {
        ssize_t n = recv(c, buf + have, sizeof buf - have, 0);
        if (n == 0) return 0;
        if (n < 0) { if (errno == EINTR) continue; die("recv"); }
        have += (size_t)n;
        char *end;
        while ((end = memmem(buf, have, "\r\n\r\n", 4)) != NULL) {
            size_t hlen = (size_t)(end - buf) + 4;
            memmove(buf, buf + hlen, have - hlen);
            have -= hlen;
            size_t off = 0;
            while (off < alen) {
                ssize_t w = send(c, ans + off, alen - off, 0);
                if (w < 0) { if (errno == EINTR) continue; die("send"); }
                off += (size_t)w;
            }
        }
        if (have == sizeof buf) have = 0;
    }
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "client") == 0) return client(argc, argv);
    if (argc > 1 && strcmp(argv[1], "server") == 0) return server(argc, argv);
    if (argc > 1 && strcmp(argv[1], "answer") == 0) return answer(argc, argv);
    fprintf(stderr, "usage: tcp_rr client HOST PORT SECONDS WARMUP [MARK [SETTLE]] | answer HOST PORT | server ADDR PORT [BUSY_POLL_US [ANSWER_FILE]]\n");
    return 2;
}
