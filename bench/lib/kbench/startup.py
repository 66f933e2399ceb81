"""Scenario 6: time from exec to ready, and resident memory once idle.

kerberusd: exec -> READY=1 on our own NOTIFY_SOCKET, with 100 plugins built
from the hello template. Backstage: exec -> its readiness URL answers 200.
RSS is VmRSS (of the process and its children) about 1 s after ready.
"""
import os
import statistics
import time
from dataclasses import dataclass, field

from . import procs, servers
from .notify import NotifySocket, status_of
from .procs import BenchError, log

IDLE_S = 1.0


@dataclass
class StartupOutcome:
    label: str
    plugins: str  # what the table says about the plugins loaded
    plugin_count: int = 0  # for the goal line; 0 for Backstage
    ready_ms: list = field(default_factory=list)
    rss_kib: list = field(default_factory=list)

    @property
    def median_ready_ms(self):
        return statistics.median(self.ready_ms) if self.ready_ms else None

    @property
    def median_rss_mb(self):
        # MB as in the goal: 10^6 bytes.
        return statistics.median(self.rss_kib) * 1024 / 1e6 if self.rss_kib else None


def kerberus_once(daemon, plugin_dir, workdir, port, cores, count):
    """One start of kerberusd with `count` plugins: (ms to READY=1, RSS KiB)."""
    os.makedirs(workdir, exist_ok=True)
    conf = servers.render(os.path.join(servers.TEMPLATES, "kerberus-many.yaml"),
                          os.path.join(workdir, "kerberus.yaml"), port=port, plugin_dir=plugin_dir)
    sock = NotifySocket(os.path.join(workdir, "notify.sock"))
    try:
        env = sock.env()
        started = time.monotonic()
        proc = procs.spawn([daemon, "--config", conf], cores, os.path.join(workdir, "kerberusd.log"), env=env)
        ready = sock.wait_ready(30, proc)
    finally:
        sock.close()
    try:
        if ready is None:
            procs.fail_started(proc, "kerberusd with the generated plugins sent no READY=1")
        expected = f"{count} plugins running, 0 failed"
        if expected not in status_of(ready[1]):
            raise BenchError(f"kerberusd reported '{status_of(ready[1])}', expected '{expected}'; "
                             f"log: {proc.log_path}")
        ready_ms = (ready[0] - started) * 1000
        time.sleep(IDLE_S)
        rss = procs.rss_kib(proc.pid)
        # Only now (RSS is taken): every plugin really serves.
        for pid in (f"bench{0:03d}", f"bench{count - 1:03d}"):
            status, body = procs.http_get(f"http://127.0.0.1:{port}/api/{pid}/world")
            if status != 200:
                raise BenchError(f"kerberusd with {count} plugins: /api/{pid}/world answered {status} {body!r}")
        return ready_ms, rss
    finally:
        procs.stop(proc)


def backstage_once(app_dir, workdir, port, cores, upstream_port):
    """One start of the Backstage backend: (ms to readiness 200, RSS KiB)."""
    os.makedirs(workdir, exist_ok=True)
    argv = servers.backstage_argv(app_dir, workdir, port, upstream_port)
    started = time.monotonic()
    proc = procs.spawn(argv, cores, os.path.join(workdir, "backstage.log"), env=servers.backstage_env(),
                       cwd=app_dir)
    try:
        # Polled every 5 ms: the resolution of the figure, small against ~2 s.
        procs.wait_until(lambda: servers.readiness_ok(port), proc, 90, "Backstage backend", interval=0.005)
        ready_ms = (time.monotonic() - started) * 1000
        time.sleep(IDLE_S)
        return ready_ms, procs.rss_kib(proc.pid)
    finally:
        procs.stop(proc)


def run_startup(daemon, plugin_dir, count, app_dir, tmp, ports, cores, reps):
    """Alternates kerberusd and Backstage starts `reps` times."""
    kerberus = StartupOutcome("kerberusd", f"{count} (hello template)", count)
    backstage = StartupOutcome("Backstage backend", "proxy-backend + hello") if app_dir else None
    for r in range(reps):
        ms, rss = kerberus_once(daemon, plugin_dir, os.path.join(tmp, f"startup-k{r}"), ports["startup_kerberus"],
                                cores, count)
        kerberus.ready_ms.append(ms)
        kerberus.rss_kib.append(rss)
        line = f"startup round {r + 1}/{reps}: kerberusd READY=1 after {ms:.1f} ms, RSS {rss / 1024:.1f} MiB"
        if backstage:
            ms, rss = backstage_once(app_dir, os.path.join(tmp, f"startup-b{r}"), ports["startup_backstage"],
                                     cores, ports["upstream"])
            backstage.ready_ms.append(ms)
            backstage.rss_kib.append(rss)
            line += f"; Backstage ready after {ms:.0f} ms, RSS {rss / 1024:.0f} MiB"
        log(line)
    return [o for o in (kerberus, backstage) if o]
