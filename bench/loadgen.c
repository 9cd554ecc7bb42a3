/*
 * bench/loadgen.c: an HTTP/1.1 load generator for bench/server_peers.py (issue 17's benchmark).
 *
 * The Python generator costs 40 to 80 us of its own per request on this VM and shares the
 * machine's two cores with the server under test; this one costs a few microseconds, so the
 * latencies it reports are the server's and the loopback's, and the server keeps the cores.
 *
 *   cc -O2 -Wall -o .build/loadgen bench/loadgen.c
 *   .build/loadgen --port P --requests FILE --pass OUT [--spin] [--paired LIBSTRATA CONFIG] [--stamps STAMPS]
 *   .build/loadgen --port P --requests FILE --connections 16 --seconds 10
 *
 * FILE holds the requests, each as a 4-byte little-endian length and that many bytes of a whole
 * HTTP/1.1 request (built by the caller, so the clock never covers building one).
 *
 * --pass OUT: one kept-alive connection sends every request once, in order, and writes each
 * answer to OUT as three 4-byte little-endian numbers (status, latency in nanoseconds, body
 * length) and the body (chunked bodies decoded). Answers that say how long their engine call
 * took (`Server-Timing: engine;dur=<ms>`, as `strata serve`'s recalls do) add "server_timing" to
 * the summary: how many did, the p50 of that time, and the p50 and mean of each one's latency
 * minus its engine call (what the server did besides the call, the network and this client,
 * with the call measured in the server's own process). With --spin it polls the socket instead of
 * sleeping in recv: on a virtual machine whose idle cores halt (this one: Firecracker, guest halt
 * polling off), waking a client that slept through a 400 us answer costs it 100 to 200 us, a
 * cost of the client's core, not of the server.
 *
 * --paired LIBSTRATA CONFIG (with --pass): this process also opens CONFIG through libstrata.so
 * (dlopen, so loadgen builds without it) and makes each request's recall itself, in process,
 * right before or right after sending it (alternating, so neither side always runs on the
 * caches the other warmed): strata_engine_recall with the request's body, the call a server
 * makes for it, after one untimed pass of them all. The summary adds "paired": the in-process
 * call's p50 and mean, and the p50 and mean of each request's own difference, its HTTP latency
 * minus its in-process call; and the same p50 over the requests sent after a pause (the even
 * ones: their in-process call first, so the server last heard from this client two calls
 * ago, as an agent that thinks between recalls) and over those sent back to back (the odd
 * ones, right after the previous answer; their in-process call waits 300 µs off the clock,
 * past a server's busy poll). Over both together the p50 falls between the two halves' and
 * moves with them. A text recall's time moves by a tenth from one pass to the next on
 * a shared VM, far more than the server adds; differences taken query by query, a few
 * milliseconds apart, cancel that out.
 *
 * --stamps STAMPS (with --pass): writes each request's send and the receipt of its whole answer
 * to STAMPS, as two little-endian 64-bit CLOCK_MONOTONIC nanosecond counts (the clock a server
 * and bench/http_floor.c --stamps stamp their steps with), for bench/phase_stamps.py.
 *
 * Otherwise: --connections kept-alive connections on one thread (epoll), each sending its next
 * request as soon as its last answer is whole, starting at its own place in the requests, until
 * --seconds have passed; answers in flight then are waited for and counted.
 *
 * Prints one JSON object on stdout: requests, seconds, qps, mean / p50 / p99 / p99.9 / max latency in ms,
 * cpu_seconds (this process), errors (answers with a status of 300 or more) and the first one.
 * Exits 1 when a request cannot be sent or an answer cannot be read, 2 on bad arguments.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    const char *data;
    uint32_t length;
} request;

/* One connection's answer being read. */
typedef struct {
    char *buf;
    size_t len, cap;
} buffer;

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what) {
    fprintf(stderr, "loadgen: %s: %s\n", what, strerror(errno));
    exit(1);
}

static void fail(const char *message) {
    fprintf(stderr, "loadgen: %s\n", message);
    exit(1);
}

