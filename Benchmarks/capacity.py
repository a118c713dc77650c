#!/usr/bin/env python3
"""How many verifications one client core keeps polling on schedule: pollbench, Tsung and Locust side by side.

Starts nginx serving the API stub (create answers 201, status answers `pending`)
pinned to CPU 0, and runs each generator pinned to CPU 1, one at a time, at
rising session counts. Every session creates once, then polls its status every
--pace seconds (3); all sessions start within the first pace, spread evenly. A
count is held when, over the steady window (after the start and one more pace):
- pollbench: achieved polls no more than 1 % behind the intended rate (and
  not 3 % over it), schedule slip p99 <= 5 ms,
  status latency p99 (from transfer start) <= 10 ms, no transport error and no
  harness warning (pollbench saying it limited its own measurement);
- Tsung (Debian `tsung`; a session that POSTs, then a loop of think time + GET;
  users arrive at Poisson intervals over five paces, capped at the count)
  and Locust (`FastHttpUser` with `constant_pacing`, each user's first poll
  placed at random within the pace so that users do not fire in lock-step):
  achieved polls no more than 1 % behind (not 3 % over), and no error.
First, bare libcurl's multi loop (Benchmarks/bare_libcurl.c, the dependency's
own limit) at 64 in flight against the same stub, a closed loop at full speed.
Then, at pollbench's largest held count, libcurl paced as a poller must drive
it (Benchmarks/paced_libcurl.c: the same poll rate started on time over 256
handles, curl's socket API and an epoll set, pollbench's request, no pollbench
code): the floor for any poller built on this libcurl, so that what pollbench's
own code costs is measured, not guessed.

Prints every step, then for each generator the largest count held, polls per
CPU-second there, CPU and peak RSS per session; and as its last lines
ratio_vs_libcurl= (pollbench's polls per CPU-second over bare libcurl's),
ratio_vs_tsung= and ratio_vs_locust= (pollbench's polls per CPU-second over each
peer's, each at its largest held count), each with the ratio of sessions held
beside it (sessions_ratio_vs_tsung=, sessions_ratio_vs_locust=); then
ratio_vs_libcurl_paced= (pollbench's polls per CPU-second over the paced
floor's requests per CPU-second at the same rate) and libcurl_paced_vs_closed=
(the floor's over the closed loop's: the most any poller on this libcurl can
reach of ratio_vs_libcurl).

Loopback only. Every step is bounded by --duration (Tsung's by at least 60 s,
for its counts come in 10 s blocks); the whole search by the
ladder of counts. Installs what is missing (nginx, tsung, gcc from Debian;
locust from PyPI) when run as root.

Usage: python3 Benchmarks/capacity.py [--duration 40] [--pace 3]
         [--counts 2000,5000,10000,15000,20000,30000,40000,60000,80000,100000]
         [--only pollbench,tsung,locust,libcurl]
A copy of the report goes to results/benchmarks/.
"""
import argparse, csv, glob, json, os, re, resource, shutil, signal, statistics, subprocess, sys, tempfile, time

from benchlib import basic_authorization, build_libcurl_loop, build_release, free_port, need, require_two_cpus, start_nginx_serving, stop_server, write_result

SESSION_ID = "0123456789abcdef"
CREATED = ('{"verificationId":"%s","status":"initiated","providerId":"bankidse","flowType":"qr",'
           '"createdAt":"2026-12-02T00:00:00.000Z","expiresAt":"2099-12-02T00:05:00.000Z"}' % SESSION_ID)
PENDING = CREATED.replace('"initiated"', '"pending"')
GENERATORS = ["pollbench", "tsung", "locust", "libcurl"]
OPEN_FILES = 20000  # what this machine allows a process
CLIENT_ID, CLIENT_SECRET = "CAPACITY", "stub-" + "0" * 28  # the stub checks none


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=40, help="seconds of each step after its start (30-120: Tsung counts in 10 s blocks)")
    parser.add_argument("--pace", type=int, default=3, help="seconds between one session's polls (1-10)")
    parser.add_argument("--counts", default="2000,5000,10000,15000,20000,30000,40000,60000,80000,100000",
                        help="the session counts tried, rising (each 1-1000000)")
    parser.add_argument("--only", default=",".join(GENERATORS), help="the generators to run, comma-separated")
    args = parser.parse_args()
    try:
        args.counts = [int(c) for c in args.counts.split(",")]
    except ValueError:
        sys.exit("error: --counts takes whole numbers, e.g. 2000,5000,10000")
    args.only = [g for g in args.only.split(",") if g]
    if not (30 <= args.duration <= 120 and 1 <= args.pace <= 10 and args.counts == sorted(args.counts)
            and all(1 <= c <= 1_000_000 for c in args.counts) and args.only and set(args.only) <= set(GENERATORS)):
        sys.exit("error: --duration 30-120, --pace 1-10, --counts rising and 1-1000000, --only from " + ",".join(GENERATORS))
    return args


