/*
 * A cross-check client for workload 4 (bench/workloads/echo.ts), in C: the same protocol and the
 * same load as the `client` role of bench/cases/echo.ts (CONNS connections on 127.0.0.1:PORT, each
 * keeping one SIZE-byte message in flight; warm up, print `ready`, wait for a line on stdin, run,
 * print {"total","seconds","cpu"}), at the least CPU a client can spend per message: one epoll
 * loop, one recv and one send per message. It shows whether the servers' figures depend on the
 * client; see bench/README.md.
 *
 *   cc -O2 -o bench/.out/echo-client bench/cases/echo-client.c
 *   ECHO_CLIENT=bench/.out/echo-client node bench/.out/plain/bench/run.js --only=4
 *
 * Usage: echo-client PORT CONNS SIZE WARMUP SECONDS
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>

static void die(const char *what) {
  perror(what);
  exit(1);
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}
static long cpu_us(void) {
  struct rusage r;
  getrusage(RUSAGE_SELF, &r);
  return r.ru_utime.tv_sec * 1000000L + r.ru_utime.tv_usec + r.ru_stime.tv_sec * 1000000L + r.ru_stime.tv_usec;
}

static int n, size, ep, *fds, *got;
static char *msg, buf[65536];

static void put(int fd) {
  if (send(fd, msg, size, MSG_NOSIGNAL) != size) die("send");
}

/* Round trips on every connection for `seconds`, then until no message is in flight. */
static long run(double seconds) {
  long total = 0;
  int inflight = n;
  int running = 1;
  for (int i = 0; i < n; i++) put(fds[i]);
  double end = now() + seconds;
  struct epoll_event ev[256];
  while (inflight > 0) {
    int k = epoll_wait(ep, ev, 256, 10);
    if (k < 0 && errno != EINTR) die("epoll_wait");
    if (running && now() >= end) running = 0;
    for (int j = 0; j < k; j++) {
      int i = ev[j].data.u32;
      ssize_t r = recv(fds[i], buf, sizeof buf, 0);
      if (r < 0 && errno == EAGAIN) continue;
      if (r < 0) die("recv");
      if (r == 0) {
        fprintf(stderr, "echo-client: the server closed a connection\n");
        exit(1);
      }
      got[i] += r;
      while (got[i] >= size) {
        got[i] -= size;
        total++;
        if (running) put(fds[i]);
        else inflight--;
      }
    }
  }
  return total;
}

int main(int argc, char **argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: echo-client PORT CONNS SIZE WARMUP SECONDS\n");
    return 2;
  }
  int port = atoi(argv[1]);
  n = atoi(argv[2]);
  size = atoi(argv[3]);
  double warmup = atof(argv[4]), seconds = atof(argv[5]);
  msg = malloc(size);
  memset(msg, 120, size);
  fds = calloc(n, sizeof *fds);
  got = calloc(n, sizeof *got);
  ep = epoll_create1(0);
  if (ep < 0) die("epoll_create1");
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  for (int i = 0; i < n; i++) {
    fds[i] = socket(AF_INET, SOCK_STREAM, 0);
    if (fds[i] < 0) die("socket");
    if (connect(fds[i], (struct sockaddr *)&a, sizeof a) < 0) die("connect");
    int one = 1;
    setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fds[i], F_SETFL, O_NONBLOCK);
    struct epoll_event e = {.events = EPOLLIN, .data.u32 = i};
    epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &e);
  }
  run(warmup);
  printf("ready\n");
  fflush(stdout);
  char line[16];
  if (!fgets(line, sizeof line, stdin)) return 1; /* the runner went away */
  long c0 = cpu_us();
  long total = run(seconds);
  printf("{\"total\":%ld,\"seconds\":%g,\"cpu\":%ld}\n", total, seconds, cpu_us() - c0);
  fflush(stdout);
  return 0;
}
