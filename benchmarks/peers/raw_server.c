/* The raw-socket limit: a minimal single-threaded epoll server writing the
 * contract's pre-formatted bench events (HTTP/1.1 chunked, keep-alive).
 * One write() per event, or with --join all events that are ready at once in
 * one write(). Paced streams are scheduled at absolute times (start + i*20ms).
 *
 * With --openai it is the gateway benchmarks' fake upstream instead: any
 * request (POST /v1/chat/completions from liveai, or the GET a pass-through
 * proxy forwards) gets an OpenAI chat-completions stream, byte for byte the
 * shape api.openai.com sends: a role chunk, one chunk per 4-8-byte delta
 * (256 as fast as possible, or 64 paced 20 ms apart when the request names
 * "paced"), a finish chunk, a usage chunk and [DONE], one write each.
 * usage: raw_server PORT [--join | --openai] */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BURST 256
#define PACED 64
#define PACE_NS 20000000LL

static const char* words[] = {" the", " stream", " token", " flows", " fast", " and", " clear", " over"};
static char* events[BURST + 1][2]; /* [i][0] = chunk i, [BURST][kind] = complete for burst/paced */
static size_t event_len[BURST + 1][2];
static char* complete[2];
static size_t complete_len[2];
static int join;
static int openai;

typedef struct conn {
    int fd;
    char in[8192];
    size_t in_len;
    int streaming; /* 0: reading a request, 1: burst, 2: paced */
    int next;      /* next chunk index */
    long long start_ns;
    char* out;     /* unsent bytes */
    size_t out_len, out_off, out_cap;
    int heap_pos;  /* position in the timer heap, -1 if none */
    long long due;
} conn;

static conn** heap;
static int heap_size, heap_cap;

