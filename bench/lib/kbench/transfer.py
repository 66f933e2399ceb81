"""Scenarios dl and ul: 1 GiB through the proxy, one transfer at a time,
kerberusd against nginx proxy_pass to the same upstream; throughput and the
server's peak resident memory during each transfer.

dl: curl GETs a 1 GiB file (sparse, served by an nginx upstream with
sendfile) and drops it. ul: curl POSTs the same file to a sink upstream
(lib/upstreams/sink.py) that reads every byte and answers with the count.
"""
import os
import statistics
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Optional

from . import procs
from .procs import BenchError, log
from .scenarios import Contestant, Goal, PairedMedians
from .servers import HELLO_BODY, check_answers

SIZE = 1 << 30
BIG_FILE = "1GiB.bin"
CHECK_FILE = "hello.txt"
BULK = "/api/proxy/bulk/"
SINK = "/api/proxy/sink/"
RSS_GOAL_MB = 64
# Per transfer: 1 GiB in this time is ~6 MB/s, far below anything working.
TRANSFER_TIMEOUT_S = 180


@dataclass
class TransferScenario:
    key: str
    title: str
    a: Contestant
    b: Contestant
    upload: bool
    chunked: bool = False
    goal: Optional[Goal] = None  # on the throughput ratio A/B
    rss_goal: Optional[str] = None  # text of A's peak-RSS goal
    rounds: Optional[int] = None  # None: the run's transfer rounds

    @property
    def servers(self):
        return {self.a.server, self.b.server}

    @property
    def upstream(self):
        return "sink" if self.upload else "bulk"


def transfer_scenarios():
    k1 = "kerberusd (1 worker)"
    return [
        TransferScenario("dl", "1 GiB download through the proxy",
                         Contestant(f"{k1} GET {BULK}{BIG_FILE}", "kerberus1", BULK + BIG_FILE),
                         Contestant("nginx (1 worker) proxy_pass, no temp file", "nginx1", BULK + BIG_FILE),
                         upload=False,
                         goal=Goal("1 GiB download through the proxy ≥ 1.0× nginx proxy_pass", 1.0),
                         rss_goal="kerberusd's peak RSS during a 1 GiB download"),
        TransferScenario("ul", "1 GiB upload through the proxy (Content-Length)",
                         Contestant(f"{k1} POST {SINK}", "kerberus1", SINK),
                         Contestant("nginx (1 worker) proxy_pass, request buffering off", "nginx1", SINK),
                         upload=True,
                         goal=Goal("1 GiB upload through the proxy ≥ 1.0× nginx proxy_pass", 1.0),
                         rss_goal="kerberusd's peak RSS during a 1 GiB upload (Content-Length)"),
        TransferScenario("ul", "1 GiB upload through the proxy (chunked, 1 round)",
                         Contestant(f"{k1} POST {SINK}, chunked", "kerberus1", SINK),
                         Contestant("nginx (1 worker) proxy_pass, request buffering off, chunked", "nginx1", SINK),
                         upload=True, chunked=True,
                         rss_goal="kerberusd's peak RSS during a 1 GiB upload (chunked)", rounds=1),
    ]


@dataclass
class Transfer:
    """One 1 GiB transfer."""
    mb_s: Optional[float] = None  # 10^6 bytes per second, start to answer's end
    peak_rss_kib: Optional[int] = None
    before_rss_kib: Optional[int] = None  # when it began, for the log
    error: Optional[str] = None


@dataclass
class TransferOutcome(PairedMedians):
    scenario: TransferScenario
    a: list = field(default_factory=list)  # Transfer per round
    b: list = field(default_factory=list)
    direct_mb_s: Optional[float] = None  # curl to the upstream itself, no proxy
    rss_method: str = "VmHWM"

    @staticmethod
    def _median(samples):
        ok = [s.mb_s for s in samples if s.error is None]
        return statistics.median(ok) if ok else None

    @staticmethod
    def _peak_mb(samples):
        values = [s.peak_rss_kib for s in samples if s.peak_rss_kib is not None]
        return max(values) * 1024 / 1e6 if values else None

    @property
    def peak_rss_a_mb(self):
        return self._peak_mb(self.a)

    @property
    def peak_rss_b_mb(self):
        return self._peak_mb(self.b)

    @property
    def failures(self):
        return [s for s in self.a + self.b if s.error is not None]

    @property
    def ratio_met(self):
        goal = self.scenario.goal
        return goal is not None and not self.failures and goal.met(self.ratio)

    @property
    def rss_met(self):
        peak = self.peak_rss_a_mb
        return not [s for s in self.a if s.error] and peak is not None and peak < RSS_GOAL_MB