static request *read_requests(const char *path, size_t *count) {
    FILE *f = fopen(path, "rb");
    if (!f) die(path);
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *all = malloc((size_t)size);
    if (!all || fread(all, 1, (size_t)size, f) != (size_t)size) die(path);
    fclose(f);
    size_t n = 0, cap = 1024;
    request *out = malloc(cap * sizeof *out);
    for (long at = 0; at < size;) {
        uint32_t length;
        if (at + 4 > size) fail("the requests file ends inside a length");
        memcpy(&length, all + at, 4);
        at += 4;
        if (at + (long)length > size) fail("the requests file ends inside a request");
        if (n == cap) out = realloc(out, (cap *= 2) * sizeof *out);
        out[n++] = (request){all + at, length};
        at += length;
    }
    if (n == 0) fail("the requests file holds no request");
    *count = n;
    return out;
}

static int connect_to(int port) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0) die("socket");
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(0x7f000001)};
    if (connect(s, (struct sockaddr *)&a, sizeof a) != 0) die("connect to 127.0.0.1");
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return s;
}

static void send_all(int s, const request *r) {
    for (uint32_t sent = 0; sent < r->length;) {
        ssize_t n = send(s, r->data + sent, r->length - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("send");
        }
        sent += (uint32_t)n;
    }
}

/*
 * Whether buf holds a whole answer. Returns its length in bytes (the next answer starts there),
 * 0 when more bytes are needed, -1 when it is not HTTP/1.1 this parser reads. Sets *status, and
 * when body is not NULL, copies the (decoded) body there.
 */
static long whole_answer(const char *buf, size_t len, int *status, buffer *body, double *engine_ns) {
    const char *end = memmem(buf, len, "\r\n\r\n", 4);
    if (!end) return 0;
    size_t head = (size_t)(end - buf) + 4;
    if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0) return -1;
    *status = atoi(buf + 9);
    long content_length = -1;
    int chunked = 0;
    if (engine_ns) *engine_ns = -1;
    for (const char *line = memchr(buf, '\n', head) + 1; line < end; line = memchr(line, '\n', (size_t)(end - line) + 2) + 1) {
        if (strncasecmp(line, "content-length:", 15) == 0) content_length = atol(line + 15);
        else if (engine_ns && strncasecmp(line, "server-timing:", 14) == 0) {
            const char *v = line + 14;
            while (*v == ' ') v++;
            if (strncmp(v, "engine;dur=", 11) == 0) *engine_ns = strtod(v + 11, NULL) * 1e6;
        }
        else if (strncasecmp(line, "transfer-encoding:", 18) == 0) {
            const char *v = line + 18;
            while (*v == ' ') v++;
            chunked = strncasecmp(v, "chunked", 7) == 0;
        }
    }
    if (body) body->len = 0;
    if (!chunked) {
        if (content_length < 0) return -1;
        if (len < head + (size_t)content_length) return 0;
        if (body) {
            if (body->cap < (size_t)content_length) body->buf = realloc(body->buf, body->cap = (size_t)content_length);
            memcpy(body->buf, buf + head, (size_t)content_length);
            body->len = (size_t)content_length;
        }
        return (long)(head + (size_t)content_length);
    }
    for (size_t at = head;;) {
        const char *eol = memmem(buf + at, len - at, "\r\n", 2);
        if (!eol) return 0;
        size_t size = strtoul(buf + at, NULL, 16);
        size_t data = (size_t)(eol - buf) + 2;
        if (len < data + size + 2) return 0;
        if (body && size) {
            if (body->cap < body->len + size) body->buf = realloc(body->buf, body->cap = (body->len + size) * 2);
            memcpy(body->buf + body->len, buf + data, size);
            body->len += size;
        }
        at = data + size + 2;
        if (size == 0) return (long)at; /* no trailers: the servers here send none */
    }
}

static void grow(buffer *b, size_t need) {
    if (b->cap - b->len >= need) return;
    while (b->cap - b->len < need) b->cap = b->cap ? b->cap * 2 : 65536;
    b->buf = realloc(b->buf, b->cap);
    if (!b->buf) fail("out of memory");
}

