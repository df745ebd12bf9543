/* streamload: N concurrent streaming requests on N connections, for keepwarm's benchmark.
 *
 * Opens N connections to HOST:PORT (at most --connecting at a time, so no listen backlog
 * overflows), then sends one POST per connection, spread evenly over --ramp milliseconds, and
 * reads every answer as it streams: HTTP/1.1 status and headers, chunked or sized body, and the
 * body's lines. In --mode sse a token is a "data: " event whose "content" is not empty and the
 * stream must end with "data: [DONE]"; in --mode ndjson a token is an NDJSON line whose
 * "content" is not empty and the stream must end with a line holding "done":true; in --mode
 * messages (Anthropic's /v1/messages) a token is a "data: " event whose "text" or "thinking" is
 * not empty and the stream must end with message_stop; in --mode responses (/v1/responses) a
 * token is a "data: " event whose "delta" is not empty and the stream must end with
 * response.completed. A stream is
 * an error unless its status is 200, it ends properly, and (with --tokens) it carried exactly
 * that many tokens.
 *
 * Time to first token is measured per stream from the moment its request was written to the
 * moment the first token's bytes were read. One summary line of key=value pairs goes to stdout;
 * error reasons (counted) go to stderr. Linux only (epoll). No dependencies. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum state { S_NEW, S_CONNECTING, S_IDLE, S_SENDING, S_HEAD, S_BODY, S_DONE, S_FAILED };
enum body_kind { B_CHUNKED, B_LENGTH, B_EOF };
enum chunk_state { C_SIZE, C_SIZE_LF, C_DATA, C_DATA_CR, C_DATA_LF, C_TRAILER };

#define HEAD_MAX     8192
#define LINE_MAX_LEN (256 * 1024)

struct conn {
    int fd;
    enum state st;
    size_t sent;
    int64_t t_send, t_first, t_end;
    int tokens;
    int ended; /* [DONE] or "done":true seen */
    int errored_in_band;
    /* response head */
    char *head;
    size_t head_len;
    int status;
    enum body_kind bk;
    long long remaining; /* B_LENGTH bytes, or bytes left in the current chunk */
    enum chunk_state cs;
    int trailer_nl; /* consecutive line ends seen in the trailer */
    /* partial line carried between reads */
    char *line;
    size_t line_len;
};

static const char *opt_host = "127.0.0.1";
static int opt_port;
static const char *opt_path = "/v1/chat/completions";
static char *body;
static size_t body_len;
static int opt_n = 100;
static int opt_sse = 1;
static int opt_messages;  /* --mode messages: SSE with Anthropic's events */
static int opt_responses; /* --mode responses: SSE with the Responses API's events */
static int opt_tokens = -1;
static int opt_ramp_ms = 1000;
static int opt_timeout_s = 120;
static int opt_connecting = 32;
static const char *opt_ttft_out;

static char *request;
static size_t request_len;
static struct conn *conns;
static int epfd;

/* outcome counters */
static int n_ok, n_failed, active, peak_active;
static long long total_tokens;
#define MAX_REASONS 16
static struct {
    const char *what;
    int count;
} reasons[MAX_REASONS];

static int64_t now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void note_reason(const char *what) {
    for (int i = 0; i < MAX_REASONS; i++) {
        if (!reasons[i].what) {
            reasons[i].what = what;
            reasons[i].count = 1;
            return;
        }
        if (strcmp(reasons[i].what, what) == 0) {
            reasons[i].count++;
            return;
        }
    }
}