static long long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void heap_swap(int a, int b)
{
    conn* t = heap[a];
    heap[a] = heap[b];
    heap[b] = t;
    heap[a]->heap_pos = a;
    heap[b]->heap_pos = b;
}
static void heap_up(int i)
{
    while (i > 0 && heap[(i - 1) / 2]->due > heap[i]->due) {
        heap_swap(i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}
static void heap_down(int i)
{
    for (;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < heap_size && heap[l]->due < heap[m]->due) m = l;
        if (r < heap_size && heap[r]->due < heap[m]->due) m = r;
        if (m == i) return;
        heap_swap(i, m);
        i = m;
    }
}
static void heap_push(conn* c)
{
    if (heap_size == heap_cap) {
        heap_cap = heap_cap ? heap_cap * 2 : 1024;
        heap = realloc(heap, sizeof(conn*) * heap_cap);
    }
    heap[heap_size] = c;
    c->heap_pos = heap_size++;
    heap_up(c->heap_pos);
}
static void heap_remove(conn* c)
{
    int i = c->heap_pos;
    if (i < 0) return;
    heap_swap(i, --heap_size);
    c->heap_pos = -1;
    if (i < heap_size) {
        heap_down(i);
        heap_up(i);
    }
}

static char* framed(const char* text, size_t* len)
{
    char* out = malloc(strlen(text) + 32);
    *len = (size_t)sprintf(out, "%zx\r\n%s\r\n", strlen(text), text);
    return out;
}

static const char openai_head[] =
    "{\"id\":\"chatcmpl-bench\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,"
    "\"model\":\"gpt-4o-mini-2024-07-18\",\"system_fingerprint\":\"fp_bench\",\"choices\":[";
static char* openai_role;
static size_t openai_role_len;

static void prepare_openai(void)
{
    char buf[1024];
    for (int i = 0; i < BURST; ++i) {
        snprintf(buf, sizeof buf, "data: %s{\"index\":0,\"delta\":{\"content\":\"%s\"},\"logprobs\":null,\"finish_reason\":null}]}\n\n",
                 openai_head, words[i % 8]);
        events[i][0] = framed(buf, &event_len[i][0]);
    }
    snprintf(buf, sizeof buf, "data: %s{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\",\"refusal\":null},\"logprobs\":null,\"finish_reason\":null}]}\n\n", openai_head);
    openai_role = framed(buf, &openai_role_len);
    for (int k = 0; k < 2; ++k) {
        int n = k ? PACED : BURST;
        char* parts[3];
        size_t lens[3];
        snprintf(buf, sizeof buf, "data: %s{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}]}\n\n", openai_head);
        parts[0] = framed(buf, &lens[0]);
        snprintf(buf, sizeof buf, "data: %s],\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":%d,\"total_tokens\":%d}}\n\n",
                 openai_head, n, n + 9);
        parts[1] = framed(buf, &lens[1]);
        parts[2] = framed("data: [DONE]\n\n", &lens[2]);
        complete_len[k] = lens[0] + lens[1] + lens[2] + 5;
        complete[k] = malloc(complete_len[k]);
        size_t at = 0;
        for (int j = 0; j < 3; ++j) {
            memcpy(complete[k] + at, parts[j], lens[j]);
            at += lens[j];
            free(parts[j]);
        }
        memcpy(complete[k] + at, "0\r\n\r\n", 5);
    }
}

static void prepare(void)
{
    char buf[512];
    if (openai) return prepare_openai();
    for (int i = 0; i < BURST; ++i) {
        snprintf(buf, sizeof buf, "id: 00000000000000ff.%d\nevent: chunk\ndata: {\"index\":%d,\"text\":\"%s\"}\n\n", i + 1, i, words[i % 8]);
        events[i][0] = framed(buf, &event_len[i][0]);
    }
    for (int k = 0; k < 2; ++k) {
        int n = k ? PACED : BURST;
        snprintf(buf, sizeof buf,
                 "id: 00000000000000ff.%d\nevent: complete\ndata: {\"finish_reason\":\"stop\",\"usage\":{\"input_tokens\":1,\"output_tokens\":%d},\"chunks\":%d}\n\n",
                 n + 1, n, n);
        char* c = framed(buf, &complete_len[k]);
        complete[k] = malloc(complete_len[k] + 5);
        memcpy(complete[k], c, complete_len[k]);
        memcpy(complete[k] + complete_len[k], "0\r\n\r\n", 5);
        complete_len[k] += 5;
        free(c);
    }
}

static void close_conn(int ep, conn* c)
{
    heap_remove(c);
    epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    free(c->out);
    free(c);
}

/* Queues bytes behind unsent ones, or writes them now. Returns -1 when the peer is gone. */
static int send_bytes(int ep, conn* c, const char* data, size_t len)
{
    if (c->out_len == c->out_off) {
        ssize_t n = write(c->fd, data, len);
        if (n < 0 && errno != EAGAIN) return -1;
        if (n < 0) n = 0;
        if ((size_t)n == len) return 0;
        data += n;
        len -= (size_t)n;
        c->out_len = c->out_off = 0;
        struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
    }
    if (c->out_len + len > c->out_cap) {
        c->out_cap = (c->out_len + len) * 2;
        c->out = realloc(c->out, c->out_cap);
    }
    memcpy(c->out + c->out_len, data, len);
    c->out_len += len;
    return 0;
}

static const char head[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-cache\r\n"
    "X-Accel-Buffering: no\r\nTransfer-Encoding: chunked\r\n\r\n";
static const char openai_http_head[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\nCache-Control: no-cache\r\n"
    "Transfer-Encoding: chunked\r\n\r\n";
static char retry_frame[64];
static size_t retry_len;

/* What opens a stream: the HTTP head and the retry field, or OpenAI's role chunk. */
static int send_opening(int ep, conn* c)
{
    if (openai)
        return send_bytes(ep, c, openai_http_head, sizeof openai_http_head - 1) ||
               send_bytes(ep, c, openai_role, openai_role_len);
    return send_bytes(ep, c, head, sizeof head - 1) || send_bytes(ep, c, retry_frame, retry_len);
}

static int run_burst(int ep, conn* c)
{
    if (join) {
        static char* all;
        static size_t all_len;
        if (!all) {
            size_t total = sizeof head - 1 + retry_len + complete_len[0];
            for (int i = 0; i < BURST; ++i) total += event_len[i][0];
            all = malloc(total);
            memcpy(all, head, sizeof head - 1);
            all_len = sizeof head - 1;
            memcpy(all + all_len, retry_frame, retry_len);
            all_len += retry_len;
            for (int i = 0; i < BURST; ++i) {
                memcpy(all + all_len, events[i][0], event_len[i][0]);
                all_len += event_len[i][0];
            }
            memcpy(all + all_len, complete[0], complete_len[0]);
            all_len += complete_len[0];
        }
        return send_bytes(ep, c, all, all_len);
    }
    if (send_opening(ep, c)) return -1;
    for (int i = 0; i < BURST; ++i)
        if (send_bytes(ep, c, events[i][0], event_len[i][0])) return -1;
    return send_bytes(ep, c, complete[0], complete_len[0]);
}

/* A burst is written at once; a paced stream is scheduled from now on. */
static void start_stream(int ep, conn* c, int paced)
{
    if (!paced) {
        if (run_burst(ep, c)) close_conn(ep, c);
        return;
    }
    c->streaming = 2;
    c->next = 0;
    c->start_ns = now_ns();
    if (send_opening(ep, c)) {
        close_conn(ep, c);
        return;
    }
    c->due = c->start_ns;
    heap_push(c);
}

static void on_request(int ep, conn* c)
{
    char* end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
    if (!end) return;
    size_t head_len = (size_t)(end - c->in) + 4;
    if (openai) {
        /* Wait for the whole body, then pick the stream by what the request names. */
        char* cl = strcasestr(c->in, "content-length:");
        size_t body = cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0;
        if (c->in_len < head_len + body) return;
        int paced = memmem(c->in, head_len + body, "paced", 5) != NULL;
        memmove(c->in, c->in + head_len + body, c->in_len - head_len - body);
        c->in_len -= head_len + body;
        start_stream(ep, c, paced);
        return;
    }
    if (!strncmp(c->in, "POST /api/ai-block/", 19)) {
        char* cl = strcasestr(c->in, "content-length:");
        size_t body = cl ? strtoul(cl + 15, NULL, 10) : 0;
        if (c->in_len < head_len + body) return;
        static char resp[4096];
        static size_t resp_len;
        if (!resp_len) {
            char text[2048] = "";
            for (int i = 0; i < BURST; ++i) strcat(text, words[i % 8]);
            char json[3000];
            int n = snprintf(json, sizeof json,
                             "{\"block_type\":\"bench-burst\",\"text\":\"%s\",\"finish_reason\":\"stop\",\"usage\":{\"input_tokens\":1,\"output_tokens\":%d}}",
                             text, BURST);
            resp_len = (size_t)snprintf(resp, sizeof resp, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", n, json);
        }
        memmove(c->in, c->in + head_len + body, c->in_len - head_len - body);
        c->in_len -= head_len + body;
        if (send_bytes(ep, c, resp, resp_len)) close_conn(ep, c);
        return;
    }
    int paced = strstr(c->in, "bench-paced") && strstr(c->in, "bench-paced") < end;
    memmove(c->in, c->in + head_len, c->in_len - head_len);
    c->in_len -= head_len;
    start_stream(ep, c, paced);
}

static void on_timer(int ep, conn* c)
{
    heap_remove(c);
    if (send_bytes(ep, c, events[c->next][0], event_len[c->next][0])) {
        close_conn(ep, c);
        return;
    }
    if (++c->next == PACED) {
        c->streaming = 0;
        if (send_bytes(ep, c, complete[1], complete_len[1])) close_conn(ep, c);
        return;
    }
    c->due = c->start_ns + c->next * PACE_NS;
    heap_push(c);
}

int main(int argc, char** argv)
{
    if (argc < 2) return 2;
    join = argc > 2 && !strcmp(argv[2], "--join");
    openai = argc > 2 && !strcmp(argv[2], "--openai");
    prepare();
    char* r = framed("retry: 2000\n\n", &retry_len);
    memcpy(retry_frame, r, retry_len);
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1])), .sin_addr.s_addr = htonl(0x7f000001)};
    if (bind(ls, (struct sockaddr*)&addr, sizeof addr) || listen(ls, 4096)) {
        perror("listen");
        return 1;
    }
    int ep = epoll_create1(0);
    struct epoll_event lev = {.events = EPOLLIN, .data.ptr = NULL};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &lev);
    struct epoll_event evs[512];
    for (;;) {
        int timeout = -1;
        if (heap_size) {
            long long wait = heap[0]->due - now_ns();
            timeout = wait <= 0 ? 0 : (int)((wait + 999999) / 1000000);
        }
        int n = epoll_wait(ep, evs, 512, timeout);
        for (int i = 0; i < n; ++i) {
            conn* c = evs[i].data.ptr;
            if (!c) {
                for (;;) {
                    int fd = accept4(ls, NULL, NULL, SOCK_NONBLOCK);
                    if (fd < 0) break;
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    conn* nc = calloc(1, sizeof(conn));
                    nc->fd = fd;
                    nc->heap_pos = -1;
                    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = nc};
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
                }
                continue;
            }
            if (evs[i].events & EPOLLOUT) {
                ssize_t w = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
                if (w < 0 && errno != EAGAIN) {
                    close_conn(ep, c);
                    continue;
                }
                if (w > 0) c->out_off += (size_t)w;
                if (c->out_off == c->out_len) {
                    c->out_off = c->out_len = 0;
                    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
                    epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
                }
            }
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
                ssize_t got = read(c->fd, c->in + c->in_len, sizeof c->in - c->in_len);
                if (got <= 0) {
                    if (got < 0 && errno == EAGAIN) continue;
                    close_conn(ep, c);
                    continue;
                }
                c->in_len += (size_t)got;
                if (c->streaming == 0) on_request(ep, c);
            }
        }
        long long now = now_ns();
        while (heap_size && heap[0]->due <= now) on_timer(ep, heap[0]);
    }
}
