/*
 * bench/http_floor.c: the floor of an HTTP/1.1 request on this machine, for bench/server_peers.py
 * (issue 17's "overhead per request").
 *
 * The server's overhead is its 1-connection latency minus the in-process call's. Part of that
 * is paid by any HTTP server on the machine: the client's send, the loopback, the server's
 * wake-up, one read and one write, the client's wake-up. This server does only that: one
 * thread, epoll, each request read whole (headers and a Content-Length body) and answered at
 * once with fixed bytes, no parsing beyond finding the body's end, no work. Given Strata's own
 * answer as its body and timed by bench/loadgen.c with Strata's own requests, its latency is
 * what no server could go below here, and the server's latency minus the floor minus the
 * engine call is what Strata's server itself adds.
 *
 * --work-us N keeps the thread busy N microseconds (reading the clock) before each answer, as
 * an engine call would: on a VM whose idle cores halt, a client that waits longer in recv is
 * woken later, so the floor of a request the server works on for 300 µs is not that of one it
 * answers at once. Given the in-process call's time, the floor is then what any server here
 * would take for the same work, and the server's latency minus it is what Strata adds.
 * --busy-poll-us N polls (epoll_wait with no timeout) up to N microseconds for the next request
 * after a round in which it answered, before sleeping, as `strata serve --busy-poll-us` does:
 * the floor of a server that polls, for a Strata that polls.
 * --engine LIBSTRATA CONFIG --queries QUERIES.f32 --dim D makes the work the engine call itself:
 * libstrata.so (loaded with dlopen, so the floor builds without it) opens CONFIG, and request i
 * of the process is answered after strata_engine_recall_vector(engine, "{\"k\": 10}", query
 * i mod n) (the request's own bytes are not parsed: loadgen sends the queries in file order).
 * A spin of --work-us warms nothing; the engine call is as sensitive to what runs between two
 * calls (the kernel's TCP path, the wake-ups, the caches and branch predictors they disturb) as
 * Strata's is, so this is the floor of any server making this call here, and a server's latency
 * minus it is what that server adds. Its answers then carry `Server-Timing: engine;dur=<ms>`,
 * the call's own time, as `strata serve`'s recalls do, so the client can subtract the call
 * measured in each server's own process.
 * --engine LIBSTRATA CONFIG --text makes it a recall by text instead: each request's body (a
 * whole recall request, `{"query": "...", "k": 10}`) goes to strata_engine_recall as it came,
 * the call `strata serve` makes for it (bench/server_text.py).
 *
 * --stamps STAMPS (with --engine): writes four little-endian 64-bit CLOCK_MONOTONIC nanosecond
 * counts for each request to STAMPS: its read's return, the engine call's start and end, and
 * the answer's writev's return (bench/phase_stamps.py matches them with loadgen --stamps).
 *
 *   cc -O2 -Wall -o .build/http_floor bench/http_floor.c
 *   .build/http_floor --port P --answer BODY_FILE [--work-us N] [--busy-poll-us N]
 *                     [--engine LIBSTRATA CONFIG (--queries QUERIES.f32 --dim D | --text)] [--stamps STAMPS]
 *
 * Prints "listening on PORT" (the port chosen when P is 0) and serves until SIGTERM or SIGINT;
 * with --engine it then prints "engine calls: N" (how many recalls it made) on stderr.
 * A request with Transfer-Encoding (chunked), or whose headers or body exceed 1 MiB, gets a 400
 * and its connection closed. Exits 2 on bad arguments, 1 when it cannot listen or an engine
 * call fails (the engine's message on stderr).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define MAX_REQUEST (1 << 20)

/* One connection's unread bytes. */
struct connection {
    int fd;
    char *data;
    size_t have, capacity;
};

static volatile sig_atomic_t stopping = 0;

static void on_signal(int sig) {
    (void)sig;
    stopping = 1;
}

static char *read_file(const char *path, size_t *length) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t capacity = 4096, n = 0;
    char *out = malloc(capacity);
    for (;;) {
        if (n == capacity) out = realloc(out, capacity *= 2);
        size_t got = fread(out + n, 1, capacity - n, f);
        if (got == 0) break;
        n += got;
    }
    fclose(f);
    *length = n;
    return out;
}

