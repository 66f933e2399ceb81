"""bench/run: kerberusd against nginx and a Backstage backend. See bench/README.md."""
import argparse
import datetime
import grp
import os
import platform
import pwd
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kbench import load, procs, report, setup, transfer, tunnels  # noqa: E402
from kbench.procs import BenchError, log  # noqa: E402
from kbench.scenarios import (LATENCY_CONNECTIONS, Outcome, Plan, latency_contestants, run_latency,  # noqa: E402
                              run_throughput, throughput_scenarios)
from kbench.servers import (BACKSTAGE_SKELETON, make_certificate, start_backstage, start_kerberus,  # noqa: E402
                            start_nginx, start_python_upstream)
from kbench.startup import run_startup  # noqa: E402

BENCH = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(BENCH)
CACHE = os.path.join(BENCH, ".cache")

READY_GOAL_MS = 100
RSS_GOAL_MB = 30

# Scenario length per mode: (rounds, seconds per run, warm-up seconds,
# startup repetitions, latency rounds, seconds per latency run, rounds of
# 1 GiB transfers).
MODES = {
    "quick": dict(rounds=3, duration=1, warmup=1, startup_reps=3, latency_rounds=1, latency_duration=2,
                  transfer_rounds=1),
    "full": dict(rounds=5, duration=8, warmup=2, startup_reps=5, latency_rounds=3, latency_duration=8,
                 transfer_rounds=3),
}

# Offsets from --base-port.
PORTS = {"upstream": 0, "nginx1": 1, "nginx2": 2, "kerberus1": 3, "kerberus2": 4, "backstage": 5,
         "startup_kerberus": 6, "startup_backstage": 7, "kerberus1log": 8, "bulk": 9, "sink": 10, "wsecho": 11,
         "kerberus1tls": 12, "nginx1tls": 13}

TRANSFER_KEYS = ["dl", "ul"]
ALL_KEYS = [s.key for s in throughput_scenarios()] + ["1ws", "6", "7"] + TRANSFER_KEYS


def parse_args(argv):
    p = argparse.ArgumentParser(prog="bench/run", description=__doc__)
    p.add_argument("--quick", action="store_true", help="short runs, under 2 minutes once built")
    p.add_argument("--output", default=os.path.join(BENCH, "results", "last.md"),
                   help="Markdown report (default bench/results/last.md)")
    p.add_argument("--only", help=f"comma-separated scenarios to run, of: {','.join(ALL_KEYS)}")
    p.add_argument("--no-backstage", action="store_true", help="leave out every Backstage contestant")
    p.add_argument("--install-backstage", action="store_true", help="only install the Backstage peer, then exit")
    p.add_argument("--base-port", type=int, default=18400,
                   help=f"first of {len(PORTS)} consecutive ports (default 18400)")
    p.add_argument("--plugins", type=int, default=100, help="plugins for the startup scenario (default 100)")
    p.add_argument("--tunnels", type=int, default=1000,
                   help="idle WebSocket tunnels for scenario 1ws (default 1000)")
    p.add_argument("--rounds", type=int, help="override: alternating rounds per scenario")
    p.add_argument("--duration", type=int, help="override: seconds per wrk run")
    args = p.parse_args(argv)
    args.keys = ALL_KEYS if not args.only else [k.strip() for k in args.only.split(",") if k.strip()]
    unknown = [k for k in args.keys if k not in ALL_KEYS]
    if unknown:
        p.error(f"unknown scenario(s) {', '.join(unknown)}; choose from {', '.join(ALL_KEYS)}")
    mode = dict(MODES["quick" if args.quick else "full"])
    if args.tunnels < 1:
        p.error("--tunnels must be at least 1")
    if args.rounds:
        mode["rounds"] = mode["startup_reps"] = mode["latency_rounds"] = mode["transfer_rounds"] = args.rounds
    if args.duration:
        mode["duration"] = mode["latency_duration"] = args.duration
    args.mode = mode
    return args