def start_stub(workdir, port):
    """nginx on CPU 0 answering the API's providers, create and status as a service whose sessions never end."""
    providers = ",".join(f'{{"id":"{p}"}}' for p in ["bankidse", "frejaid", "smartid", "evrotrust", "mitid"])
    return start_nginx_serving(workdir, port, f"""
        location = /api/v1/providers {{ return 200 '[{providers}]'; }}
        location = /api/v1/verifications {{ return 201 '{CREATED}'; }}
        location ~ ^/api/v1/verifications/[0-9a-f]+$ {{ return 200 '{PENDING}'; }}""", open_files=OPEN_FILES - 100)


def session_cpu(sid):
    """CPU seconds (user + system) of the live processes in session `sid`, from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for stat in glob.glob("/proc/[0-9]*/stat"):
        try:
            fields = open(stat).read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        if int(fields[3]) == sid:  # field 6 of stat, the session id, after pid and (comm)
            total += int(fields[11]) + int(fields[12])
    return total / ticks


def run_measured(cmd, timeout, window, env=None):
    """Runs `cmd` pinned to CPU 1 in a session of its own. Returns its exit code, stdout and stderr, the
    CPU seconds its processes spent between `window` = (start, end) seconds after it started (sampled
    from /proc; None if it ended first), and its peak RSS in MB (its largest process)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.monotonic()
        proc = subprocess.Popen(["taskset", "-c", "1"] + cmd, stdout=out, stderr=err, env=env, start_new_session=True)
        samples = []
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            elapsed = time.monotonic() - started
            if len(samples) < 2 and elapsed >= window[len(samples)]:
                samples.append(session_cpu(proc.pid))
            if elapsed > timeout:
                os.killpg(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.05)
        out.seek(0)
        err.seek(0)
        cpu = samples[1] - samples[0] if len(samples) == 2 else None
        return (os.waitstatus_to_exitcode(status), out.read().decode(errors="replace"), err.read().decode(errors="replace"),
                cpu, usage.ru_maxrss / 1024)


class Step:
    """One generator at one count: whether it held, the poll rate it kept and the CPU it spent doing so
    (both over the steady window, so that start-up and writing results do not count)."""

    def __init__(self, generator, sessions, poll_rate, cpu_rate, rss_mb, held, why, detail=""):
        # poll_rate and cpu_rate are None when not measured: never a 0 standing for "no data". A step
        # whose CPU was not sampled (its process ended before the window closed) is not held.
        if held and cpu_rate is None:
            held, why = False, "its CPU was not measured: it ended before the steady window closed"
        self.generator, self.sessions, self.poll_rate, self.cpu_rate = generator, sessions, poll_rate, cpu_rate
        self.rss_mb, self.held, self.why, self.detail = rss_mb, held, why, detail

    @property
    def polls_per_cpu(self):
        """Polls per CPU-second; None when either side was not measured."""
        return self.poll_rate / self.cpu_rate if self.poll_rate is not None and self.cpu_rate else None

    def line(self):
        verdict = "held" if self.held else "NOT held: " + self.why
        def shown(value, width, digits):
            return f"{value:{width}.{digits}f}" if value is not None else "–".rjust(width)
        return (f"{self.generator:9s} {self.sessions:7d} sessions  {shown(self.poll_rate, 9, 1)} polls/s  "
                f"{shown(None if self.cpu_rate is None else 100 * self.cpu_rate, 5, 1)} % CPU  "
                f"{shown(self.polls_per_cpu, 8, 0)} polls/CPU-s  {self.rss_mb:7.1f} MB  {verdict}"
                + (f" ({self.detail})" if self.detail else ""))