/* The length of the first whole request in c->data (head and body), 0 when more bytes are
 * needed, -1 when it is refused. */
static long whole_request(const struct connection *c) {
    const char *end = memmem(c->data, c->have, "\r\n\r\n", 4);
    if (!end) return c->have >= MAX_REQUEST ? -1 : 0;
    size_t head = (size_t)(end - c->data) + 4, body = 0;
    for (const char *line = c->data; line < end;) {
        const char *next = memmem(line, (size_t)(end - line) + 2, "\r\n", 2);
        size_t n = (size_t)(next - line);
        if (n > 15 && strncasecmp(line, "content-length:", 15) == 0) body = strtoul(line + 15, NULL, 10);
        if (n > 18 && strncasecmp(line, "transfer-encoding:", 18) == 0) return -1;
        line = next + 2;
    }
    if (body > MAX_REQUEST) return -1;
    return c->have >= head + body ? (long)(head + body) : 0;
}

static long microseconds_since(const struct timespec *start) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - start->tv_sec) * 1000000L + (now.tv_nsec - start->tv_nsec) / 1000;
}

/* Busy for `us` microseconds, as a call that computes would be (no sleep: the core stays awake). */
static void work(long us) {
    struct timespec start;
    clock_gettime(CLOCK_MONOTONIC, &start);
    while (microseconds_since(&start) < us) {}
}

/* A number option in 0...1000000, or -1. */
static long microseconds_option(const char *text) {
    char *end;
    long value = strtol(text, &end, 10);
    return *text && !*end && value >= 0 && value <= 1000000 ? value : -1;
}

/* The engine calls --engine makes, looked up in libstrata.so (strata.h's signatures). */
struct engine {
    void *engine;
    int (*recall_vector)(void *engine, const char *request, const float *vector, size_t dimension, char **out);
    int (*recall)(void *engine, const char *request, char **out);
    int text;
    void (*string_free)(char *text);
    const char *(*error_last)(void);
    float *queries;
    size_t count, dim, next;
};

/* Opens CONFIG through the library at PATH and reads the queries (none with --text); 0, or a
 * message on stderr. */
static int engine_open(struct engine *e, const char *library, const char *config, const char *queries) {
    void *lib = dlopen(library, RTLD_NOW);
    if (!lib) { fprintf(stderr, "http_floor: cannot load %s: %s\n", library, dlerror()); return -1; }
    int (*open_file)(void **, const char *) = (int (*)(void **, const char *))dlsym(lib, "strata_engine_open_file");
    e->recall_vector = (int (*)(void *, const char *, const float *, size_t, char **))dlsym(lib, "strata_engine_recall_vector");
    e->string_free = (void (*)(char *))dlsym(lib, "strata_string_free");
    e->recall = (int (*)(void *, const char *, char **))dlsym(lib, "strata_engine_recall");
    e->error_last = (const char *(*)(void))dlsym(lib, "strata_error_last");
    if (!open_file || !e->recall_vector || !e->recall || !e->string_free || !e->error_last) {
        fprintf(stderr, "http_floor: %s does not export strata_engine_open_file, strata_engine_recall, "
                "strata_engine_recall_vector, strata_string_free and strata_error_last\n", library);
        return -1;
    }
    if (e->text) {
        if (open_file(&e->engine, config) != 0) { fprintf(stderr, "http_floor: cannot open %s: %s\n", config, e->error_last()); return -1; }
        return 0;
    }
    size_t bytes;
    e->queries = (float *)read_file(queries, &bytes);
    if (!e->queries || bytes % (e->dim * sizeof(float)) != 0 || bytes == 0) {
        fprintf(stderr, "http_floor: %s holds no whole queries of dimension %zu\n", queries, e->dim);
        return -1;
    }
    e->count = bytes / (e->dim * sizeof(float));
    if (open_file(&e->engine, config) != 0) { fprintf(stderr, "http_floor: cannot open %s: %s\n", config, e->error_last()); return -1; }
    return 0;
}

