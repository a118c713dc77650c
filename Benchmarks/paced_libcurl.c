/*
 * The capacity benchmark's second floor: libcurl driven the way any poller must drive it, with no
 * pollbench code. bare_libcurl.c is a closed loop (a new request the moment one ends, curl_multi_perform
 * visiting every transfer); a poller instead starts each request at its own time, and with thousands
 * of answers outstanding against a real service it needs curl's socket API (curl_multi_socket_action
 * and an epoll set), or every turn would ask the kernel about every transfer. This loop does just that:
 * starts GETs of one URL at RATE per second, evenly spaced, over a pool of HANDLES easy handles, for
 * SECONDS, each with pollbench's request (its User-Agent, timeout and an Authorization header, the value
 * read from the environment's PACED_AUTHORIZATION when set), and keeps each connection's socket in the
 * epoll set while it idles, as pollbench's poller does. Prints one JSON line: requests, failures, the
 * wall and CPU seconds, and how many requests started over 5 ms after their time ("late"; none of them
 * is skipped).
 *
 * Built by Benchmarks/capacity.py: cc -O2 paced_libcurl.c -lcurl
 * Usage: paced_libcurl URL HANDLES SECONDS RATE
 */
#include <curl/curl.h>
#include "libcurl_bench.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define MAX_FD 65536

static int epoll_set;
/* What curl wants of each descriptor (CURL_POLL_*, 0: nothing) and whether it is in the epoll set. */
static int wanted[MAX_FD];
static int registered[MAX_FD];
/* When curl's timer fires (wall seconds); negative: not set. curl sets it anew only when it changes, so
 * once it has fired it is gone until curl sets another. */
static double curl_timer_at = -1;

static int on_timer(CURLM *multi, long timeout_ms, void *user) {
    (void)multi;
    (void)user;
    curl_timer_at = timeout_ms < 0 ? -1 : now_seconds() + (double)timeout_ms / 1000;
    return 0;
}

/* A socket curl stops watching stays in the set: the next request on its connection asks for it again. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *user, void *socket_data) {
    (void)easy;
    (void)user;
    (void)socket_data;
    if (fd < 0 || fd >= MAX_FD) return 0;
    wanted[fd] = what == CURL_POLL_REMOVE ? 0 : what;
    if (!wanted[fd]) return 0;
    struct epoll_event event = {0};
    event.events = (what & CURL_POLL_IN ? EPOLLIN : 0) | (what & CURL_POLL_OUT ? EPOLLOUT : 0);
    event.data.fd = fd;
    if ((unsigned)registered[fd] == event.events) return 0;
    /* The kernel drops a closed descriptor from the set itself, and its number comes back for another. */
    if (epoll_ctl(epoll_set, registered[fd] ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &event) != 0 &&
        epoll_ctl(epoll_set, registered[fd] ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &event) != 0) {
        registered[fd] = 0;
        return 0;
    }
    registered[fd] = (int)event.events;
    return 0;
}

static int on_close(void *user, curl_socket_t fd) {
    (void)user;
    if (fd >= 0 && fd < MAX_FD) wanted[fd] = registered[fd] = 0;
    return close(fd);
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s URL HANDLES SECONDS RATE\n", argv[0]);
        return 2;
    }
    const char *url = argv[1];
    int handles = atoi(argv[2]);
    double seconds = atof(argv[3]), rate = atof(argv[4]);
    if (handles < 1 || handles > 10000 || seconds <= 0 || seconds > 600 || rate <= 0 || rate > 1e6) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    epoll_set = epoll_create1(EPOLL_CLOEXEC);
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)handles);
    curl_multi_setopt(multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(multi, CURLMOPT_TIMERFUNCTION, on_timer);
    struct curl_slist *headers = NULL;
    const char *authorization = getenv("PACED_AUTHORIZATION");
    if (authorization) {
        char line[512];
        snprintf(line, sizeof line, "Authorization: %s", authorization);
        headers = curl_slist_append(NULL, line);
    }
    CURL **idle = calloc((size_t)handles, sizeof(CURL *));
    int idle_count = 0;
    for (int i = 0; i < handles; i++) {
        CURL *easy = curl_easy_init();
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(easy, CURLOPT_USERAGENT, "pollbench");
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 30000L);
        curl_easy_setopt(easy, CURLOPT_PROXY, "");
        curl_easy_setopt(easy, CURLOPT_CLOSESOCKETFUNCTION, on_close);
        if (headers) curl_easy_setopt(easy, CURLOPT_HTTPHEADER, headers);
        idle[idle_count++] = easy;
    }

    double cpu_before = cpu_seconds();
    double start = now_seconds(), deadline = start + seconds, due = start;
    long started = 0, late = 0;
    struct tally tally = {0, 0, 0};
    int running = 0;
    struct epoll_event events[512];
    while (1) {
        double now = now_seconds();
        /* Every request due by now starts now, as a handle frees up; one that waited counts as late. */
        while (due <= now && due < deadline && idle_count > 0) {
            CURL *easy = idle[--idle_count];
            curl_easy_setopt(easy, CURLOPT_URL, url);  /* as any poller must: each transfer names its URL */
            curl_multi_add_handle(multi, easy);
            if (now - due > 0.005) late++;
            started++;
            due = start + (double)started / rate;
        }
        if (due >= deadline && idle_count == handles) break;
        int wait = curl_timer_at < 0 ? 100 : (int)((curl_timer_at - now_seconds()) * 1000 + 0.999);
        if (wait < 0) wait = 0;
        if (due < deadline && idle_count > 0) {
            int until_due = (int)((due - now_seconds()) * 1000 + 0.999);
            if (until_due < wait) wait = until_due < 0 ? 0 : until_due;
        }
        int ready = epoll_wait(epoll_set, events, 512, wait);
        for (int i = 0; i < ready; i++) {
            int fd = events[i].data.fd;
            if (!wanted[fd]) {  /* an idle connection that reported: the server closed it */
                epoll_ctl(epoll_set, EPOLL_CTL_DEL, fd, NULL);
                registered[fd] = 0;
                continue;
            }
            int failed_socket = events[i].events & (EPOLLERR | EPOLLHUP);
            int bits = ((events[i].events & EPOLLIN) || failed_socket ? CURL_CSELECT_IN : 0) | ((events[i].events & EPOLLOUT) || failed_socket ? CURL_CSELECT_OUT : 0);
            curl_multi_socket_action(multi, fd, bits & ((wanted[fd] & CURL_POLL_IN ? CURL_CSELECT_IN : 0) | (wanted[fd] & CURL_POLL_OUT ? CURL_CSELECT_OUT : 0)), &running);
        }
        if (curl_timer_at >= 0 && now_seconds() >= curl_timer_at) {
            curl_timer_at = -1;
            curl_multi_socket_action(multi, CURL_SOCKET_TIMEOUT, 0, &running);
        }
        CURL *finished;
        while ((finished = next_finished(multi, &tally))) idle[idle_count++] = finished;
    }
    double elapsed = now_seconds() - start, cpu = cpu_seconds() - cpu_before;
    printf("{\"requests\":%ld,\"ok\":%ld,\"failed\":%ld,\"non2xx\":%ld,\"late\":%ld,\"seconds\":%f,\"cpu_seconds\":%f}\n", tally.ok + tally.failed + tally.non2xx, tally.ok, tally.failed, tally.non2xx, late, elapsed, cpu);
    for (int i = 0; i < idle_count; i++) curl_easy_cleanup(idle[i]);
    free(idle);
    curl_slist_free_all(headers);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    return 0;
}