def cpu_window(pace, total):
    """When a step of `total` seconds samples its CPU, in seconds after its process started: from every
    session's first poll (plus a second for start-up) to a second before the end."""
    return (2 * pace + 2, total - 1)


def cpu_rate(cpu, window):
    """CPU seconds per second over `window`; None when the process ended before it closed."""
    return cpu / (window[1] - window[0]) if cpu is not None else None


def intended_rate(sessions, pace):
    return sessions / pace


def rate_problem(achieved, sessions, pace):
    """Why `achieved` polls per second do not keep the schedule, or None. Falling more than 1 % behind
    fails; more than intended is a counting edge (Tsung's 10 s blocks run a little long), up to 3 %."""
    intended = intended_rate(sessions, pace)
    if not 0.99 * intended <= achieved <= 1.03 * intended:
        return f"{achieved:.1f} polls/s against {intended:.1f} intended"
    return None


def pollbench_step(binary, url, sessions, args, workdir):
    output = os.path.join(workdir, "pollbench-results")
    total = args.pace + args.duration
    cmd = [binary, "run", "--target", url, "--sessions", str(sessions), "--arrival", f"constant:{sessions / args.pace:g}",
           "--strategy", f"fixed:{args.pace}s", "--max-duration", f"{total}s", "--client-timeout", "1h",
           # Its safety cap (20,000 requests a second by default) well above the rate asked: the step
           # measures the engine, not the cap.
           "--max-rate", f"{min(1_000_000, 3 * sessions / args.pace):g}",
           "--connections", "256", "--providers", "bankidse", "--output", output, "--name", f"capacity-{sessions}"]
    env = dict(os.environ, POLLBENCH_CLIENT_ID=CLIENT_ID, POLLBENCH_CLIENT_SECRET=CLIENT_SECRET)
    window = cpu_window(args.pace, total)
    code, out, err, cpu, rss = run_measured(cmd, total + 120, window, env=env)
    runs = sorted(glob.glob(os.path.join(output, f"*-capacity-{sessions}")))
    if not runs:
        sys.exit(f"error: pollbench wrote no results (exit {code}): {err.strip()[-400:]}")
    summary = json.load(open(os.path.join(runs[-1], "summary.json")))
    # timeseries.csv: requests per (model = wall, against a target that announces no time scale) second.
    per_second = {int(row["second"]): int(row["requests"]) for row in csv.DictReader(open(os.path.join(runs[-1], "timeseries.csv")))}
    shutil.rmtree(output, ignore_errors=True)
    strategy = summary["strategies"][0]
    harness = summary.get("harness") or {}
    # The steady window: after every session has started and polled once, before the run's last second.
    steady = range(args.pace * 2, total - 1)
    achieved = sum(per_second.get(second, 0) for second in steady) / len(steady)
    problems = [p for p in [rate_problem(achieved, sessions, args.pace)] if p]
    slip = strategy["scheduleSlip"]["p99"]
    if slip > 5:
        problems.append(f"slip p99 {slip:g} ms")
    latency = strategy["latency"]["status"]["fromSent"]["p99"]
    if latency > 10:
        problems.append(f"status latency p99 {latency:g} ms")
    errors = sum((strategy.get("transportErrors") or {}).values())
    if errors:
        problems.append(f"{errors} transport errors")
    if harness.get("warning"):
        problems.append("harness: " + harness["warning"])
    # What the harness saw of itself, held or not: how long answers may have sat unread (a bound) and
    # whether its long turns were its own work or a lost core.
    bound = (harness.get("socketWaitBound") or {}).get("p99")
    share = harness.get("longTurnCPUShare")
    detail = ", ".join(part for part in [
        f"slip p99 {slip:g} ms, latency p99 {latency:g} ms",
        f"answers unread ≤ {bound:g} ms (p99 over time)" if bound is not None else None,
        f"loop on CPU {100 * share:.0f} % of its turns over 1 ms" if share is not None else None,
    ] if part)
    return Step("pollbench", sessions, achieved, cpu_rate(cpu, window), rss, not problems, "; ".join(problems), detail)


