#!/usr/bin/env python3
"""The sandbox's throughput under wrk: requests per second on one core.

Starts `pollbench sandbox` (release build) pinned to CPU 0, creates one
verification, then runs wrk pinned to CPU 1 against that session's status
endpoint (the request a poller sends), 64 connections, several rounds.
Prints each round and, as its last line, sandbox_rps=<median>. Loopback
only; every run is bounded by --duration.

Usage: python3 Benchmarks/sandbox-wrk.py [--rounds 3] [--duration 5] [--connections 64]
A copy of the report goes to results/benchmarks/.
"""
import base64, json, os, signal, statistics, subprocess, sys, urllib.request

from benchlib import parse_round_args, build_release, free_port, need, require_two_cpus, run_wrk, stop_server, wait_for_port, write_result

CLIENT_ID = "BENCH001"
CLIENT_SECRET = "5e" * 32  # a throwaway credential for a loopback-only sandbox


def main():
    args = parse_round_args(__doc__, rounds=3)
    require_two_cpus()
    need("wrk", "wrk")
    binary = build_release("pollbench")

    port = free_port()
    env = dict(os.environ, POLLBENCH_CLIENT_ID=CLIENT_ID, POLLBENCH_CLIENT_SECRET=CLIENT_SECRET)
    server = subprocess.Popen(["taskset", "-c", "0", binary, "sandbox", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    lines = []
    try:
        wait_for_port(port, server, "pollbench sandbox")
        auth = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        base = f"http://127.0.0.1:{port}/api/v1"
        create = urllib.request.Request(f"{base}/verifications", data=b'{"providerId":"bankidse"}', method="POST",
                                        headers={"Authorization": auth, "Content-Type": "application/json"})
        with urllib.request.urlopen(create, timeout=5) as response:
            session = json.load(response)["verificationId"]
        url = f"{base}/verifications/{session}"
        rates = []
        for r in range(1, args.rounds + 1):
            requests, seconds, cpu = run_wrk(url, args.connections, args.duration, headers=[f"Authorization: {auth}"])
            rates.append(requests / seconds)
            lines.append(f"round {r}: {requests / seconds:10.0f} req/s ({requests} requests, wrk CPU {cpu:.2f} s)")
            print(lines[-1], flush=True)
    finally:
        stop_server(server, signal.SIGINT, 10)
    result = f"sandbox_rps={statistics.median(rates):.0f}"
    print(f"(kept in {os.path.relpath(write_result('sandbox-wrk', lines + [result]))})")
    print(result)


if __name__ == "__main__":
    main()
