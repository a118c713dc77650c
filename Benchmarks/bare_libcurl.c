/*
 * The transport benchmark's floor: libcurl's own multi loop with no pollbench code. Keeps --inflight
 * GETs of one URL going for --duration seconds (a closed loop, as wrk, h2load and TransportBench do),
 * reusing each easy handle and setting its URL per transfer as pollbench does, with the same request
 * (User-Agent) and timeout, then prints one JSON line with the request count, the
 * wall seconds and the process's CPU seconds.
 *
 * Built by Benchmarks/transport-vs-wrk.py: cc -O2 bare_libcurl.c -lcurl
 * Usage: bare_libcurl URL INFLIGHT SECONDS HTTP(1.1|2) STREAMS_PER_CONNECTION [CA_FILE]
 */
#include <curl/curl.h>
#include "libcurl_bench.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc < 6) {
        fprintf(stderr, "usage: %s URL INFLIGHT SECONDS HTTP(1.1|2) STREAMS_PER_CONNECTION [CA_FILE]\n", argv[0]);
        return 2;
    }
    const char *url = argv[1];
    int inflight = atoi(argv[2]);
    double seconds = atof(argv[3]);
    int http2 = strcmp(argv[4], "2") == 0;
    long streams = atol(argv[5]);
    const char *ca = argc > 6 ? argv[6] : NULL;
    if (inflight < 1 || inflight > 10000 || seconds <= 0 || seconds > 600 || streams < 1) {
        fprintf(stderr, "bad arguments\n");
        return 2;
    }

    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM *multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAXCONNECTS, (long)inflight);
    curl_multi_setopt(multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    curl_multi_setopt(multi, CURLMOPT_MAX_CONCURRENT_STREAMS, streams);
    CURL **handles = calloc((size_t)inflight, sizeof(CURL *));
    for (int i = 0; i < inflight; i++) {
        CURL *easy = curl_easy_init();
        curl_easy_setopt(easy, CURLOPT_URL, url);
        curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
        curl_easy_setopt(easy, CURLOPT_HTTP_VERSION, http2 ? (long)CURL_HTTP_VERSION_2TLS : (long)CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(easy, CURLOPT_PIPEWAIT, 1L);
        /* The same transfers as pollbench's: its User-Agent and a request timeout (TransportBench's 10 s). */
        curl_easy_setopt(easy, CURLOPT_USERAGENT, "pollbench");
        curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 10000L);
        if (ca) curl_easy_setopt(easy, CURLOPT_CAINFO, ca);
        handles[i] = easy;
        curl_multi_add_handle(multi, easy);
    }

    double cpu_before = cpu_seconds();
    double start = now_seconds(), deadline = start + seconds;
    long running = inflight;
    struct tally tally = {0, 0, 0};
    while (running > 0) {
        int still = 0;
        curl_multi_perform(multi, &still);
        CURL *easy;
        while ((easy = next_finished(multi, &tally))) {
            if (now_seconds() < deadline) {
                curl_easy_setopt(easy, CURLOPT_URL, url);  /* as any poller must: each transfer names its URL */
                curl_multi_add_handle(multi, easy);
            } else {
                running--;
            }
        }
        if (running > 0) curl_multi_poll(multi, NULL, 0, 100, NULL);
    }
    double elapsed = now_seconds() - start, cpu = cpu_seconds() - cpu_before;
    printf("{\"requests\":%ld,\"ok\":%ld,\"failed\":%ld,\"non2xx\":%ld,\"seconds\":%f,\"cpu_seconds\":%f}\n", tally.ok + tally.failed + tally.non2xx, tally.ok, tally.failed, tally.non2xx, elapsed, cpu);
    for (int i = 0; i < inflight; i++) curl_easy_cleanup(handles[i]);
    free(handles);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    return 0;
}