TSUNG_CONF = """<?xml version="1.0"?>
<!DOCTYPE tsung SYSTEM "/usr/share/tsung/tsung-1.0.dtd">
<tsung loglevel="error" dumptraffic="false">
  <clients><client host="localhost" use_controller_vm="true" maxusers="{maxusers}"/></clients>
  <servers><server host="127.0.0.1" port="{port}" type="tcp"/></servers>
  <load duration="{total}" unit="second">
    <arrivalphase phase="1" duration="{phase}" unit="second">
      <users maxnumber="{sessions}" arrivalrate="{rate}" unit="second"/>
    </arrivalphase>
  </load>
  <options><option name="file_server" value="/dev/null"/></options>
  <sessions>
    <session name="verification" probability="100" type="ts_http">
      <request><http url="/api/v1/verifications" method="POST" contents='{{"providerId":"bankidse"}}' content_type="application/json"/></request>
      <for from="1" to="1000000" var="i">
        <thinktime value="{pace}" random="false"/>
        <request><http url="/api/v1/verifications/{session}" method="GET"/></request>
      </for>
    </session>
  </sessions>
</tsung>
"""


def tsung_step(port, sessions, args, workdir):
    # Tsung counts in 10 s blocks whose edges wander by a second or so (a block may hold 2 % more or
    # less than its share): its steps run at least 60 s, for four steady blocks.
    total = args.pace + max(args.duration, 60)
    conf = os.path.join(workdir, f"tsung-{sessions}.xml")
    with open(conf, "w") as f:
        f.write(TSUNG_CONF.format(maxusers=OPEN_FILES, port=port, total=total, pace=args.pace, sessions=sessions,
                                  phase=5 * args.pace, rate=f"{sessions / args.pace:.4f}", session=SESSION_ID))
    logs = os.path.join(workdir, f"tsung-{sessions}")
    os.makedirs(logs, exist_ok=True)
    window = cpu_window(args.pace, total)
    code, out, err, cpu, rss = run_measured(["tsung", "-f", conf, "-l", logs, "start"], total + 120, window)
    found = glob.glob(os.path.join(logs, "*", "tsung.log"))
    if not found:
        sys.exit(f"error: Tsung wrote no tsung.log (exit {code}): {(out + err).strip()[-400:]}")
    # tsung.log: every 10 s a block "# stats: dump at EPOCH", then lines "stats: NAME COUNT ..." whose first
    # number counts that block's users, requests, answers by status code, and errors ("stats: error_KIND").
    blocks = []
    for line in open(found[0]):
        fields = line.split()
        if line.startswith("# stats: dump at"):
            blocks.append({"users": 0, "request": 0, "201": 0, "errors": 0})
        elif blocks and fields[:2] == ["stats:", "users"]:
            blocks[-1]["users"] = int(fields[2])
        elif blocks and fields[:2] == ["stats:", "request"]:
            blocks[-1]["request"] = int(fields[2])
        elif blocks and fields[:2] == ["stats:", "201"]:
            blocks[-1]["201"] = int(fields[2])
        elif blocks and (line.startswith("stats: error_") or re.match(r"stats: [3-5]\d\d ", line)):
            blocks[-1]["errors"] += int(fields[2])
    # Its arrival phase starts users at exponential (Poisson) intervals, and at a few thousand a second
    # not as fast as asked, so it runs five paces with a cap of N: the whole 10 s blocks from 20 s on (by
    # then every user has started and polled) are steady; the last block is cut short by the load's end
    # (and counts the sessions it aborted as errors).
    steady = blocks[2:-1]
    if not steady:
        return Step("tsung", sessions, None, cpu_rate(cpu, window), rss, False, f"no whole 10 s block from 20 s on (exit {code})")
    rate = sum(b["request"] - b["201"] for b in steady) / (10 * len(steady))
    users = steady[-1]["users"]
    problems = [] if users == sessions else [f"{users} of {sessions} users started"]
    problems += [p for p in [rate_problem(rate, sessions, args.pace)] if p]
    errors = sum(b["errors"] for b in steady)
    if errors:
        problems.append(f"{errors} errors")
    return Step("tsung", sessions, rate, cpu_rate(cpu, window), rss, not problems, "; ".join(problems))


LOCUSTFILE = """
import random
import gevent
from locust import FastHttpUser, constant_pacing, task

PACE = {pace}


class Verification(FastHttpUser):
    wait_time = constant_pacing(PACE)

    def on_start(self):
        self.client.post("/api/v1/verifications", json={{"providerId": "bankidse"}}, name="create")
        # Locust starts each second's users together; without this their polls would fire in lock-step.
        gevent.sleep(random.uniform(0, PACE))

    @task
    def status(self):
        self.client.get("/api/v1/verifications/{session}", name="status")
"""