/* Reads from s until buf holds a whole answer; returns its length. With spin, polls the socket
 * without blocking, so this thread never sleeps waiting for the answer. */
static size_t read_answer(int s, buffer *in, int *status, buffer *body, double *engine_ns, int spin) {
    for (;;) {
        long whole = whole_answer(in->buf, in->len, status, body, engine_ns);
        if (whole < 0) fail("an answer that is not HTTP/1.1 with a length or chunks");
        if (whole > 0) return (size_t)whole;
        grow(in, 65536);
        ssize_t n = recv(s, in->buf + in->len, in->cap - in->len, spin ? MSG_DONTWAIT : 0);
        if (n == 0) fail("the server closed the connection");
        if (n < 0) {
            if (errno == EINTR || (spin && errno == EAGAIN)) continue;
            die("recv");
        }
        in->len += (size_t)n;
    }
}

static void consume(buffer *b, size_t n) {
    memmove(b->buf, b->buf + n, b->len - n);
    b->len -= n;
}

static void put_u32(FILE *f, uint32_t x) { fwrite(&x, 4, 1, f); }

/* --paired: the engine this process opens, with the calls it makes (strata.h's signatures). */
typedef struct {
    void *engine;
    int (*recall)(void *engine, const char *request, char **out);
    void (*string_free)(char *text);
    const char *(*error_last)(void);
} paired_engine;

static void paired_open(paired_engine *e, const char *library, const char *config) {
    void *lib = dlopen(library, RTLD_NOW);
    if (!lib) {
        fprintf(stderr, "loadgen: cannot load %s: %s\n", library, dlerror());
        exit(2);
    }
    int (*open_file)(void **, const char *) = (int (*)(void **, const char *))dlsym(lib, "strata_engine_open_file");
    e->recall = (int (*)(void *, const char *, char **))dlsym(lib, "strata_engine_recall");
    e->string_free = (void (*)(char *))dlsym(lib, "strata_string_free");
    e->error_last = (const char *(*)(void))dlsym(lib, "strata_error_last");
    if (!open_file || !e->recall || !e->string_free || !e->error_last) {
        fprintf(stderr, "loadgen: %s does not export strata_engine_open_file, strata_engine_recall, strata_string_free "
                "and strata_error_last\n", library);
        exit(2);
    }
    if (open_file(&e->engine, config) != 0) {
        fprintf(stderr, "loadgen: cannot open %s: %s\n", config, e->error_last());
        exit(2);
    }
}

/* The in-process recall of request `r`'s body, in ns (its answer dropped). */
static double paired_call(const paired_engine *e, const request *r) {
    const char *split = memmem(r->data, r->length, "\r\n\r\n", 4);
    if (!split) fail("--paired: a request without a body");
    char *body = strndup(split + 4, (size_t)(r->data + r->length - split - 4)), *out = NULL;
    double started = now_ns();
    if (e->recall(e->engine, body, &out) != 0) {
        fprintf(stderr, "loadgen: strata_engine_recall failed: %s\n", e->error_last());
        exit(1);
    }
    double took = now_ns() - started;
    e->string_free(out);
    free(body);
    return took;
}

static double mean_of(const double *x, size_t n) {
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += x[i];
    return n ? sum / (double)n : 0;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double cpu_seconds(void) {
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) * 1e-6;
}

/* Prints the summary. Latencies in ns, sorted in place; `timed` answers (0: none said) with
 * their engine calls and latencies minus them; `paired` requests (0: no --paired) with the
 * in-process calls and each request's latency minus its call; all in ns. */
