#!/usr/bin/env python3
"""A long run's memory, the sandbox's and the client's: their RSS while sessions come at a steady rate.

Starts `pollbench sandbox` (release build) at time scale 10 with 1 % injected
5xx (so that fault streams are kept), then `pollbench run` against it: fixed:3s
sessions arriving at --rate per model second (10 per wall second each) for
--minutes of wall time. Samples both processes' RSS and the sandbox's sessions
in memory every 10 s, prints them, and as its last lines rss_first_minute_mb=,
rss_last_mb= and rss_growth_second_half_mb= (the RSS when sessions stop
arriving, less the RSS halfway there) for the sandbox, and the same three
prefixed client_ for the run.
Loopback only; the run is bounded by --minutes.

Usage: python3 Benchmarks/sandbox-rss.py [--minutes 10] [--rate 10]
A copy of the report goes to results/benchmarks/.
"""
import argparse, json, os, shutil, signal, subprocess, sys, tempfile, threading, time, urllib.request

from benchlib import basic_authorization, build_release, free_port, stop_server, wait_for_port, write_result

CLIENT_ID = "RSS00001"
CLIENT_SECRET = "ab" * 32  # a throwaway credential for a loopback-only sandbox
SCALE = 10


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--minutes", type=float, default=10, help="wall minutes of sessions (1-60)")
    parser.add_argument("--rate", type=float, default=10, help="sessions per model second (at time scale 10: ten times that per wall second)")
    args = parser.parse_args()
    if not 1 <= args.minutes <= 60 or not 0 < args.rate <= 100:
        sys.exit("error: --minutes must be 1-60 and --rate above 0 and at most 100")
    sessions = int(args.rate * SCALE * args.minutes * 60)
    binary = build_release("pollbench")
    workdir = tempfile.mkdtemp(prefix="pollbench-rss-")
    config = os.path.join(workdir, "faults.json")
    with open(config, "w") as f:
        json.dump({"faults": {"serverErrorRate": 0.01}}, f)
    env = dict(os.environ, POLLBENCH_CLIENT_ID=CLIENT_ID, POLLBENCH_CLIENT_SECRET=CLIENT_SECRET)
    port = free_port()
    server = subprocess.Popen([binary, "sandbox", "--port", str(port), "--time-scale", str(SCALE), "--config", config,
                               "--credentials-file", os.path.join(workdir, "credentials")],
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    samples, lines = [], []
    done = threading.Event()
    client = None

    def sample():
        auth = basic_authorization(CLIENT_ID, CLIENT_SECRET)
        start = time.monotonic()
        while not done.is_set():
            health = urllib.request.Request(f"http://127.0.0.1:{port}/admin/health", headers={"Authorization": auth})
            with urllib.request.urlopen(health, timeout=5) as response:
                held = json.load(response)["sessionsInMemory"]
            try:
                client_mb = rss_kib(client.pid) / 1024
            except (FileNotFoundError, StopIteration):
                break  # the run has ended
            samples.append((time.monotonic() - start, rss_kib(server.pid) / 1024, held, client_mb))
            line = f"{samples[-1][0]:6.0f} s  sandbox RSS {samples[-1][1]:7.1f} MB  sessions in memory {held:6}  run RSS {client_mb:7.1f} MB"
            lines.append(line)
            print(line, flush=True)
            done.wait(10)

    try:
        wait_for_port(port, server, "pollbench sandbox")
        client = subprocess.Popen([binary, "run", "--target", f"http://127.0.0.1:{port}/api/v1", "--strategy", "fixed:3s",
                                   "--arrival", f"constant:{args.rate}", "--sessions", str(sessions), "--max-duration", f"{int(args.minutes) + 2}m",
                                   "--name", "rss", "--output", os.path.join(workdir, "results")],
                                  env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        if client.wait(timeout=args.minutes * 60 + 300) != 0:
            sys.exit(f"error: pollbench run exited with {client.returncode}")
        done.set()
        sampler.join()
    finally:
        done.set()
        if client and client.poll() is None:
            client.kill()
        stop_server(server, signal.SIGTERM, 10)
        shutil.rmtree(workdir, ignore_errors=True)
    # Growth while sessions arrive: from the first minute's sample to the last one before arrivals stop
    # (after that, sessions only end and the run writes its results).
    arriving = [sample for sample in samples if sample[0] <= args.minutes * 60]
    results = []
    for prefix, column in (("", 1), ("client_", 3)):
        first = next(sample[column] for sample in samples if sample[0] >= 60)
        half = next(sample[column] for sample in arriving if sample[0] >= arriving[-1][0] / 2)
        results += [f"{prefix}rss_first_minute_mb={first:.1f}", f"{prefix}rss_last_mb={arriving[-1][column]:.1f}",
                    f"{prefix}rss_growth_second_half_mb={arriving[-1][column] - half:.1f}"]
    header = f"{sessions} sessions at {args.rate * SCALE:g} per wall second (time scale {SCALE}, 1 % injected 5xx), {args.minutes:g} min"
    print(f"(kept in {os.path.relpath(write_result('sandbox-rss', [header] + lines + results))})")
    print("\n".join(results))


if __name__ == "__main__":
    main()