def locust_step(port, sessions, args, workdir):
    total = args.pace + args.duration
    locustfile = os.path.join(workdir, "locustfile.py")
    with open(locustfile, "w") as f:
        f.write(LOCUSTFILE.format(pace=args.pace, session=SESSION_ID))
    prefix = os.path.join(workdir, f"locust-{sessions}")
    cmd = ["locust", "-f", locustfile, "--headless", "-u", str(sessions), "-r", f"{sessions / args.pace:g}", "--run-time", f"{total}s",
           "-H", f"http://127.0.0.1:{port}", "--csv", prefix, "--csv-full-history", "--only-summary", "--loglevel", "ERROR"]
    window = cpu_window(args.pace, total)
    code, out, err, cpu, rss = run_measured(cmd, total + 120, window)
    history = prefix + "_stats_history.csv"
    if not os.path.exists(history):
        sys.exit(f"error: Locust wrote no history (exit {code}): {err.strip()[-400:]}")
    # The history's cumulative counts move in uneven batches (a second's row may hold 600 or 900 of 667
    # requests), so the rate is the median of its own 10 s moving rate over the steady window.
    rates = {}
    failures = 0
    for row in csv.DictReader(open(history)):
        if row["Name"] == "status":
            rates[int(row["Timestamp"])] = float(row["Requests/s"])
        if row["Name"] == "Aggregated":
            failures = int(row["Total Failure Count"])
    if not rates:
        return Step("locust", sessions, None, cpu_rate(cpu, window), rss, False, f"no status request counted (exit {code})")
    first = min(rates)
    steady = [rates[t] for t in sorted(rates) if first + 2 * args.pace + 10 <= t <= first + total - 2]
    if not steady:
        return Step("locust", sessions, None, cpu_rate(cpu, window), rss, False, "too short a steady window")
    rate = statistics.median(steady)
    problems = [p for p in [rate_problem(rate, sessions, args.pace)] if p]
    if failures:
        problems.append(f"{failures} failures")
    return Step("locust", sessions, rate, cpu_rate(cpu, window), rss, not problems, "; ".join(problems))


def libcurl_step(bare, url, duration):
    code, out, err, cpu, rss = run_measured([bare, url, "64", str(duration), "1.1", "1"], duration + 60, (1, duration - 1))
    if code != 0:
        sys.exit(f"error: bare_libcurl failed: {err.strip()}")
    result = json.loads(out.strip().splitlines()[-1])
    if result["failed"] or result["non2xx"]:
        sys.exit(f"error: bare_libcurl saw failures: {result}")
    # Its own count over its whole run, and its own CPU: a closed loop at full speed from its first second.
    return Step("libcurl", 64, result["requests"] / result["seconds"], result["cpu_seconds"] / result["seconds"], rss, True, "")


def paced_libcurl_step(paced, url, sessions, args):
    """libcurl alone at pollbench's poll rate for `sessions`: the floor's requests and CPU per second."""
    rate = sessions / args.pace
    # pollbench's request to the letter: the same credentials' Authorization header (the stub's, no secret).
    env = dict(os.environ, PACED_AUTHORIZATION=basic_authorization(CLIENT_ID, CLIENT_SECRET))
    code, out, err, cpu, rss = run_measured([paced, url, "256", str(args.duration), f"{rate:g}"], args.duration + 60, (1, args.duration - 1), env=env)
    if code != 0:
        sys.exit(f"error: paced_libcurl failed: {err.strip()}")
    result = json.loads(out.strip().splitlines()[-1])
    problems = []
    if result["failed"] or result["non2xx"]:
        problems.append(f"{result['failed']} failed, {result['non2xx']} not 2xx")
    if result["late"] > 0.01 * result["requests"]:
        problems.append(f"{result['late']} of {result['requests']} requests started over 5 ms late")
    return Step("paced", sessions, result["requests"] / result["seconds"], result["cpu_seconds"] / result["seconds"], rss, not problems, "; ".join(problems))


def search(name, run, counts, report):
    """Runs `run(count)` up the ladder until a count is not held; returns the last held step (None: none held)."""
    held = None
    for count in counts:
        step = run(count)
        report(step.line())
        if not step.held:
            break
        held = step
    return held