static void finish(struct conn *c, const char *error) {
    if (c->st == S_DONE || c->st == S_FAILED)
        return;
    if (c->st == S_SENDING || c->st == S_HEAD || c->st == S_BODY)
        active--;
    c->t_end = now_us();
    if (!error && !c->ended)
        error = opt_messages    ? "stream ended without message_stop"
                : opt_responses ? "stream ended without response.completed"
                : opt_sse       ? "stream ended without data: [DONE]"
                                : "stream ended without done:true";
    if (!error && c->errored_in_band)
        error = "error in the stream";
    if (!error && opt_tokens >= 0 && c->tokens != opt_tokens)
        error = "wrong number of tokens";
    if (error) {
        c->st = S_FAILED;
        n_failed++;
        note_reason(error);
    } else {
        c->st = S_DONE;
        n_ok++;
    }
    total_tokens += c->tokens;
    if (c->fd >= 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
    free(c->head);
    free(c->line);
    c->head = c->line = NULL;
}

/* A token is a line whose "content" string (messages: "text" or "thinking") is not empty. */
static int has_key(const char *p, size_t n, const char *key, size_t kl) {
    const char *end = p + n;
    while (p < end) {
        const char *hit = memmem(p, (size_t)(end - p), key, kl);
        if (!hit)
            return 0;
        if (hit + kl < end && hit[kl] != '"')
            return 1;
        p = hit + kl;
    }
    return 0;
}

#define HAS(p, n, lit) has_key((p), (n), (lit), sizeof(lit) - 1)

static int has_content(const char *p, size_t n) {
    if (opt_messages)
        return HAS(p, n, "\"text\":\"") || HAS(p, n, "\"thinking\":\"");
    if (opt_responses) /* output_text, reasoning summary and call-argument deltas */
        return HAS(p, n, "\"delta\":\"");
    return HAS(p, n, "\"content\":\"");
}

static void on_line(struct conn *c, const char *p, size_t n) {
    if (n && p[n - 1] == '\r')
        n--;
    if (opt_sse) {
        if (n < 6 || memcmp(p, "data: ", 6) != 0)
            return; /* blank separator or ": comment" */
        p += 6;
        n -= 6;
        if (n == 6 && memcmp(p, "[DONE]", 6) == 0) {
            c->ended = 1;
            return;
        }
        if (opt_messages && n >= 22 && memcmp(p, "{\"type\":\"message_stop\"", 22) == 0) {
            c->ended = 1;
            return;
        }
        if (opt_messages && n >= 16 && memcmp(p, "{\"type\":\"error\"", 16) == 0)
            c->errored_in_band = 1;
        if (opt_responses && memmem(p, n, "\"type\":\"response.completed\"", 27)) {
            c->ended = 1;
            return;
        }
        if (opt_responses && memmem(p, n, "\"type\":\"error\"", 14))
            c->errored_in_band = 1;
        if (n >= 9 && memcmp(p, "{\"error\"", 8) == 0)
            c->errored_in_band = 1;
    } else {
        if (n >= 9 && memcmp(p, "{\"error\"", 8) == 0)
            c->errored_in_band = 1;
        if (memmem(p, n, "\"done\":true", 11))
            c->ended = 1;
    }
    if (has_content(p, n)) {
        if (!c->tokens)
            c->t_first = now_us();
        c->tokens++;
    }
}

static int body_bytes(struct conn *c, const char *p, size_t n) {
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t take = nl ? (size_t)(nl - p) : n;
        if (c->line_len || !nl) {
            if (c->line_len + take > LINE_MAX_LEN)
                return -1;
            char *grown = realloc(c->line, c->line_len + take + 1);
            if (!grown)
                return -1;
            c->line = grown;
            memcpy(c->line + c->line_len, p, take);
            c->line_len += take;
            if (nl) {
                on_line(c, c->line, c->line_len);
                c->line_len = 0;
            }
        } else {
            on_line(c, p, take);
        }
        if (!nl)
            break;
        p += take + 1;
        n -= take + 1;
    }
    return 0;
}

