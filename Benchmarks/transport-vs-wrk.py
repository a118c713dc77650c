#!/usr/bin/env python3
"""pollbench's libcurl transport against its peers: requests per client-CPU-second.

Starts a private nginx on 127.0.0.1 (pinned to CPU 0) that answers a small
static JSON status document over plain HTTP/1.1 and over TLS with http2. Then,
each client pinned to CPU 1, in alternating rounds:

- HTTP/1.1, --connections in flight: TransportBench (pollbench's transport),
  bare_libcurl (the same libcurl's multi loop, no pollbench code, built here
  with cc) and wrk;
- HTTP/2 over TLS, --streams in flight: TransportBench, bare_libcurl (both with
  --per-connection streams on a connection before another opens) and h2load
  (nghttp2-client, one connection per 128 streams).

Prints every round, the medians and, as its last four lines, ratio_vs_wrk and
ratio_vs_libcurl (HTTP/1.1), ratio_vs_h2load and h2_ratio_vs_libcurl (HTTP/2):
ours over theirs, per CPU-second. Every load loop is bounded by --duration;
nothing leaves loopback.

Usage: python3 Benchmarks/transport-vs-wrk.py [--rounds 5] [--duration 5] [--connections 64]
       [--streams 256] [--per-connection 32]
A copy of the report goes to results/benchmarks/.
"""
import argparse, json, os, re, shutil, signal, statistics, subprocess, sys, tempfile

from benchlib import ROOT, build_libcurl_loop, build_release, children_cpu, free_port, need, require_two_cpus, run_wrk, start_nginx, stop_server, write_result

BODY = '{"verificationId":"3f2a9c1d7e4b4f8a9b0c1d2e3f4a5b6c","status":"pending","providerId":"bankidse","flowType":"qr"}'
PATH = "/api/v1/verifications/status"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=5, help="seconds per run (1-60)")
    parser.add_argument("--connections", type=int, default=64, help="HTTP/1.1 requests in flight (1-1024)")
    parser.add_argument("--streams", type=int, default=256, help="HTTP/2 requests in flight (1-4096)")
    parser.add_argument("--per-connection", type=int, default=0,
                        help="HTTP/2 streams per connection for pollbench and bare libcurl (default: pollbench's own default)")
    args = parser.parse_args()
    if not (1 <= args.rounds <= 20 and 1 <= args.duration <= 60 and 1 <= args.connections <= 1024 and 1 <= args.streams <= 4096
            and 0 <= args.per_connection <= 4096):
        sys.exit("error: --rounds 1-20, --duration 1-60, --connections 1-1024, --streams 1-4096, --per-connection 0-4096")
    return args


def default_streams_per_connection():
    source = open(os.path.join(ROOT, "Sources", "PollBenchCurl", "CurlTransportConfiguration.swift")).read()
    return int(re.search(r"defaultStreamsPerConnection = (\d+)", source).group(1))


