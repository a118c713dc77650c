"""Helpers shared by pollbench's benchmark scripts: tools, ports, processes and wrk output."""
import argparse, base64, os, re, shutil, socket, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def need(tool, package):
    """Installs a Debian package when its tool is missing (as root), or says how."""
    if shutil.which(tool) or os.path.exists(f"/usr/sbin/{tool}"):
        return
    if os.geteuid() != 0:
        sys.exit(f"error: {tool} is missing: apt-get install {package}")
    subprocess.run(["apt-get", "update", "-qq"], check=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", package], check=True,
                   env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))


def build_release(product):
    """Builds `product` in release mode: pollbench from the root package, the benchmark tools from
    Benchmarks/Package.swift (their own package, kept out of the product's build)."""
    package = ROOT if product == "pollbench" else os.path.join(ROOT, "Benchmarks")
    subprocess.run(["swift", "build", "-c", "release", "--product", product], cwd=package, check=True,
                   stdout=subprocess.DEVNULL)
    return os.path.join(package, ".build", "release", product)


def build_libcurl_loop(name, workdir):
    """Compiles Benchmarks/NAME.c, a bare libcurl loop, into `workdir`; returns the binary's path."""
    binary = os.path.join(workdir, name)
    subprocess.run(["cc", "-O2", "-o", binary, os.path.join(ROOT, "Benchmarks", f"{name}.c"), "-lcurl"], check=True)
    return binary


def basic_authorization(client_id, secret):
    """The Authorization header's value for the API's Basic credentials."""
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, what):
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.1).close()
            return
        except OSError:
            if proc.poll() is not None:
                sys.exit(f"error: {what} exited early")
            time.sleep(0.05)
    proc.kill()
    sys.exit(f"error: {what} did not start listening on 127.0.0.1:{port}")


def stop_server(proc, sig, grace):
    """Asks a server to stop with `sig`, and kills it if it is still there after `grace` seconds."""
    proc.send_signal(sig)
    try:
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        proc.kill()


def start_nginx(workdir, port, path, body, tls=None):
    """A private nginx pinned to CPU 0 that answers `path` with the JSON `body` on 127.0.0.1:`port` and,
    with `tls` = (port, certificate, key), over HTTPS with HTTP/2 as well."""
    return start_nginx_serving(workdir, port, f"location = {path} {{ return 200 '{body}'; }}", tls=tls)


def start_nginx_serving(workdir, port, locations, tls=None, open_files=4096):
    """A private nginx pinned to CPU 0 on 127.0.0.1:`port` (and, with `tls` = (port, certificate, key),
    HTTPS with HTTP/2), JSON by default, serving the `locations` blocks, with up to `open_files` connections."""
    conf = os.path.join(workdir, "nginx.conf")
    listen_tls = f"listen 127.0.0.1:{tls[0]} ssl http2;\n        ssl_certificate {tls[1]};\n        ssl_certificate_key {tls[2]};" if tls else ""
    with open(conf, "w") as f:
        f.write(f"""
worker_processes 1;
worker_rlimit_nofile {open_files + 100};
daemon off;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections {open_files}; }}
http {{
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    http2_max_concurrent_streams 1024;
    client_body_temp_path {workdir};
    proxy_temp_path {workdir};
    fastcgi_temp_path {workdir};
    uwsgi_temp_path {workdir};
    scgi_temp_path {workdir};
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        {listen_tls}
        default_type application/json;
        {locations}
    }}
}}
""")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    proc = subprocess.Popen(["taskset", "-c", "0", nginx, "-c", conf, "-p", workdir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for_port(port, proc, "nginx")
    if tls:
        wait_for_port(tls[0], proc, "nginx (TLS)")
    return proc


def require_two_cpus():
    if (os.cpu_count() or 1) < 2:
        sys.exit("error: needs two CPUs (server on CPU 0, client on CPU 1)")


def children_cpu():
    t = os.times()
    return t.children_user + t.children_system


def run_wrk(url, connections, duration, headers=()):
    """Runs wrk pinned to CPU 1; returns (requests, seconds, client CPU seconds)."""
    before = children_cpu()
    cmd = ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{duration}s"]
    for header in headers:
        cmd += ["-H", header]
    proc = subprocess.run(cmd + [url], capture_output=True, text=True, timeout=duration + 30)
    cpu = children_cpu() - before
    if proc.returncode != 0:
        sys.exit(f"error: wrk failed: {proc.stderr.strip()}")
    m = re.search(r"(\d+) requests in ([\d.]+)(m?s)", proc.stdout)
    if not m or "Non-2xx" in proc.stdout or "Socket errors" in proc.stdout:
        sys.exit(f"error: unexpected wrk output:\n{proc.stdout}")
    seconds = float(m.group(2)) / (1000 if m.group(3) == "ms" else 1)
    return int(m.group(1)), seconds, cpu


def write_result(name, lines):
    """Keeps a copy of a benchmark's report under results/."""
    folder = os.path.join(ROOT, "results", "benchmarks")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}-{name}.txt")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def parse_round_args(doc, rounds):
    """The options every comparison script takes: --rounds, --duration (s per run), --connections; bounded."""
    parser = argparse.ArgumentParser(description=doc.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=rounds)
    parser.add_argument("--duration", type=int, default=5, help="seconds per run (1-60)")
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    if not (1 <= args.rounds <= 20 and 1 <= args.duration <= 60 and 1 <= args.connections <= 1024):
        sys.exit("error: --rounds 1-20, --duration 1-60, --connections 1-1024")
    return args