def main():
    args = parse_args()
    require_two_cpus()
    need("nginx", "nginx-light")
    need("cc", "gcc")
    if "tsung" in args.only:
        need("tsung", "tsung")
    if "locust" in args.only and not shutil.which("locust"):
        if os.geteuid() != 0:
            sys.exit("error: locust is missing: pip install locust")
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "locust"], check=True)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, OPEN_FILES), hard))
    binary = build_release("pollbench") if "pollbench" in args.only else None
    workdir = tempfile.mkdtemp(prefix="pollbench-capacity-")
    lines = []

    def report(line):
        lines.append(line)
        print(line, flush=True)

    port = free_port()
    nginx = start_stub(workdir, port)
    url = f"http://127.0.0.1:{port}/api/v1"
    best = {}
    try:
        report(f"each step: {args.pace} s to start every session, then {args.duration} s; a session polls every {args.pace} s")
        if "libcurl" in args.only:
            bare = build_libcurl_loop("bare_libcurl", workdir)
            best["libcurl"] = libcurl_step(bare, f"{url}/verifications/{SESSION_ID}", args.duration)
            report(best["libcurl"].line() + " (64 in flight, a closed loop)")
        runners = {
            "pollbench": lambda n: pollbench_step(binary, url, n, args, workdir),
            # One connection per user, each an open file: Tsung and Locust stop at this machine's limit.
            "tsung": lambda n: tsung_step(port, n, args, workdir),
            "locust": lambda n: locust_step(port, n, args, workdir),
        }
        for name in [g for g in GENERATORS if g in runners and g in args.only]:
            counts = args.counts if name == "pollbench" else [c for c in args.counts if c < OPEN_FILES - 500]
            best[name] = search(name, runners[name], counts, report)
        if "libcurl" in args.only and best.get("pollbench"):
            paced = build_libcurl_loop("paced_libcurl", workdir)
            best["paced"] = paced_libcurl_step(paced, f"{url}/verifications/{SESSION_ID}", best["pollbench"].sessions, args)
            report(best["paced"].line() + " (libcurl paced: pollbench's rate over 256 handles, the socket API)")
    finally:
        stop_server(nginx, signal.SIGQUIT, 5)
        shutil.rmtree(workdir, ignore_errors=True)

    results = []
    for name in GENERATORS:
        step = best.get(name)
        if name not in args.only:
            continue
        if step is None:
            results.append(f"{name}: no count held (lowest tried {args.counts[0]})")
        elif name == "libcurl":
            results.append(f"libcurl: {step.polls_per_cpu:.0f} requests/CPU-s at 64 in flight")
        else:
            results.append(f"{name}: {step.sessions} sessions held, {step.polls_per_cpu:.0f} polls/CPU-s, "
                           f"{1e6 * step.cpu_rate / step.sessions:.1f} CPU-µs per session-second, "
                           f"{1024 * step.rss_mb / step.sessions:.2f} KB peak RSS per session")
    ours = best.get("pollbench")
    for peer in ["libcurl", "tsung", "locust"]:
        theirs = best.get(peer)
        if ours and theirs and ours.polls_per_cpu and theirs.polls_per_cpu:
            results.append(f"ratio_vs_{peer}={ours.polls_per_cpu / theirs.polls_per_cpu:.3f}")
            if peer != "libcurl":
                results.append(f"sessions_ratio_vs_{peer}={ours.sessions / theirs.sessions:.3f}")
        elif peer in args.only and "pollbench" in args.only:
            results.append(f"ratio_vs_{peer}=unmeasured (a side held no count)")
    paced, closed = best.get("paced"), best.get("libcurl")
    if paced and paced.polls_per_cpu and ours and ours.polls_per_cpu:
        # At a rate the floor could not keep on time its figure is a closed loop's, not a floor: labelled.
        label = "" if paced.held else f" (the floor did not hold: {paced.why})"
        results.append(f"ratio_vs_libcurl_paced={ours.polls_per_cpu / paced.polls_per_cpu:.3f}{label}")
        if closed and closed.polls_per_cpu:
            results.append(f"libcurl_paced_vs_closed={paced.polls_per_cpu / closed.polls_per_cpu:.3f}{label}")
    print(f"(kept in {os.path.relpath(write_result('capacity', lines + results))})")
    print("\n".join(results))


if __name__ == "__main__":
    main()