static void report(double *latencies, size_t n, double wall_ns, double cpu, size_t errors, const char *first_error,
                   double *engine, double *minus, size_t timed, double *local, double *difference, size_t paired) {
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += latencies[i];
    qsort(latencies, n, sizeof *latencies, compare);
    double p50 = n ? latencies[n / 2] : 0, p99 = n ? latencies[(size_t)((double)(n - 1) * 0.99)] : 0;
    double p999 = n ? latencies[(size_t)((double)(n - 1) * 0.999)] : 0, max = n ? latencies[n - 1] : 0;
    printf("{\"requests\": %zu, \"seconds\": %.6f, \"qps\": %.3f, \"mean_ms\": %.6f, \"p50_ms\": %.6f, \"p99_ms\": %.6f, "
           "\"p999_ms\": %.6f, \"max_ms\": %.6f, \"cpu_seconds\": %.6f, \"errors\": %zu, \"first_error\": \"",
           n, wall_ns * 1e-9, n / (wall_ns * 1e-9), n ? sum / n * 1e-6 : 0, p50 * 1e-6, p99 * 1e-6, p999 * 1e-6, max * 1e-6,
           cpu, errors);
    for (const char *c = first_error; *c; c++) {
        if (*c == '"' || *c == '\\') putchar('\\');
        putchar((unsigned char)*c < 0x20 ? ' ' : *c);
    }
    printf("\"");
    if (timed) {
        double minus_sum = 0;
        for (size_t i = 0; i < timed; i++) minus_sum += minus[i];
        qsort(engine, timed, sizeof *engine, compare);
        qsort(minus, timed, sizeof *minus, compare);
        printf(", \"server_timing\": {\"answers\": %zu, \"engine_p50_ms\": %.6f, \"minus_engine_p50_ms\": %.6f, "
               "\"minus_engine_mean_ms\": %.6f}",
               timed, engine[timed / 2] * 1e-6, minus[timed / 2] * 1e-6, minus_sum / timed * 1e-6);
    }
    if (paired) {
        /* The two halves apart first: an even request's in-process call comes first, so it is
         * sent after a pause (the server last heard from this client two calls ago); an odd
         * one's right after the even one's answer. */
        size_t halves[2] = {0, 0};
        double *half[2] = {malloc(paired * sizeof(double)), malloc(paired * sizeof(double))};
        for (size_t i = 0; i < paired; i++) half[i % 2][halves[i % 2]++] = difference[i];
        double local_mean = mean_of(local, paired), difference_mean = mean_of(difference, paired);
        qsort(local, paired, sizeof *local, compare);
        qsort(difference, paired, sizeof *difference, compare);
        for (int h = 0; h < 2; h++) qsort(half[h], halves[h], sizeof(double), compare);
        printf(", \"paired\": {\"requests\": %zu, \"in_process_p50_ms\": %.6f, \"in_process_mean_ms\": %.6f, "
               "\"overhead_p50_ms\": %.6f, \"overhead_mean_ms\": %.6f, \"after_pause_overhead_p50_ms\": %.6f, "
               "\"after_pause_overhead_mean_ms\": %.6f, \"back_to_back_overhead_p50_ms\": %.6f}",
               paired, local[paired / 2] * 1e-6, local_mean * 1e-6, difference[paired / 2] * 1e-6, difference_mean * 1e-6,
               halves[0] ? half[0][halves[0] / 2] * 1e-6 : 0, mean_of(half[0], halves[0]) * 1e-6,
               halves[1] ? half[1][halves[1] / 2] * 1e-6 : 0);
        free(half[0]);
        free(half[1]);
    }
    printf("}\n");
}

static void note_error(size_t *errors, char *first, int status, const buffer *in, size_t length) {
    if ((*errors)++ == 0) snprintf(first, 300, "HTTP %d: %.*s", status, (int)(length < 200 ? length : 200), in->buf);
}