def make_certificate(workdir):
    key, cert = os.path.join(workdir, "key.pem"), os.path.join(workdir, "cert.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


def run_client(cmd, timeout, what):
    """Runs a client pinned to CPU 1 that prints a JSON line; returns (requests, seconds, CPU seconds)."""
    before = children_cpu()
    proc = subprocess.run(["taskset", "-c", "1"] + cmd, capture_output=True, text=True, timeout=timeout)
    cpu = children_cpu() - before
    if proc.returncode != 0:
        sys.exit(f"error: {what} failed: {proc.stderr.strip()}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    if result["failed"] or result["non2xx"]:
        sys.exit(f"error: {what} saw failures: {result}")
    return result["requests"], result["seconds"], cpu


def run_h2load(url, streams, duration):
    """h2load over TLS (ALPN h2), 128 streams per connection; returns (requests, seconds, CPU seconds)."""
    connections = max(1, (streams + 127) // 128)
    before = children_cpu()
    proc = subprocess.run(["taskset", "-c", "1", "h2load", "-t1", f"-c{connections}", f"-m{streams // connections}", f"-D{duration}", url],
                          capture_output=True, text=True, timeout=duration + 30)
    cpu = children_cpu() - before
    done = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored", proc.stdout)
    took = re.search(r"finished in ([\d.]+)(m?s)", proc.stdout)
    if proc.returncode != 0 or not done or not took or int(done.group(3)) or int(done.group(4)):
        sys.exit(f"error: h2load failed or saw failures:\n{proc.stdout}\n{proc.stderr}")
    seconds = float(took.group(1)) / (1000 if took.group(2) == "ms" else 1)
    return int(done.group(1)), seconds, cpu


def main():
    args = parse_args()
    require_two_cpus()
    need("nginx", "nginx-light")
    need("wrk", "wrk")
    need("h2load", "nghttp2-client")
    need("openssl", "openssl")
    need("cc", "gcc")
    per_connection = args.per_connection or default_streams_per_connection()
    ours = build_release("TransportBench")
    workdir = tempfile.mkdtemp(prefix="pollbench-nginx-")
    bare = build_libcurl_loop("bare_libcurl", workdir)
    cert, key = make_certificate(workdir)
    port, tls_port = free_port(), free_port()
    nginx = start_nginx(workdir, port, PATH, BODY, tls=(tls_port, cert, key))
    url, tls_url = f"http://127.0.0.1:{port}{PATH}", f"https://127.0.0.1:{tls_port}{PATH}"
    timeout = args.duration + 30
    c, s = str(args.connections), str(args.streams)
    clients = [
        ("pollbench", lambda: run_client([ours, "--url", url, "--connections", c, "--duration", str(args.duration), "--http", "1.1"], timeout, "TransportBench")),
        ("libcurl", lambda: run_client([bare, url, c, str(args.duration), "1.1", "1"], timeout, "bare_libcurl")),
        ("wrk", lambda: run_wrk(url, args.connections, args.duration)),
        ("h2-pollbench", lambda: run_client([ours, "--url", tls_url, "--connections", s, "--duration", str(args.duration), "--http", "2",
                                             "--streams", str(per_connection), "--ca-bundle", cert], timeout, "TransportBench (HTTP/2)")),
        ("h2-libcurl", lambda: run_client([bare, tls_url, s, str(args.duration), "2", str(per_connection), cert], timeout, "bare_libcurl (HTTP/2)")),
        ("h2load", lambda: run_h2load(tls_url, args.streams, args.duration)),
    ]
    rows = {name: [] for name, _ in clients}
    lines = [f"HTTP/1.1: {args.connections} in flight; HTTP/2 over TLS: {args.streams} in flight, "
             f"{per_connection} streams per connection for pollbench and libcurl; {args.duration} s runs"]
    print(lines[0], flush=True)

    def report(line):
        lines.append(line)
        print(line, flush=True)
    try:
        for r in range(1, args.rounds + 1):
            for name, runner in clients:
                requests, seconds, cpu = runner()
                rows[name].append((requests / seconds, requests / cpu))
                report(f"round {r} {name:12s} {requests / seconds:10.0f} req/s  {cpu:6.2f} CPU-s  {requests / cpu:10.0f} req/CPU-s")
    finally:
        stop_server(nginx, signal.SIGQUIT, 5)
        shutil.rmtree(workdir, ignore_errors=True)

    med = {k: (statistics.median(x for x, _ in v), statistics.median(y for _, y in v)) for k, v in rows.items()}
    for name, (rps, per_cpu) in med.items():
        report(f"median {name:12s} {rps:10.0f} req/s  {per_cpu:10.0f} req/CPU-s")
    ratios = [
        f"ratio_vs_wrk={med['pollbench'][1] / med['wrk'][1]:.3f}",
        f"ratio_vs_libcurl={med['pollbench'][1] / med['libcurl'][1]:.3f}",
        f"ratio_vs_h2load={med['h2-pollbench'][1] / med['h2load'][1]:.3f}",
        f"h2_ratio_vs_libcurl={med['h2-pollbench'][1] / med['h2-libcurl'][1]:.3f}",
    ]
    path = write_result("transport-vs-wrk", lines + ratios)
    print(f"(kept in {os.path.relpath(path)})")
    print("\n".join(ratios))


if __name__ == "__main__":
    main()