/* The next query's recall (with --text, the recall `body` asks for), its answer dropped; 0, or
 * -1 with the engine's message on stderr. */
static int engine_work(struct engine *e, const char *body, size_t length) {
    char *out = NULL;
    if (e->text) {
        char *request = strndup(body, length);
        int status = e->recall(e->engine, request, &out);
        free(request);
        e->next++;
        if (status != 0) {
            fprintf(stderr, "http_floor: strata_engine_recall failed: %s\n", e->error_last());
            return -1;
        }
        e->string_free(out);
        return 0;
    }
    const float *query = e->queries + (e->next++ % e->count) * e->dim;
    if (e->recall_vector(e->engine, "{\"k\": 10}", query, e->dim, &out) != 0) {
        fprintf(stderr, "http_floor: strata_engine_recall_vector failed: %s\n", e->error_last());
        return -1;
    }
    e->string_free(out);
    return 0;
}

static void drop(int epoll, struct connection *c) {
    epoll_ctl(epoll, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->data);
    free(c);
}

static int64_t monotonic_ns(void) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

int main(int argc, char **argv) {
    int port = -1;
    long work_us = 0, busy_poll_us = 0;
    const char *answer_path = NULL, *library = NULL, *config = NULL, *queries = NULL, *stamps_path = NULL;
    struct engine engine = {0};
    for (int i = 1; i < argc; i++) {
        if (i + 1 >= argc && strcmp(argv[i], "--text") != 0) { fprintf(stderr, "http_floor: %s needs a value\n", argv[i]); return 2; }
        if (strcmp(argv[i], "--port") == 0) port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--engine") == 0) {
            if (i + 2 >= argc) { fprintf(stderr, "http_floor: --engine needs LIBSTRATA and CONFIG\n"); return 2; }
            library = argv[++i];
            config = argv[++i];
        } else if (strcmp(argv[i], "--queries") == 0) queries = argv[++i];
        else if (strcmp(argv[i], "--text") == 0) {
            engine.text = 1;
            continue;
        } else if (strcmp(argv[i], "--dim") == 0) engine.dim = (size_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--answer") == 0) answer_path = argv[++i];
        else if (strcmp(argv[i], "--stamps") == 0) stamps_path = argv[++i];
        else if (strcmp(argv[i], "--work-us") == 0) {
            if ((work_us = microseconds_option(argv[++i])) < 0) { fprintf(stderr, "http_floor: --work-us must be in 0...1000000\n"); return 2; }
        } else if (strcmp(argv[i], "--busy-poll-us") == 0) {
            if ((busy_poll_us = microseconds_option(argv[++i])) < 0) {
                fprintf(stderr, "http_floor: --busy-poll-us must be in 0...1000000\n");
                return 2;
            }
        }
        else { fprintf(stderr, "http_floor: unknown option %s\n", argv[i]); return 2; }
    }
    if (port < 0 || port > 65535 || !answer_path) {
        fprintf(stderr, "usage: http_floor --port P --answer BODY_FILE [--work-us N] [--busy-poll-us N] "
                "[--engine LIBSTRATA CONFIG (--queries QUERIES.f32 --dim D | --text)] [--stamps STAMPS]\n");
        return 2;
    }
    if (stamps_path && !library) {
        fprintf(stderr, "http_floor: --stamps needs --engine\n");
        return 2;
    }
    FILE *stamps = stamps_path ? fopen(stamps_path, "wb") : NULL;
    if (stamps_path && !stamps) { perror(stamps_path); return 1; }
    if (engine.text && (!library || queries)) {
        fprintf(stderr, "http_floor: --text needs --engine, and takes no --queries\n");
        return 2;
    }
    if (library && !engine.text && (!queries || engine.dim == 0)) {
        fprintf(stderr, "http_floor: --engine needs --queries and --dim (a positive dimension), or --text\n");
        return 2;
    }
    if (library && engine_open(&engine, library, config, queries) != 0) return 2;
    size_t body_length;
    char *body = read_file(answer_path, &body_length);
    if (!body) { fprintf(stderr, "http_floor: cannot read %s: %s\n", answer_path, strerror(errno)); return 2; }
    char head[160];
    int head_length = snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                               body_length);
    static const char refusal[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";

    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t address_length = sizeof address;
    if (bind(listener, (struct sockaddr *)&address, sizeof address) != 0 || listen(listener, 256) != 0
        || getsockname(listener, (struct sockaddr *)&address, &address_length) != 0) {
        fprintf(stderr, "http_floor: cannot listen on 127.0.0.1:%d: %s\n", port, strerror(errno));
        return 1;
    }
    int epoll = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event event = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(epoll, EPOLL_CTL_ADD, listener, &event);
    printf("listening on %d\n", ntohs(address.sin_port));
    fflush(stdout);

    int answered = 0;
    while (!stopping) {
        struct epoll_event ready[64];
        int n = 0;
        if (answered && busy_poll_us > 0) {
            struct timespec start;
            clock_gettime(CLOCK_MONOTONIC, &start);
            do n = epoll_wait(epoll, ready, 64, 0);
            while (n == 0 && microseconds_since(&start) < busy_poll_us);
        }
        answered = 0;
        if (n == 0) n = epoll_wait(epoll, ready, 64, -1);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("http_floor: epoll_wait");
            return 1;
        }
        for (int i = 0; i < n; i++) {
            struct connection *c = ready[i].data.ptr;
            if (!c) {
                int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
                if (fd < 0) continue;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                c = calloc(1, sizeof *c);
                c->fd = fd;
                c->capacity = 16384;
                c->data = malloc(c->capacity);
                struct epoll_event e = {.events = EPOLLIN, .data.ptr = c};
                epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &e);
                continue;
            }
            if (c->have == c->capacity) c->data = realloc(c->data, c->capacity *= 2);
            ssize_t got = read(c->fd, c->data + c->have, c->capacity - c->have);
            int64_t read_at = stamps ? monotonic_ns() : 0;
            if (got <= 0) {
                if (got < 0 && (errno == EAGAIN || errno == EINTR)) continue;
                drop(epoll, c);
                continue;
            }
            c->have += (size_t)got;
            long length;
            while ((length = whole_request(c)) != 0) {
                if (length < 0) {
                    (void)!write(c->fd, refusal, sizeof refusal - 1);
                    drop(epoll, c);
                    break;
                }
                if (work_us > 0) work(work_us);
                struct iovec answer[2] = {{head, (size_t)head_length}, {body, body_length}};
                char timed_head[224];
                int64_t call[2] = {0, 0};
                if (library) {
                    struct timespec start, end;
                    clock_gettime(CLOCK_MONOTONIC, &start);
                    const char *request_body = (const char *)memmem(c->data, (size_t)length, "\r\n\r\n", 4) + 4;
                    if (engine_work(&engine, request_body, (size_t)length - (size_t)(request_body - c->data)) != 0) return 1;
                    clock_gettime(CLOCK_MONOTONIC, &end);
                    call[0] = (int64_t)start.tv_sec * 1000000000 + start.tv_nsec;
                    call[1] = (int64_t)end.tv_sec * 1000000000 + end.tv_nsec;
                    long ns = (end.tv_sec - start.tv_sec) * 1000000000L + (end.tv_nsec - start.tv_nsec);
                    long us = (ns + 500) / 1000;
                    int n = snprintf(timed_head, sizeof timed_head,
                                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                                     "Server-Timing: engine;dur=%ld.%03ld\r\n\r\n", body_length, us / 1000, us % 1000);
                    answer[0] = (struct iovec){timed_head, (size_t)n};
                }
                (void)!writev(c->fd, answer, 2);
                if (stamps) {
                    int64_t steps[4] = {read_at, call[0], call[1], monotonic_ns()};
                    fwrite(steps, sizeof steps, 1, stamps);
                }
                answered = 1;
                memmove(c->data, c->data + length, c->have - (size_t)length);
                c->have -= (size_t)length;
            }
        }
    }
    close(listener);
    if (stamps && fclose(stamps) != 0) { perror(stamps_path); return 1; }
    free(body);
    if (library) fprintf(stderr, "engine calls: %zu\n", engine.next);
    return 0;
}
