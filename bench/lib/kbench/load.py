"""Driving load with wrk and reading its report."""
import os
import re
import subprocess

from . import procs
from .procs import BenchError

TEMPLATES = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "templates")
FIXED_RATE_SCRIPT = os.path.join(TEMPLATES, "fixed-rate.lua")


class Sample:
    """One wrk run."""

    def __init__(self, rps, requests, bad_status, socket_errors, p50_ms=None, p99_ms=None):
        self.rps = rps
        self.requests = requests
        self.bad_status = bad_status
        self.socket_errors = socket_errors
        self.p50_ms = p50_ms
        self.p99_ms = p99_ms

    @property
    def clean(self):
        """Every answer was 2xx/3xx and no socket failed: otherwise a fast
        error page could pass for throughput."""
        return self.bad_status == 0 and self.socket_errors == 0 and self.requests > 0


def wrk(url, cores, duration_s, connections, rate=None, latency=False):
    """Runs wrk (one thread) pinned to `cores` against url.

    With `rate`, connections are paced to about that many requests per
    second in total (see templates/fixed-rate.lua).
    """
    argv = ["taskset", "-c", ",".join(map(str, sorted(cores))), "wrk", "-t1", f"-c{connections}",
            f"-d{duration_s}s", "--timeout", "5s"]
    if latency:
        argv.append("--latency")
    if rate is not None:
        argv += ["-s", FIXED_RATE_SCRIPT, url, "--", str(rate), str(connections)]
    else:
        argv.append(url)
    try:
        code, out = procs.run_tracked(argv, timeout=duration_s + 30)
    except subprocess.TimeoutExpired as e:
        raise BenchError(f"wrk against {url} did not finish within {duration_s + 30} s") from e
    if code != 0 or "Requests/sec" not in out:
        raise BenchError(f"wrk against {url} failed (exit {code}):\n{out}")
    return parse(out)


def parse(out):
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    requests = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return Sample(rps=rps, requests=requests,
                  bad_status=int(bad.group(1)) if bad else 0,
                  socket_errors=sum(int(x) for x in errors.groups()) if errors else 0,
                  p50_ms=percentile(out, "50"), p99_ms=percentile(out, "99"))


UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def percentile(out, pct):
    """A line of wrk's --latency distribution, e.g. '    99%    1.23ms', in ms."""
    m = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.MULTILINE)
    return float(m.group(1)) * UNIT_MS[m.group(2)] if m else None