def pick_cores():
    """Two CPUs: the server under test gets the first, wrk and the upstream the second."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        raise BenchError(f"needs 2 CPUs (server and load generator on separate cores), has {len(cpus)}")
    return {cpus[0]}, {cpus[1]}


def backstage_app(args):
    """The installed Backstage app dir, or (None, reason) when it is left out."""
    if args.no_backstage:
        return None, "--no-backstage"
    if setup.backstage_installed(BACKSTAGE_SKELETON, CACHE):
        return setup.install_backstage(BACKSTAGE_SKELETON, CACHE), None
    if args.quick:
        log("Backstage is not installed yet, so --quick leaves it out. To include it, install it once "
            "(about 3 minutes): bench/run --install-backstage")
        return None, "not installed (bench/run --install-backstage)"
    return setup.install_backstage(BACKSTAGE_SKELETON, CACHE), None


# ---- servers for the throughput and latency scenarios ---------------------

def start_servers(needed, daemon, bundled, app_dir, files, tmp, ports, server_cores, client_cores):
    """Starts each server in `needed` (plus the upstream); returns name -> Server."""
    both = server_cores | client_cores
    up = ports["upstream"]
    # Every kerberusd and nginx peer routes to all upstreams; those of the
    # transfer and WebSocket scenarios run only when these do.
    routes = dict(upstream_port=up, bulk_port=ports["bulk"], sink_port=ports["sink"], ws_port=ports["wsecho"])
    tls = {}
    if needed & {"kerberus1tls", "nginx1tls"}:
        cert, key = make_certificate(os.path.join(tmp, "tls"))
        tls = dict(cert=cert, key=key, cafile=cert)
    starters = {
        "nginx1": lambda: start_nginx("nginx (1 worker)", "nginx-peer.conf", os.path.join(tmp, "nginx1"),
                                      ports["nginx1"], server_cores, workers=1, **routes),
        "nginx2": lambda: start_nginx("nginx (2 workers)", "nginx-peer.conf", os.path.join(tmp, "nginx2"),
                                      ports["nginx2"], both, workers=2, **routes),
        "kerberus1": lambda: start_kerberus("kerberusd (1 worker)", daemon, os.path.join(tmp, "kerberus1"),
                                            ports["kerberus1"], server_cores, "kerberus.yaml", workers=1,
                                            plugin_dir=bundled, access_log="false", access_log_path="-", **routes),
        "kerberus1log": lambda: start_kerberus("kerberusd (1 worker, access log)", daemon,
                                               os.path.join(tmp, "kerberus1log"), ports["kerberus1log"], server_cores,
                                               "kerberus.yaml", workers=1, plugin_dir=bundled, access_log="true",
                                               access_log_path=os.path.join(tmp, "kerberus1log", "access.log"),
                                               **routes),
        "kerberus2": lambda: start_kerberus("kerberusd (2 workers)", daemon, os.path.join(tmp, "kerberus2"),
                                            ports["kerberus2"], both, "kerberus.yaml", workers=2,
                                            plugin_dir=bundled, access_log="false", access_log_path="-", **routes),
        "kerberus1tls": lambda: start_kerberus("kerberusd (1 worker, TLS)", daemon, os.path.join(tmp, "kerberus1tls"),
                                               ports["kerberus1tls"], server_cores, "kerberus-tls.yaml", workers=1,
                                               plugin_dir=bundled, **tls),
        "nginx1tls": lambda: start_nginx("nginx (1 worker, TLS)", "nginx-tls.conf", os.path.join(tmp, "nginx1tls"),
                                         ports["nginx1tls"], server_cores, workers=1, **tls),
        "backstage": lambda: start_backstage("Backstage backend", app_dir, os.path.join(tmp, "backstage"),
                                             ports["backstage"], server_cores, upstream_port=up),
        # The upstreams of dl, ul and 1ws share the load generator's core,
        # like the shared upstream.
        "bulk": lambda: start_nginx("bulk upstream nginx", "nginx-bulk.conf", os.path.join(tmp, "bulk"),
                                    ports["bulk"], client_cores, files=files, user=current_user()),
        "sink": lambda: start_python_upstream("sink upstream", "sink.py", os.path.join(tmp, "sink"), ports["sink"],
                                              client_cores),
        "wsecho": lambda: start_python_upstream("WebSocket echo upstream", "ws_echo.py", os.path.join(tmp, "wsecho"),
                                                ports["wsecho"], client_cores),
    }
    # The upstream shares the load generator's core: the core under test
    # serves only the contestant.
    servers = {"upstream": start_nginx("upstream nginx", "nginx-upstream.conf", os.path.join(tmp, "upstream"),
                                       up, client_cores)}
    for name in sorted(needed):
        log(f"starting {name}")
        servers[name] = starters[name]()
    return servers


def current_user():
    """`user group` for nginx's worker: the harness's own."""
    return f"{pwd.getpwuid(os.getuid()).pw_name} {grp.getgrgid(os.getgid()).gr_name}"


def stop_servers(servers):
    for s in servers.values():
        s.stop()


# ---- the run ---------------------------------------------------------------

def machine_info():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": model,
        "nproc": os.cpu_count(),
        "kernel": platform.release(),
        "nginx": setup.tool_version(["nginx", "-v"], r"nginx/(\S+)"),
        "wrk": setup.tool_version(["wrk", "-v"], r"wrk (\S+)"),
        "node": setup.tool_version(["node", "--version"], r"v(\S+)") if shutil.which("node") else "—",
        "kerberus": git_revision(),
    }


def git_revision():
    """The commit measured (read-only git), marked when the tree has changes."""
    try:
        rev = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return (rev or "?") + (" (with uncommitted changes)" if dirty else "")


def main(argv):
    args = parse_args(argv)
    procs.install_cleanup()
    tunnels.raise_open_files_limit()
    began = time.monotonic()
    setup.ensure_debian_tools()

    if args.install_backstage:
        path = setup.install_backstage(BACKSTAGE_SKELETON, CACHE)
        log(f"Backstage backend installed in {path}")
        return 0

    server_cores, client_cores = pick_cores()
    ports = {name: args.base_port + offset for name, offset in PORTS.items()}
    procs.require_free_ports(ports.values())

    daemon, bundled = setup.build_kerberus(REPO, os.path.join(CACHE, "kerberus-build"))
    app_dir, no_backstage_reason = backstage_app(args)

    tmp = tempfile.mkdtemp(prefix="kerberus-bench.")
    procs.on_exit(lambda: shutil.rmtree(tmp, ignore_errors=True))
    mode = args.mode

    startup = []
    if "6" in args.keys:
        plugin_dir = setup.build_many_plugins(REPO, CACHE, args.plugins)
        log(f"scenario 6: startup, {mode['startup_reps']} rounds")
        startup = run_startup(daemon, plugin_dir, args.plugins, app_dir, tmp, ports, server_cores,
                              mode["startup_reps"])

    chosen = [s for s in throughput_scenarios() if s.key in args.keys]
    runnable = [s for s in chosen if app_dir or "backstage" not in s.servers]
    needed = set().union(*(s.servers for s in runnable)) if runnable else set()
    if "7" in args.keys:
        needed |= {c.server for c in latency_contestants()}
    if "1ws" in args.keys:
        needed |= {"kerberus1", "nginx1", "wsecho"}
    chosen_transfers = [s for s in transfer.transfer_scenarios() if s.key in args.keys]
    for s in chosen_transfers:
        needed |= s.servers | {s.upstream}
    files = transfer.prepare_files(CACHE) if chosen_transfers else None

    throughput, latency, rate, ws, transfers = [], [], None, None, []
    if needed:
        servers = start_servers(needed, daemon, bundled, app_dir, files, tmp, ports, server_cores, client_cores)
        plan = Plan(mode["rounds"], mode["duration"], mode["warmup"], 50, client_cores)
        for s in chosen:
            if s not in runnable:
                throughput.append(Outcome(s, skipped=f"Backstage {no_backstage_reason}"))
                continue
            log(f"scenario {s.key}: {s.title}, {plan.rounds} rounds of {plan.duration_s} s")
            throughput.append(run_throughput(s, servers, plan))
        if "1ws" in args.keys:
            ws = tunnels.run_tunnels(servers, plan, args.tunnels)
        if "7" in args.keys:
            rate = latency_rate(throughput, servers, plan)
            log(f"scenario 7: latency at {rate:,} req/s")
            latency_plan = Plan(mode["latency_rounds"], mode["latency_duration"], 0, 0, client_cores)
            latency = run_latency(servers, latency_plan, rate, mode["latency_rounds"])
        for s in chosen_transfers:
            log(f"scenario {s.key}: {s.title}")
            transfers.append(transfer.run_transfer(s, servers, mode["transfer_rounds"], client_cores, files))
        stop_servers(servers)

    elapsed = time.monotonic() - began
    text = render(args, machine_info(), throughput, latency, startup, server_cores, client_cores, elapsed,
                  no_backstage_reason, ws, transfers)
    print(text)
    write_output(args.output, text)
    log(f"report written to {args.output} ({elapsed:.0f} s in all)")
    return 0


def latency_rate(throughput, servers, plan):
    """Half the lower of the two peaks of scenario 1, so both run below saturation."""
    first = next((o for o in throughput if o.scenario.key == "1" and not o.skipped), None)
    if first is not None:
        peak = min(first.median_a, first.median_b)
    else:
        peak = min(load.wrk(servers[c.server].url(c.path), plan.client_cores, 2, plan.connections).rps
                   for c in latency_contestants())
    return max(int(peak / 2), 100)


def write_output(path, text):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        f.write(text + "\n")


def render(args, machine, throughput, latency, startup, server_cores, client_cores, elapsed, no_backstage,
           ws=None, transfers=()):
    mode = args.mode
    c0, c1 = min(server_cores), min(client_cores)
    when = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    out = [
        f"# kerberus benchmark ({'quick' if args.quick else 'full'} run, {when})",
        "",
        f"Machine: {machine['cpu']}, nproc {machine['nproc']}, Linux {machine['kernel']}. "
        f"kerberus {machine['kerberus']} (Release); nginx {machine['nginx']}; wrk {machine['wrk']}; "
        f"node {machine['node']}.",
        "",
        f"Cores: the server under test on CPU {c0} (taskset; kerberusd `server.workers: 1`, nginx 1 worker, "
        f"Backstage's one Node process); wrk (1 thread) and the proxies' upstream (nginx, 1 worker, `return 200`) "
        f"on CPU {c1}. The 2-worker rows give the server CPUs {c0},{c1}, so it shares CPU {c1} with wrk "
        f"and the upstream: they show how far a second worker helps on 2 cores, not a clean 2x.",
        "",
    ]
    if throughput:
        out += [
            f"## Throughput (wrk -t1 -c50, {mode['rounds']} alternating rounds A B A B … of {mode['duration']} s "
            f"after a {mode['warmup']} s warm-up each; medians)",
            "",
            report.throughput_table(throughput),
            "",
        ]
        if any(o.unclean for o in throughput):
            out += ["† some runs got non-2xx answers or socket errors; see the log above.", ""]
    if ws is not None:
        out += [
            f"## Scenario 1 with {ws.count:,} idle WebSocket tunnels (wrk as above, after a {mode['warmup']} s "
            f"warm-up each; {mode['rounds']} rounds of: A B without tunnels, the tunnels opened, A B with them, "
            f"the tunnels closed; runs of {mode['duration']} s; medians)",
            "",
            report.tunnel_table(ws, tunnels.MAX_DROP),
            "",
            f"The tunnels go through kerberusd's proxy (`{tunnels.WS_PATH}`, `ws: true`, `timeout: 10m`) to a "
            f"WebSocket echo upstream (Python asyncio, CPU {c1}); the harness holds their client ends and sends "
            "nothing on them while wrk runs. Checks: " + "; ".join(ws.checks) + "."
            + (f" **{ws.error}.**" if ws.error else ""),
            "",
        ]
    if latency:
        out += [
            f"## Latency at a fixed rate (half the lower peak of scenario 1; {mode['latency_rounds']} alternating "
            f"rounds of {mode['latency_duration']} s; medians)",
            "",
            report.latency_table(latency),
            "",
            "wrk2 (constant rate) is not in Debian: this is plain wrk with a fixed count of "
            f"{LATENCY_CONNECTIONS} connections, each paced by a Lua delay() so that together they send "
            "about the target rate, and wrk's --latency distribution. Two 1 s probes per contestant calibrate "
            "the pacing so both reach about the same rate (achieved column). Latency is counted from when a "
            "request is written, without wrk2's coordinated-omission correction.",
            "",
        ]
    if startup:
        out += [
            f"## Startup and idle memory ({mode['startup_reps']} alternating starts, pinned to CPU {c0})",
            "",
            report.startup_table(startup, READY_GOAL_MS, RSS_GOAL_MB),
            "",
            "kerberusd: exec → `READY=1` on a NOTIFY_SOCKET bound by the harness; Backstage: exec → "
            "`/.backstage/health/v1/readiness` answers 200 (polled every 5 ms). Idle RSS: VmRSS from "
            "/proc/<pid>/status (with children) 1 s after ready; MB = 10^6 bytes.",
            "",
        ]
    if transfers:
        direct = "; ".join(f"{'to the sink' if o.scenario.upload else 'from the file server'}"
                           f"{' (chunked)' if o.scenario.chunked else ''} {o.direct_mb_s:,.0f} MB/s"
                           for o in transfers if o.direct_mb_s)
        out += [
            f"## 1 GiB through the proxy (curl, one transfer at a time, {mode['transfer_rounds']} alternating "
            f"round(s) A B …; medians; peak RSS: the highest of the rounds)",
            "",
            report.transfer_table(transfers, transfer.RSS_GOAL_MB),
            "",
            f"curl (CPU {c1}) downloads a 1 GiB file (sparse, in the page cache) that an nginx upstream serves "
            "with sendfile, and drops it; or POSTs that file (Content-Length, or chunked; no `Expect`) to a "
            "Python sink upstream that reads every byte and answers with the count, which must be 1073741824. "
            f"Both upstreams run on CPU {c1}. MB/s: 10^6 bytes over curl's total time. Peak RSS of the server "
            "(nginx: master + worker) over each transfer: "
            + ("VmHWM, reset before the transfer through /proc/<pid>/clear_refs"
               if all(o.rss_method == "VmHWM" for o in transfers) else "VmRSS sampled every 5 ms")
            + f"; MB = 10^6 bytes. Straight to the upstreams, without a proxy (one transfer each): {direct or '—'}.",
            "",
        ]
        if any(o.failures for o in transfers):
            out += ["† some transfers failed; see the log above.", ""]
    out += ["## Goals", "", report.goals_footer(throughput, startup, READY_GOAL_MS, RSS_GOAL_MB, ws, tunnels.MAX_DROP,
                                                transfers, transfer.RSS_GOAL_MB), ""]
    notes = []
    if no_backstage:
        notes.append(f"Backstage left out: {no_backstage}.")
    notes.append("Backstage runs with NODE_ENV=production and LOG_LEVEL=warn; nginx with access_log off; "
                 "kerberusd logs no requests. Every contestant answers `Hello, world!\\n` as text/plain, "
                 "except kerberusd's liveness route (`{\"status\":\"ok\"}`) and the 1 GiB transfers.")
    notes.append(f"Run took {elapsed:.0f} s.")
    out += ["Notes: " + " ".join(notes)]
    return "\n".join(out)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchError as e:
        log(f"error: {e}")
        sys.exit(1)
    except KeyboardInterrupt:
        sys.exit(130)
