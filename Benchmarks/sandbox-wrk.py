#!/usr/bin/env python3
"""The sandbox's throughput under wrk against nginx's: requests per second on one core.

Starts `pollbench sandbox` (release build) pinned to CPU 0 and creates one
verification; starts a private nginx, also pinned to CPU 0, that serves that
session's status document (the same bytes, as a static answer) on the same
path. Then, in alternating rounds (five by default: this machine's speed moves
within a minute, and a median of five holds where one of three wandered), wrk
pinned to CPU 1 against each one's
status endpoint (the request a poller sends), 64 connections. Prints each
round, sandbox_rps=<median>, nginx_rps=<median> and, as its last line,
ratio_vs_nginx=<sandbox over nginx>. Loopback only; every run is bounded by
--duration.

Usage: python3 Benchmarks/sandbox-wrk.py [--rounds 5] [--duration 5] [--connections 64]
A copy of the report goes to results/benchmarks/.
"""
import json, os, shutil, signal, statistics, subprocess, sys, tempfile, urllib.request

from benchlib import basic_authorization, parse_round_args, build_release, free_port, need, require_two_cpus, run_wrk, start_nginx, stop_server, wait_for_port, write_result

CLIENT_ID = "BENCH001"
CLIENT_SECRET = "5e" * 32  # a throwaway credential for a loopback-only sandbox


def main():
    args = parse_round_args(__doc__, rounds=5)
    require_two_cpus()
    need("wrk", "wrk")
    need("nginx", "nginx-light")
    binary = build_release("pollbench")
    workdir = tempfile.mkdtemp(prefix="pollbench-nginx-")
    nginx = None

    port = free_port()
    env = dict(os.environ, POLLBENCH_CLIENT_ID=CLIENT_ID, POLLBENCH_CLIENT_SECRET=CLIENT_SECRET)
    server = subprocess.Popen(["taskset", "-c", "0", binary, "sandbox", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    lines = []
    try:
        wait_for_port(port, server, "pollbench sandbox")
        auth = basic_authorization(CLIENT_ID, CLIENT_SECRET)
        base = f"http://127.0.0.1:{port}/api/v1"
        create = urllib.request.Request(f"{base}/verifications", data=b'{"providerId":"bankidse"}', method="POST",
                                        headers={"Authorization": auth, "Content-Type": "application/json"})
        with urllib.request.urlopen(create, timeout=5) as response:
            session = json.load(response)["verificationId"]
        url = f"{base}/verifications/{session}"
        status = urllib.request.Request(url, headers={"Authorization": auth})
        with urllib.request.urlopen(status, timeout=5) as response:
            document = response.read().decode()
        nginx_port = free_port()
        nginx = start_nginx(workdir, nginx_port, f"/api/v1/verifications/{session}", document)
        targets = [("sandbox", url), ("nginx", f"http://127.0.0.1:{nginx_port}/api/v1/verifications/{session}")]
        rates = {name: [] for name, _ in targets}
        for r in range(1, args.rounds + 1):
            for name, target in targets:
                requests, seconds, cpu = run_wrk(target, args.connections, args.duration, headers=[f"Authorization: {auth}"])
                rates[name].append(requests / seconds)
                lines.append(f"round {r} {name:8s} {requests / seconds:10.0f} req/s ({requests} requests, wrk CPU {cpu:.2f} s)")
                print(lines[-1], flush=True)
    finally:
        stop_server(server, signal.SIGINT, 10)
        if nginx:
            stop_server(nginx, signal.SIGQUIT, 5)
        shutil.rmtree(workdir, ignore_errors=True)
    medians = {name: statistics.median(values) for name, values in rates.items()}
    results = [f"sandbox_rps={medians['sandbox']:.0f}", f"nginx_rps={medians['nginx']:.0f}", f"ratio_vs_nginx={medians['sandbox'] / medians['nginx']:.3f}"]
    print(f"(kept in {os.path.relpath(write_result('sandbox-wrk', lines + results))})")
    print("\n".join(results))


if __name__ == "__main__":
    main()