static void one_pass(int port, const request *requests, size_t n, const char *out_path, int spin, const paired_engine *pair,
                     const char *stamps_path) {
    FILE *out = fopen(out_path, "wb");
    if (!out) die(out_path);
    FILE *stamps = stamps_path ? fopen(stamps_path, "wb") : NULL;
    if (stamps_path && !stamps) die(stamps_path);
    int s = connect_to(port);
    buffer in = {0}, body = {0};
    double *latencies = malloc(n * sizeof *latencies), *engine = malloc(n * sizeof *engine), *minus = malloc(n * sizeof *minus);
    double *local = pair ? malloc(n * sizeof *local) : NULL, *difference = pair ? malloc(n * sizeof *difference) : NULL;
    /* The in-process engine gets the warm-up the server got (a fresh process on a mapped store
     * loads its rows after a run of searches: not on the clock). */
    for (size_t i = 0; pair && i < n; i++) paired_call(pair, &requests[i]);
    size_t errors = 0, timed = 0;
    char first[320] = "";
    double cpu = cpu_seconds(), wall = now_ns();
    for (size_t i = 0; i < n; i++) {
        int status;
        if (pair && i % 2 == 0) local[i] = paired_call(pair, &requests[i]);
        double started = now_ns(), engine_ns;
        send_all(s, &requests[i]);
        size_t length = read_answer(s, &in, &status, &body, &engine_ns, spin);
        latencies[i] = now_ns() - started;
        if (stamps) {
            int64_t both[2] = {(int64_t)started, (int64_t)(started + latencies[i])};
            fwrite(both, sizeof both, 1, stamps);
        }
        if (pair && i % 2 == 1) {
            /* Off the clock: past the server's busy poll after its answer (`--busy-poll-us`,
             * 100 here), which would otherwise take a core from the call. */
            double until = now_ns() + 300e3;
            while (now_ns() < until) {}
            local[i] = paired_call(pair, &requests[i]);
        }
        if (pair) difference[i] = latencies[i] - local[i];
        if (engine_ns >= 0) {
            engine[timed] = engine_ns;
            minus[timed++] = latencies[i] - engine_ns;
        }
        if (status >= 300) note_error(&errors, first, status, &in, length);
        put_u32(out, (uint32_t)status);
        put_u32(out, (uint32_t)latencies[i]);
        put_u32(out, (uint32_t)body.len);
        fwrite(body.buf, 1, body.len, out);
        consume(&in, length);
    }
    wall = now_ns() - wall;
    if (fclose(out) != 0) die(out_path);
    if (stamps && fclose(stamps) != 0) die(stamps_path);
    close(s);
    report(latencies, n, wall, cpu_seconds() - cpu, errors, first, engine, minus, timed, local, difference, pair ? n : 0);
}

typedef struct {
    int fd;
    size_t next;   /* index of the next request */
    uint32_t sent; /* bytes of the current request written */
    double started;
    buffer in;
    int waiting; /* the request is written; its answer is awaited */
} connection;