static int hexval(char ch) {
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Returns 1 when the body is complete, 0 for more, -1 on a framing error. */
static int body_in(struct conn *c, const char *p, size_t n) {
    if (c->bk == B_EOF)
        return body_bytes(c, p, n) < 0 ? -1 : 0;
    if (c->bk == B_LENGTH) {
        size_t take = (long long)n < c->remaining ? n : (size_t)c->remaining;
        if (body_bytes(c, p, take) < 0)
            return -1;
        c->remaining -= (long long)take;
        return c->remaining == 0;
    }
    while (n) {
        switch (c->cs) {
            case C_SIZE: {
                int v = hexval(*p);
                if (v >= 0) {
                    c->remaining = c->remaining * 16 + v;
                    if (c->remaining > (1LL << 40))
                        return -1;
                } else if (*p == '\r') {
                    c->cs = C_SIZE_LF;
                } else if (*p == ';') {
                    c->cs = C_SIZE_LF; /* extensions: skip to the LF */
                } else {
                    return -1;
                }
                p++, n--;
                break;
            }
            case C_SIZE_LF:
                if (*p == '\n') {
                    if (c->remaining == 0) {
                        c->cs = C_TRAILER;
                        c->trailer_nl = 1;
                    } else {
                        c->cs = C_DATA;
                    }
                }
                p++, n--;
                break;
            case C_DATA: {
                size_t take = (long long)n < c->remaining ? n : (size_t)c->remaining;
                if (body_bytes(c, p, take) < 0)
                    return -1;
                c->remaining -= (long long)take;
                p += take, n -= take;
                if (c->remaining == 0)
                    c->cs = C_DATA_CR;
                break;
            }
            case C_DATA_CR:
                if (*p != '\r')
                    return -1;
                c->cs = C_DATA_LF;
                p++, n--;
                break;
            case C_DATA_LF:
                if (*p != '\n')
                    return -1;
                c->cs = C_SIZE;
                c->remaining = 0;
                p++, n--;
                break;
            case C_TRAILER:
                if (*p == '\n') {
                    if (c->trailer_nl)
                        return 1;
                    c->trailer_nl = 1;
                } else if (*p != '\r') {
                    c->trailer_nl = 0;
                }
                p++, n--;
                break;
        }
    }
    return 0;
}

static int parse_head(struct conn *c) {
    c->head[c->head_len] = '\0';
    if (sscanf(c->head, "HTTP/1.%*d %d", &c->status) != 1)
        return -1;
    c->bk = B_EOF;
    for (char *l = strstr(c->head, "\r\n"); l && l[2] != '\r'; l = strstr(l + 2, "\r\n")) {
        char *h = l + 2;
        if (strncasecmp(h, "transfer-encoding:", 18) == 0 && strcasestr(h, "chunked") &&
            strcasestr(h, "chunked") < strstr(h, "\r\n")) {
            c->bk = B_CHUNKED;
            c->cs = C_SIZE;
            c->remaining = 0;
        } else if (strncasecmp(h, "content-length:", 15) == 0 && c->bk != B_CHUNKED) {
            c->bk = B_LENGTH;
            c->remaining = atoll(h + 15);
        }
    }
    return 0;
}

static void on_readable(struct conn *c) {
    char buf[65536];
    for (;;) {
        ssize_t r = read(c->fd, buf, sizeof(buf));
        if (r < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EINTR)
                continue;
            finish(c, "read error");
            return;
        }
        if (r == 0) {
            if (c->st == S_BODY && c->bk == B_EOF)
                finish(c, NULL);
            else
                finish(c, c->st == S_HEAD ? "connection closed before the answer"
                                          : "connection closed mid-answer");
            return;
        }
        const char *p = buf;
        size_t n = (size_t)r;
        if (c->st == S_HEAD) {
            size_t room = HEAD_MAX - 1 - c->head_len;
            size_t take = n < room ? n : room;
            memcpy(c->head + c->head_len, p, take);
            size_t old = c->head_len;
            c->head_len += take;
            c->head[c->head_len] = '\0';
            char *end = strstr(c->head, "\r\n\r\n");
            if (!end) {
                if (c->head_len == HEAD_MAX - 1) {
                    finish(c, "response head too large");
                    return;
                }
                continue;
            }
            size_t head_end = (size_t)(end - c->head) + 4;
            if (parse_head(c) < 0) {
                finish(c, "bad status line");
                return;
            }
            if (c->status != 200) {
                static char msgs[8][32];
                static int nmsgs;
                char m[32];
                snprintf(m, sizeof(m), "HTTP status %d", c->status);
                const char *w = NULL;
                for (int i = 0; i < nmsgs; i++)
                    if (strcmp(msgs[i], m) == 0)
                        w = msgs[i];
                if (!w && nmsgs < 8) {
                    snprintf(msgs[nmsgs], sizeof(msgs[0]), "%s", m);
                    w = msgs[nmsgs++];
                    /* the first answer with this status: show what the server said */
                    size_t bl = c->head_len - head_end;
                    fprintf(stderr, "streamload: first %s answer: %.*s\n", m,
                            (int)(bl > 400 ? 400 : bl), c->head + head_end);
                }
                finish(c, w ? w : "HTTP status not 200");
                return;
            }
            c->st = S_BODY;
            p += head_end - old;
            n -= head_end - old;
        }
        if (n) {
            int rc = body_in(c, p, n);
            if (rc < 0) {
                finish(c, "bad body framing");
                return;
            }
            if (rc == 1) {
                finish(c, NULL);
                return;
            }
        }
    }
}

