/* barerelay: the least a relay can do, as the benchmark's floor for CPU per streamed token.
 *
 * Listens on 127.0.0.1:PORT; for every accepted connection it connects to 127.0.0.1:UPSTREAM
 * and copies bytes both ways (one recv, one send per readable event), nothing else: no HTTP,
 * no JSON, no buffering beyond one 64 KiB read. It pays exactly the system calls and the kernel
 * TCP work that any relay pays per token (an NDJSON line in, the same bytes out), so keepwarm's
 * and nginx's CPU per token are reported against it. Blocking connect and a blocking send of
 * what was read keep it short; on a loopback benchmark neither waits. Linux only (epoll). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FD 65536

static int peer[MAX_FD]; /* peer[fd]: the other end of fd's pair, or -1 */

static void pair_close(int ep, int fd) {
    int p = peer[fd];
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    peer[fd] = -1;
    if (p >= 0) {
        epoll_ctl(ep, EPOLL_CTL_DEL, p, NULL);
        close(p);
        peer[p] = -1;
    }
}

static int send_all(int fd, const char *b, size_t n) {
    while (n) {
        ssize_t w = send(fd, b, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: barerelay LISTEN_PORT UPSTREAM_PORT\n");
        return 2;
    }
    int one = 1;
    struct sockaddr_in la = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    struct sockaddr_in ua = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
    inet_pton(AF_INET, "127.0.0.1", &la.sin_addr);
    inet_pton(AF_INET, "127.0.0.1", &ua.sin_addr);
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (ls < 0 || bind(ls, (struct sockaddr *)&la, sizeof(la)) < 0 || listen(ls, 4096) < 0) {
        perror("barerelay: listen");
        return 1;
    }
    for (int i = 0; i < MAX_FD; i++)
        peer[i] = -1;
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls};
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    static char buf[64 * 1024];
    struct epoll_event evs[256];
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == ls) {
                int c;
                while ((c = accept4(ls, NULL, NULL, 0)) >= 0) {
                    int u = socket(AF_INET, SOCK_STREAM, 0);
                    if (c >= MAX_FD || u < 0 || u >= MAX_FD ||
                        connect(u, (struct sockaddr *)&ua, sizeof(ua)) < 0) {
                        close(c);
                        if (u >= 0)
                            close(u);
                        continue;
                    }
                    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    setsockopt(u, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                    peer[c] = u;
                    peer[u] = c;
                    ev = (struct epoll_event){.events = EPOLLIN, .data.fd = c};
                    epoll_ctl(ep, EPOLL_CTL_ADD, c, &ev);
                    ev = (struct epoll_event){.events = EPOLLIN, .data.fd = u};
                    epoll_ctl(ep, EPOLL_CTL_ADD, u, &ev);
                }
                continue;
            }
            if (peer[fd] < 0)
                continue; /* closed earlier in this batch */
            ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                continue;
            if (r <= 0 || send_all(peer[fd], buf, (size_t)r) < 0)
                pair_close(ep, fd);
        }
    }
}
