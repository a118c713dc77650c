#!/usr/bin/env python3
"""pollbench's libcurl transport against wrk: requests per client-CPU-second.

Starts a private nginx on 127.0.0.1 (pinned to CPU 0) that answers a small
static JSON status document, then runs TransportBench and wrk in turn against
the same URL, 64 connections, each client pinned to CPU 1, in alternating
rounds. Prints every round, the medians and, as its last line,
ratio_vs_wrk=<our requests per CPU-second / wrk's>. Every load loop is bounded
by --duration; nothing leaves loopback.

Usage: python3 Benchmarks/transport-vs-wrk.py [--rounds 5] [--duration 5] [--connections 64]
A copy of the report goes to results/benchmarks/.
"""
import json, os, shutil, signal, statistics, subprocess, sys, tempfile

from benchlib import parse_round_args, build_release, children_cpu, free_port, need, require_two_cpus, run_wrk, stop_server, wait_for_port, write_result

BODY = '{"verificationId":"3f2a9c1d7e4b4f8a9b0c1d2e3f4a5b6c","status":"pending","providerId":"bankidse","flowType":"qr"}'


def start_nginx(workdir, port):
    conf = os.path.join(workdir, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""
worker_processes 1;
daemon off;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 120s;
    client_body_temp_path {workdir};
    proxy_temp_path {workdir};
    fastcgi_temp_path {workdir};
    uwsgi_temp_path {workdir};
    scgi_temp_path {workdir};
    server {{
        listen 127.0.0.1:{port};
        location = /api/v1/verifications/status {{
            default_type application/json;
            return 200 '{BODY}';
        }}
    }}
}}
""")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = subprocess.Popen(["taskset", "-c", "0", nginx, "-c", conf, "-p", workdir],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, proc, "nginx")
    return proc


def run_ours(binary, url, args):
    before = children_cpu()
    proc = subprocess.run(["taskset", "-c", "1", binary, "--url", url, "--connections", str(args.connections),
                           "--duration", str(args.duration)], capture_output=True, text=True, timeout=args.duration + 30)
    cpu = children_cpu() - before
    if proc.returncode != 0:
        sys.exit(f"error: TransportBench failed: {proc.stderr.strip()}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if result["failed"] or result["non2xx"]:
        sys.exit(f"error: TransportBench saw failures: {result}")
    return result["requests"], result["seconds"], cpu


def main():
    args = parse_round_args(__doc__, rounds=5)
    require_two_cpus()
    need("nginx", "nginx-light")
    need("wrk", "wrk")
    binary = build_release("TransportBench")

    workdir = tempfile.mkdtemp(prefix="pollbench-nginx-")
    port = free_port()
    nginx = start_nginx(workdir, port)
    url = f"http://127.0.0.1:{port}/api/v1/verifications/status"
    rows = {"pollbench": [], "wrk": []}
    lines = []

    def report(line):
        lines.append(line)
        print(line, flush=True)
    try:
        for r in range(1, args.rounds + 1):
            for name, runner in (("pollbench", lambda: run_ours(binary, url, args)),
                                 ("wrk", lambda: run_wrk(url, args.connections, args.duration))):
                requests, seconds, cpu = runner()
                rows[name].append((requests / seconds, requests / cpu))
                report(f"round {r} {name:9s} {requests / seconds:10.0f} req/s  {cpu:6.2f} CPU-s  {requests / cpu:10.0f} req/CPU-s")
    finally:
        stop_server(nginx, signal.SIGQUIT, 5)
        shutil.rmtree(workdir, ignore_errors=True)

    med = {k: (statistics.median(x for x, _ in v), statistics.median(y for _, y in v)) for k, v in rows.items()}
    for name, (rps, per_cpu) in med.items():
        report(f"median {name:9s} {rps:10.0f} req/s  {per_cpu:10.0f} req/CPU-s")
    path = write_result("transport-vs-wrk", lines + [f"ratio_vs_wrk={med['pollbench'][1] / med['wrk'][1]:.3f}"])
    print(f"(kept in {os.path.relpath(path)})")
    print(f"ratio_vs_wrk={med['pollbench'][1] / med['wrk'][1]:.3f}")


if __name__ == "__main__":
    main()