# ---- the files and the peak-memory reading --------------------------------

def prepare_files(cache_dir):
    """bench/.cache/transfer: the 1 GiB file (sparse: no disk blocks) and a
    small check file. Returns the directory, with the big file read once so
    that it is in the page cache before anything is timed."""
    files = os.path.join(cache_dir, "transfer")
    os.makedirs(files, exist_ok=True)
    big = os.path.join(files, BIG_FILE)
    if not os.path.exists(big) or os.path.getsize(big) != SIZE:
        with open(big, "wb") as f:
            f.truncate(SIZE)
    with open(os.path.join(files, CHECK_FILE), "w") as f:
        f.write(HELLO_BODY)
    scratch = bytearray(1 << 20)
    with open(big, "rb", buffering=0) as f:
        while f.readinto(scratch):
            pass
    return files


class PeakRss:
    """The peak resident memory of a process and its children over a span.

    The kernel's own high-water mark: writing 5 to /proc/<pid>/clear_refs
    resets VmHWM to the current RSS, so VmHWM afterwards is the peak of the
    span exactly. Where that is refused, VmRSS is sampled every 5 ms.
    """

    def __init__(self, pid):
        self.pids = [pid] + procs.descendants(pid)
        self.method = "VmHWM"
        self._sampled = 0
        self._stop = threading.Event()
        self._thread = None

    def __enter__(self):
        self.before = sum(status_kib(p, "VmRSS") for p in self.pids)
        try:
            for p in self.pids:
                with open(f"/proc/{p}/clear_refs", "w") as f:
                    f.write("5")
        except OSError:
            self.method = "sampled VmRSS"
            self._thread = threading.Thread(target=self._sample, daemon=True)
            self._thread.start()
        return self

    def _sample(self):
        while not self._stop.wait(0.005):
            self._sampled = max(self._sampled, sum(status_kib(p, "VmRSS") for p in self.pids))

    def __exit__(self, *exc):
        if self._thread:
            self._stop.set()
            self._thread.join(timeout=5)

    def kib(self):
        if self._thread:
            return self._sampled
        return sum(status_kib(p, "VmHWM") for p in self.pids)


def status_kib(pid, field_name):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


# ---- curl -------------------------------------------------------------------

def curl(url, cores, upload_file=None, chunked=False):
    """One transfer with curl pinned to `cores`: (status, bytes moved, seconds, answer body).

    Downloads go to /dev/null; uploads POST the file as it is read, with its
    Content-Length or chunked, and without Expect: 100-continue, so no
    contestant waits a round trip (or curl's 1 s) before the body.
    """
    argv = ["taskset", "-c", ",".join(map(str, sorted(cores))), "curl", "-sS", "--max-time", str(TRANSFER_TIMEOUT_S)]
    if upload_file:
        argv += ["-X", "POST", "-T", upload_file, "-H", "Expect:", "-H", "Content-Type: application/octet-stream"]
        if chunked:
            argv += ["-H", "Transfer-Encoding: chunked"]
        argv += ["-o", "-", "-w", "\\n%{http_code} %{size_upload} %{time_total}"]
    else:
        argv += ["-o", "/dev/null", "-w", "\\n%{http_code} %{size_download} %{time_total}"]
    argv.append(url)
    try:
        code, out = procs.run_tracked(argv, timeout=TRANSFER_TIMEOUT_S + 15)
    except subprocess.TimeoutExpired as e:
        raise BenchError(f"curl {url} did not finish within {TRANSFER_TIMEOUT_S + 15} s") from e
    body, _, last = out.rstrip("\n").rpartition("\n")
    fields = last.split()
    if len(fields) != 3:
        return None, 0, 0.0, f"curl exit {code}: {out.strip()[-300:]}"
    status, moved, seconds = int(fields[0]), int(fields[1]), float(fields[2])
    if code != 0:
        body = f"curl exit {code}: {body.strip()[-300:]}"
    return status, moved, seconds, body.strip()


