/*
 * What the bare libcurl loops share (bare_libcurl.c, paced_libcurl.c): a write callback that drops the
 * body, the wall and CPU clocks they report, and the tally of finished transfers.
 */
#ifndef LIBCURL_BENCH_H
#define LIBCURL_BENCH_H

#include <curl/curl.h>
#include <stddef.h>
#include <sys/resource.h>
#include <time.h>

static size_t discard(char *data, size_t size, size_t count, void *user) {
    (void)data;
    (void)user;
    return size * count;
}

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* The process's user and system CPU seconds. */
static double cpu_seconds(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6 + (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;
}

/* Finished transfers by how they ended. */
struct tally {
    long ok, failed, non2xx;
};

/* The next finished transfer's easy handle, counted and removed from `multi`; NULL when none is left. */
static CURL *next_finished(CURLM *multi, struct tally *tally) {
    CURLMsg *message;
    int queued = 0;
    while ((message = curl_multi_info_read(multi, &queued))) {
        if (message->msg != CURLMSG_DONE) continue;
        CURL *easy = message->easy_handle;
        long status = 0;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
        if (message->data.result != CURLE_OK) tally->failed++;
        else if (status < 200 || status > 299) tally->non2xx++;
        else tally->ok++;
        curl_multi_remove_handle(multi, easy);
        return easy;
    }
    return NULL;
}

#endif