static void load(int port, const request *requests, size_t n, int count, double seconds) {
    int ep = epoll_create1(0);
    if (ep < 0) die("epoll_create1");
    connection *c = calloc((size_t)count, sizeof *c);
    size_t cap = 1 << 16, done = 0, errors = 0;
    double *latencies = malloc(cap * sizeof *latencies);
    char first[320] = "";
    for (int i = 0; i < count; i++) {
        c[i].fd = connect_to(port);
        c[i].next = (size_t)i * n / (size_t)count;
    }
    double cpu = cpu_seconds(), start = now_ns(), deadline = start + seconds * 1e9;
    int open = 0;
    for (int i = 0; i < count; i++) {
        c[i].started = now_ns();
        struct epoll_event e = {.events = EPOLLOUT, .data.u32 = (uint32_t)i};
        if (epoll_ctl(ep, EPOLL_CTL_ADD, c[i].fd, &e) != 0) die("epoll_ctl");
        open++;
    }
    struct epoll_event events[256];
    while (open > 0) {
        int ready = epoll_wait(ep, events, 256, 1000);
        if (ready < 0) {
            if (errno == EINTR) continue;
            die("epoll_wait");
        }
        for (int k = 0; k < ready; k++) {
            connection *x = &c[events[k].data.u32];
            if (!x->waiting) {
                const request *r = &requests[x->next % n];
                ssize_t w = send(x->fd, r->data + x->sent, r->length - x->sent, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (w < 0 && errno != EAGAIN && errno != EINTR) die("send");
                if (w > 0) x->sent += (uint32_t)w;
                if (x->sent == r->length) {
                    x->waiting = 1;
                    struct epoll_event e = {.events = EPOLLIN, .data.u32 = events[k].data.u32};
                    if (epoll_ctl(ep, EPOLL_CTL_MOD, x->fd, &e) != 0) die("epoll_ctl");
                }
                continue;
            }
            grow(&x->in, 65536);
            ssize_t got = recv(x->fd, x->in.buf + x->in.len, x->in.cap - x->in.len, MSG_DONTWAIT);
            if (got == 0) fail("the server closed a connection");
            if (got < 0) {
                if (errno == EAGAIN || errno == EINTR) continue;
                die("recv");
            }
            x->in.len += (size_t)got;
            int status;
            long whole = whole_answer(x->in.buf, x->in.len, &status, NULL, NULL);
            if (whole < 0) fail("an answer that is not HTTP/1.1 with a length or chunks");
            if (whole == 0) continue;
            double t = now_ns();
            if (done == cap) latencies = realloc(latencies, (cap *= 2) * sizeof *latencies);
            latencies[done++] = t - x->started;
            if (status >= 300) note_error(&errors, first, status, &x->in, (size_t)whole);
            consume(&x->in, (size_t)whole);
            x->waiting = 0;
            x->sent = 0;
            x->next++;
            if (t >= deadline) {
                epoll_ctl(ep, EPOLL_CTL_DEL, x->fd, NULL);
                open--;
                continue;
            }
            /* Send the next request at once: the socket has room for it almost always. */
            x->started = now_ns();
            const request *r = &requests[x->next % n];
            ssize_t w = send(x->fd, r->data, r->length, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (w < 0 && errno != EAGAIN) die("send");
            if (w > 0) x->sent = (uint32_t)w;
            struct epoll_event e = {.events = x->sent == r->length ? EPOLLIN : EPOLLOUT, .data.u32 = events[k].data.u32};
            x->waiting = x->sent == r->length;
            if (epoll_ctl(ep, EPOLL_CTL_MOD, x->fd, &e) != 0) die("epoll_ctl");
        }
    }
    double wall = now_ns() - start;
    for (int i = 0; i < count; i++) close(c[i].fd);
    report(latencies, done, wall, cpu_seconds() - cpu, errors, first, NULL, NULL, 0, NULL, NULL, 0);
}

int main(int argc, char **argv) {
    int port = 0, connections = 1, spin = 0;
    double seconds = 10;
    const char *requests_path = NULL, *pass = NULL, *paired_library = NULL, *paired_config = NULL, *stamps = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--spin") == 0) {
            spin = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "loadgen: %s needs a value\n", a);
            return 2;
        }
        if (strcmp(a, "--port") == 0) port = atoi(v);
        else if (strcmp(a, "--requests") == 0) requests_path = v;
        else if (strcmp(a, "--connections") == 0) connections = atoi(v);
        else if (strcmp(a, "--seconds") == 0) seconds = atof(v);
        else if (strcmp(a, "--pass") == 0) pass = v;
        else if (strcmp(a, "--stamps") == 0) stamps = v;
        else if (strcmp(a, "--paired") == 0) {
            if (i + 2 >= argc) {
                fprintf(stderr, "loadgen: --paired needs LIBSTRATA and CONFIG\n");
                return 2;
            }
            paired_library = v;
            paired_config = argv[++i + 1];
        }
        else {
            fprintf(stderr, "loadgen: unknown option %s (see the comment at the top of bench/loadgen.c)\n", a);
            return 2;
        }
        i++;
    }
    if (port <= 0 || port > 65535 || !requests_path || connections < 1 || seconds <= 0) {
        fprintf(stderr, "loadgen: needs --port 1..65535, --requests FILE, --connections >= 1 and --seconds > 0\n");
        return 2;
    }
    size_t n;
    request *requests = read_requests(requests_path, &n);
    if ((paired_library || stamps) && !pass) {
        fprintf(stderr, "loadgen: %s needs --pass\n", paired_library ? "--paired" : "--stamps");
        return 2;
    }
    paired_engine pair;
    if (paired_library) paired_open(&pair, paired_library, paired_config);
    if (pass) one_pass(port, requests, n, pass, spin, paired_library ? &pair : NULL, stamps);
    else load(port, requests, n, connections, seconds);
    return 0;
}