def transfer_error(scenario, status, moved, body):
    """Why a transfer does not count, or None."""
    if status != 200:
        return f"answered {status}: {body[:200]!r}"
    # A chunked upload's count includes the chunk framing: the sink's
    # count is the one that tells.
    if moved != SIZE and not (scenario.chunked and moved > SIZE):
        return f"moved {moved:,} of {SIZE:,} bytes ({body[:200]!r})"
    if scenario.upload and body != str(SIZE):
        return f"the sink counted {body[:100]!r} body bytes, not {SIZE}"
    return None


def measure(scenario, server, path, cores, upload_file):
    with PeakRss(server.proc.pid) as peak:
        status, moved, seconds, body = curl(server.url(path), cores, upload_file, scenario.chunked)
    error = transfer_error(scenario, status, moved, body)
    if error:
        log(f"scenario {scenario.key}: {server.name}: {error}")
        return Transfer(peak_rss_kib=peak.kib(), before_rss_kib=peak.before, error=error), peak.method
    return Transfer(mb_s=SIZE / seconds / 1e6, peak_rss_kib=peak.kib(), before_rss_kib=peak.before), peak.method


def http_post(url, data, timeout=5.0):
    request = urllib.request.Request(url, data=data, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")
    except (OSError, urllib.error.URLError) as e:
        return None, str(e)


def check_sink(server, path):
    """The sink answers a small POST through this contestant with its length."""
    status, body = http_post(server.url(path), HELLO_BODY.encode())
    if status != 200 or body != f"{len(HELLO_BODY)}\n":
        raise BenchError(f"{server.name}: POST {path} answered {status} {body[:200]!r}, expected 200 "
                         f"'{len(HELLO_BODY)}\\n'; log: {server.proc.log_path}\n{procs.tail(server.proc.log_path)}")


def run_transfer(scenario, servers, rounds, cores, files):
    """One transfer straight from/to the upstream (the reference, and a warm
    page cache for the file), then A B A B ... for `rounds`."""
    outcome = TransferOutcome(scenario)
    big = os.path.join(files, BIG_FILE)
    upload_file = big if scenario.upload else None
    upstream = servers[scenario.upstream]
    pairs = [(scenario.a, outcome.a), (scenario.b, outcome.b)]
    for contestant, _ in pairs:
        if scenario.upload:
            check_sink(servers[contestant.server], contestant.path)
        else:
            check_answers(servers[contestant.server], BULK + CHECK_FILE, HELLO_BODY)
    status, moved, seconds, body = curl(upstream.url("/" if scenario.upload else "/" + BIG_FILE), cores,
                                        upload_file, scenario.chunked)
    error = transfer_error(scenario, status, moved, body)
    if error:
        raise BenchError(f"{upstream.name} alone: {error}; log: {upstream.proc.log_path}\n"
                         f"{procs.tail(upstream.proc.log_path)}")
    outcome.direct_mb_s = SIZE / seconds / 1e6
    log(f"scenario {scenario.key}: straight {'to' if scenario.upload else 'from'} the upstream "
        f"{outcome.direct_mb_s:,.0f} MB/s")
    rounds = scenario.rounds or rounds
    for r in range(rounds):
        for contestant, samples in pairs:
            sample, outcome.rss_method = measure(scenario, servers[contestant.server], contestant.path, cores,
                                                 upload_file)
            samples.append(sample)
        log(f"scenario {scenario.key}{' (chunked)' if scenario.chunked else ''} round {r + 1}/{rounds}: "
            + ", ".join(f"{side} {mb_s_text(s)}, peak RSS {s.peak_rss_kib / 1024:.1f} MiB "
                        f"({s.before_rss_kib / 1024:.1f} before)"
                        for side, s in (("A", outcome.a[-1]), ("B", outcome.b[-1]))))
    return outcome


def mb_s_text(sample):
    return "failed" if sample.error else f"{sample.mb_s:,.0f} MB/s"
