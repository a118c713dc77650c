#!/usr/bin/env python3
"""pollbench's libcurl transport against wrk: requests per client-CPU-second.

Starts a private nginx on 127.0.0.1 (pinned to CPU 0) that answers a small
static JSON status document, then runs TransportBench and wrk in turn against
the same URL, 64 connections, each client pinned to CPU 1, in alternating
rounds. Prints every round, the medians and, as its last line,
ratio_vs_wrk=<our requests per CPU-second / wrk's>. Every load loop is bounded
by --duration; nothing leaves loopback.

Usage: python3 Benchmarks/transport-vs-wrk.py [--rounds 5] [--duration 5] [--connections 64]
"""
import argparse, json, os, re, shutil, signal, socket, statistics, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BODY = '{"verificationId":"3f2a9c1d7e4b4f8a9b0c1d2e3f4a5b6c","status":"pending","providerId":"bankidse","flowType":"qr"}'


def need(tool, package):
    if shutil.which(tool) or os.path.exists(f"/usr/sbin/{tool}"):
        return
    if os.geteuid() != 0:
        sys.exit(f"error: {tool} is missing: apt-get install {package}")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True,
                   env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit("error: nginx did not start; see " + os.path.join(workdir, "error.log"))


def timed(cmd, limit):
    """Runs cmd, returns (stdout, CPU seconds of the child: user + system)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        proc.kill()
        sys.exit(f"error: {cmd[2]} overran {limit}s")
    # communicate() reaped the child; its rusage is in RUSAGE_CHILDREN deltas.
    return out, err, proc.returncode


def children_cpu():
    r = os.times()
    return r.children_user + r.children_system


def run_ours(binary, url, args):
    before = children_cpu()
    out, err, rc = timed(["taskset", "-c", "1", binary, "--url", url, "--connections", str(args.connections),
                          "--duration", str(args.duration)], args.duration + 30)
    cpu = children_cpu() - before
    if rc != 0:
        sys.exit(f"error: TransportBench failed: {err.strip()}")
    result = json.loads(out.strip().splitlines()[-1])
    if result["failed"] or result["non2xx"]:
        sys.exit(f"error: TransportBench saw failures: {result}")
    return result["requests"], result["seconds"], cpu


def run_wrk(url, args):
    before = children_cpu()
    out, err, rc = timed(["taskset", "-c", "1", "wrk", "-t1", f"-c{args.connections}", f"-d{args.duration}s", url],
                         args.duration + 30)
    cpu = children_cpu() - before
    if rc != 0:
        sys.exit(f"error: wrk failed: {err.strip()}")
    m = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    if not m or "Non-2xx" in out or "Socket errors" in out:
        sys.exit(f"error: unexpected wrk output:\n{out}")
    seconds = float(m.group(2)) / (1000 if m.group(3) == "ms" else 1)
    return int(m.group(1)), seconds, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=int, default=5, help="seconds per run (1-60)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--skip-build", action="store_true")
    args = parser.parse_args()
    if not (1 <= args.rounds <= 20 and 1 <= args.duration <= 60 and 1 <= args.connections <= 1024):
        sys.exit("error: --rounds 1-20, --duration 1-60, --connections 1-1024")
    if (os.cpu_count() or 1) < 2:
        sys.exit("error: needs two CPUs (server on CPU 0, client on CPU 1)")
    need("nginx", "nginx-light")
    need("wrk", "wrk")
    if not args.skip_build:
        subprocess.run(["swift", "build", "-c", "release", "--product", "TransportBench"], cwd=ROOT, check=True,
                       stdout=subprocess.DEVNULL)
    binary = os.path.join(ROOT, ".build", "release", "TransportBench")

    workdir = tempfile.mkdtemp(prefix="pollbench-nginx-")
    port = free_port()
    nginx = start_nginx(workdir, port)
    url = f"http://127.0.0.1:{port}/api/v1/verifications/status"
    rows = {"pollbench": [], "wrk": []}
    try:
        for r in range(1, args.rounds + 1):
            for name, runner in (("pollbench", lambda: run_ours(binary, url, args)), ("wrk", lambda: run_wrk(url, args))):
                requests, seconds, cpu = runner()
                rows[name].append((requests / seconds, requests / cpu))
                print(f"round {r} {name:9s} {requests / seconds:10.0f} req/s  {cpu:6.2f} CPU-s  {requests / cpu:10.0f} req/CPU-s",
                      flush=True)
    finally:
        nginx.send_signal(signal.SIGQUIT)
        try:
            nginx.wait(timeout=5)
        except subprocess.TimeoutExpired:
            nginx.kill()
        shutil.rmtree(workdir, ignore_errors=True)

    med = {k: (statistics.median(x for x, _ in v), statistics.median(y for _, y in v)) for k, v in rows.items()}
    for name, (rps, per_cpu) in med.items():
        print(f"median {name:9s} {rps:10.0f} req/s  {per_cpu:10.0f} req/CPU-s")
    print(f"ratio_vs_wrk={med['pollbench'][1] / med['wrk'][1]:.3f}")


if __name__ == "__main__":
    main()