static void on_writable(struct conn *c) {
    while (c->sent < request_len) {
        ssize_t w = write(c->fd, request + c->sent, request_len - c->sent);
        if (w < 0) {
            if (errno == EAGAIN)
                return;
            if (errno == EINTR)
                continue;
            finish(c, "write error");
            return;
        }
        c->sent += (size_t)w;
    }
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->st = S_HEAD;
}

static void send_request(struct conn *c) {
    c->head = malloc(HEAD_MAX);
    if (!c->head) {
        finish(c, "out of memory");
        return;
    }
    c->st = S_SENDING;
    active++;
    if (active > peak_active)
        peak_active = active;
    c->t_send = now_us();
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) < 0) {
        finish(c, "epoll_ctl");
        return;
    }
    on_writable(c);
}

static int start_connect(struct conn *c, const struct sockaddr_in *sa) {
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        finish(c, errno == EMFILE || errno == ENFILE ? "socket: too many open files" : "socket");
        return -1;
    }
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    c->st = S_CONNECTING;
    if (connect(c->fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 && errno != EINPROGRESS) {
        finish(c, "connect");
        return -1;
    }
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev) < 0) {
        finish(c, "epoll_ctl");
        return -1;
    }
    return 0;
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static int64_t pct(const int64_t *v, size_t n, double p) {
    if (!n)
        return -1;
    size_t i = (size_t)(p / 100.0 * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

static void usage(void) {
    fprintf(stderr, "usage: streamload -p PORT [-H HOST] [-P PATH] -b BODYFILE [-n STREAMS] [-m "
                    "sse|ndjson|messages|responses]\n"
                    "                  [-t TOKENS] [-r RAMP_MS] [-T TIMEOUT_S] [-c CONNECTING]"
                    " [-o TTFT_FILE]\n");
    exit(2);
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n + 4096 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *g = realloc(buf, cap);
            if (!g) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = g;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
        n--;
    *len = n;
    return buf;
}

int main(int argc, char **argv) {
    int ch;
    while ((ch = getopt(argc, argv, "H:p:P:b:n:m:t:r:T:c:o:")) != -1) {
        switch (ch) {
            case 'H':
                opt_host = optarg;
                break;
            case 'p':
                opt_port = atoi(optarg);
                break;
            case 'P':
                opt_path = optarg;
                break;
            case 'b':
                if (!(body = read_file(optarg, &body_len))) {
                    perror(optarg);
                    return 2;
                }
                break;
            case 'n':
                opt_n = atoi(optarg);
                break;
            case 'm':
                opt_messages = strcmp(optarg, "messages") == 0;
                opt_responses = strcmp(optarg, "responses") == 0;
                opt_sse = strcmp(optarg, "sse") == 0 || opt_messages || opt_responses;
                break;
            case 't':
                opt_tokens = atoi(optarg);
                break;
            case 'r':
                opt_ramp_ms = atoi(optarg);
                break;
            case 'T':
                opt_timeout_s = atoi(optarg);
                break;
            case 'c':
                opt_connecting = atoi(optarg);
                break;
            case 'o':
                opt_ttft_out = optarg;
                break;
            default:
                usage();
        }
    }
    if (!opt_port || !body || opt_n <= 0 || opt_connecting <= 0)
        usage();

    /* One descriptor per stream, plus a few. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)opt_n + 64) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
        if (rl.rlim_cur < (rlim_t)opt_n + 64)
            fprintf(stderr, "streamload: open files limit %llu is below %d streams\n",
                    (unsigned long long)rl.rlim_cur, opt_n);
    }

    request_len = (size_t)asprintf(
        &request,
        "POST %s HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: "
        "application/json\r\nAccept: %s\r\nContent-Length: %zu\r\n\r\n%.*s",
        opt_path, opt_host, opt_port, opt_sse ? "text/event-stream" : "application/x-ndjson",
        body_len, (int)body_len, body);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)opt_port)};
    if (inet_pton(AF_INET, opt_host, &sa.sin_addr) != 1) {
        fprintf(stderr, "streamload: -H wants an IPv4 address\n");
        return 2;
    }
    conns = calloc((size_t)opt_n, sizeof(*conns));
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!conns || epfd < 0)
        return 1;
    for (int i = 0; i < opt_n; i++)
        conns[i].fd = -1;

    int64_t t0 = now_us(), deadline = t0 + (int64_t)opt_timeout_s * 1000000;
    struct epoll_event evs[1024];

    /* Phase 1: connect everyone, a bounded number at a time. */
    int next = 0, connecting = 0, connected = 0, failed_connect = 0;
    while (connected + failed_connect < opt_n && now_us() < deadline) {
        /* Batches of --connecting, a pause between them: a client cannot see when the server
         * accepted, and a full accept queue (evhttp listens with a backlog of 128) drops SYNs,
         * which costs a one-second retransmit. */
        if (next < opt_n && connecting == 0) {
            if (next)
                usleep(1000);
            for (int b = 0; b < opt_connecting && next < opt_n; b++, next++) {
                if (start_connect(&conns[next], &sa) == 0)
                    connecting++;
                else
                    failed_connect++;
            }
        }
        int k = epoll_wait(epfd, evs, 1024, 100);
        for (int i = 0; i < k; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->st == S_IDLE && (evs[i].events & (EPOLLHUP | EPOLLERR)))
                finish(c, "connection closed while idle");
            if (c->st != S_CONNECTING)
                continue;
            int err = 0;
            socklen_t el = sizeof(err);
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
            connecting--;
            if (err) {
                finish(c, "connect failed");
                failed_connect++;
                continue;
            }
            c->st = S_IDLE;
            struct epoll_event ev = {.events = 0, .data.ptr = c};
            epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
            connected++;
        }
    }
    int64_t t_connected = now_us();

    /* Phase 2: send the requests spread over the ramp, and read every stream to its end. */
    int64_t t_start = now_us();
    int sent = 0;
    while (n_ok + n_failed < opt_n) {
        int64_t now = now_us();
        if (now >= deadline)
            break;
        while (sent < opt_n) {
            int64_t due = t_start + (int64_t)opt_ramp_ms * 1000 * sent / opt_n;
            if (due > now)
                break;
            struct conn *c = &conns[sent++];
            if (c->st == S_IDLE)
                send_request(c);
        }
        int wait_ms = sent < opt_n ? 1 : 100;
        int k = epoll_wait(epfd, evs, 1024, wait_ms);
        for (int i = 0; i < k; i++) {
            struct conn *c = evs[i].data.ptr;
            if (c->st == S_IDLE && (evs[i].events & (EPOLLHUP | EPOLLERR))) {
                finish(c, "connection closed while idle");
                continue;
            }
            if (c->st == S_SENDING && (evs[i].events & EPOLLOUT))
                on_writable(c);
            if ((c->st == S_HEAD || c->st == S_BODY || c->st == S_SENDING) &&
                (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                on_readable(c);
        }
    }
    int timed_out = 0;
    for (int i = 0; i < opt_n; i++) {
        if (conns[i].st != S_DONE && conns[i].st != S_FAILED) {
            timed_out++;
            finish(&conns[i], "timed out");
        }
    }
    int64_t t_end = now_us();

    int64_t *ttft = malloc(sizeof(int64_t) * (size_t)opt_n);
    size_t nt = 0;
    for (int i = 0; i < opt_n; i++)
        if (conns[i].st == S_DONE && conns[i].t_first)
            ttft[nt++] = conns[i].t_first - conns[i].t_send;
    qsort(ttft, nt, sizeof(ttft[0]), cmp_i64);
    if (opt_ttft_out) {
        FILE *f = fopen(opt_ttft_out, "w");
        for (size_t i = 0; f && i < nt; i++)
            fprintf(f, "%lld\n", (long long)ttft[i]);
        if (f)
            fclose(f);
    }
    printf("streams=%d ok=%d errors=%d timed_out=%d tokens=%lld peak_active=%d connect_s=%.3f "
           "run_s=%.3f ttft_p50_us=%lld ttft_p90_us=%lld ttft_p99_us=%lld ttft_max_us=%lld\n",
           opt_n, n_ok, n_failed, timed_out, total_tokens, peak_active,
           (double)(t_connected - t0) / 1e6, (double)(t_end - t_start) / 1e6,
           (long long)pct(ttft, nt, 50), (long long)pct(ttft, nt, 90), (long long)pct(ttft, nt, 99),
           (long long)(nt ? ttft[nt - 1] : -1));
    for (int i = 0; i < MAX_REASONS && reasons[i].what; i++)
        fprintf(stderr, "streamload: %d x %s\n", reasons[i].count, reasons[i].what);
    free(ttft);
    return n_failed ? 1 : 0;
}
