"""Scenario 1ws: scenario 1 (kerberusd's plugin route against nginx return
200) measured without and with idle WebSocket tunnels held open through
kerberusd's proxy to an echo upstream (lib/upstreams/ws_echo.py).

Every handshake must answer 101 with the right Sec-WebSocket-Accept before
anything is measured; afterwards no tunnel may have been closed and a few
must still echo a frame.
"""
import base64
import hashlib
import os
import resource
import select
import socket
import time
from dataclasses import dataclass, field
from typing import Optional

from . import load
from .procs import BenchError, log
from .scenarios import HELLO, Contestant, Outcome, Scenario
from .servers import check_answers

WS_PATH = "/api/proxy/ws/"
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_DROP = 0.05  # the ratio with tunnels may be at most 5% below the one without
ECHO_CHECKS = 10
OPEN_TIMEOUT_S = 120  # for all the handshakes together
IO_TIMEOUT_S = 5


def scenario_pair(count):
    k1 = "kerberusd (1 worker)"
    a = Contestant(f"{k1} {HELLO}", "kerberus1", HELLO)
    b = Contestant("nginx (1 worker) return 200", "nginx1", HELLO)
    return (Scenario("1ws", "plugin route vs nginx return 200, no tunnels", a, b),
            Scenario("1ws", f"plugin route vs nginx return 200, {count:,} idle WebSocket tunnels", a, b))


@dataclass
class TunnelOutcome:
    count: int
    without: object = None  # scenarios.Outcome
    with_tunnels: object = None
    checks: list = field(default_factory=list)  # what was verified, for the report
    error: Optional[str] = None

    @property
    def change(self):
        """Relative change of scenario 1's ratio once the tunnels are open."""
        if self.without is None or self.with_tunnels is None:
            return None
        r0, r1 = self.without.ratio, self.with_tunnels.ratio
        return r1 / r0 - 1 if r0 and r1 else None

    @property
    def met(self):
        return (self.error is None and self.change is not None and self.change >= -MAX_DROP
                and not self.without.unclean and not self.with_tunnels.unclean)


# ---- a minimal WebSocket client -------------------------------------------

def accept_value(key):
    return base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ConnectionError(f"closed after {len(data)} of {n} bytes")
        data += chunk
    return data


def client_frame(payload):
    """A masked text frame (clients must mask, RFC 6455 5.3); payload < 126 bytes."""
    mask = os.urandom(4)
    return bytes([0x81, 0x80 | len(payload)]) + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


class Tunnels:
    """`count` WebSocket connections through kerberusd, held open."""

    def __init__(self, port, path, count):
        self.port, self.path, self.count = port, path, count
        self.socks = []

    def open(self):
        deadline = time.monotonic() + OPEN_TIMEOUT_S
        for i in range(self.count):
            if time.monotonic() > deadline:
                raise BenchError(f"1ws: only {i} of {self.count} tunnels opened within {OPEN_TIMEOUT_S} s")
            try:
                self.socks.append(self._handshake())
            except (OSError, ValueError) as e:
                raise BenchError(f"1ws: WebSocket handshake {i + 1} of {self.count} through "
                                 f"127.0.0.1:{self.port}{self.path} failed: {e}") from e

    def _handshake(self):
        key = base64.b64encode(os.urandom(16)).decode()
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=IO_TIMEOUT_S)
        try:
            sock.sendall((f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nUpgrade: websocket\r\n"
                          f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
                         .encode())
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = sock.recv(4096)
                if not chunk:
                    raise ValueError(f"connection closed after {head[:200]!r}")
                head += chunk
                if len(head) > 16384:
                    raise ValueError("answer head over 16 KiB")
            text, _, extra = head.partition(b"\r\n\r\n")
            lines = text.decode("latin-1").split("\r\n")
            if not lines[0].startswith("HTTP/1.1 101"):
                raise ValueError(f"answered {lines[0]!r}, not 101: {head[:300]!r}")
            headers = {n.strip().lower(): v.strip() for n, _, v in (line.partition(":") for line in lines[1:])}
            if headers.get("sec-websocket-accept") != accept_value(key):
                raise ValueError(f"Sec-WebSocket-Accept {headers.get('sec-websocket-accept')!r}, "
                                 f"expected {accept_value(key)!r}")
            if extra:
                raise ValueError(f"{len(extra)} unexpected bytes after the 101")
            return sock
        except BaseException:
            sock.close()
            raise

    def closed(self):
        """Indices of tunnels the other side closed (or sent anything on)."""
        poller = select.poll()
        for s in self.socks:
            poller.register(s, select.POLLIN | select.POLLHUP | select.POLLERR)
        fds = {s.fileno(): i for i, s in enumerate(self.socks)}
        return sorted(fds[fd] for fd, _ in poller.poll(0))

    def echo(self, checks):
        """Sends a frame on `checks` tunnels spread over all; each must come back."""
        picks = sorted({i * self.count // checks for i in range(checks)} | {self.count - 1})
        for i in picks:
            payload = f"tunnel {i} {time.monotonic():.6f}".encode()
            sock = self.socks[i]
            try:
                sock.sendall(client_frame(payload))
                b0, b1 = recv_exact(sock, 2)
                got = recv_exact(sock, b1 & 0x7F)
            except OSError as e:
                raise BenchError(f"1ws: tunnel {i + 1} of {self.count} did not echo: {e}") from e
            if b0 != 0x81 or b1 & 0x80 or got != payload:
                raise BenchError(f"1ws: tunnel {i + 1} echoed {bytes([b0, b1]) + got!r}, "
                                 f"expected a text frame {payload!r}")
        return len(picks)

    def close(self):
        for s in self.socks:
            s.close()
        self.socks = []


# ---- descriptors -----------------------------------------------------------

def raise_open_files_limit():
    """Soft RLIMIT_NOFILE up to the hard limit, inherited by every process
    the harness starts (kerberusd needs two descriptors per tunnel)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else 1 << 20
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            pass


def open_files_limit(pid):
    """The soft 'Max open files' of a running process."""
    with open(f"/proc/{pid}/limits") as f:
        for line in f:
            if line.startswith("Max open files"):
                value = line.split()[3]
                return 1 << 62 if value == "unlimited" else int(value)
    raise BenchError(f"no 'Max open files' in /proc/{pid}/limits")


def open_fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return None


def require_descriptors(servers, count):
    needs = {"the harness": (os.getpid(), count + 64),
             servers["kerberus1"].name: (servers["kerberus1"].proc.pid, 2 * count + 64),
             servers["wsecho"].name: (servers["wsecho"].proc.pid, count + 64)}
    for name, (pid, needed) in needs.items():
        limit = open_files_limit(pid)
        if limit < needed:
            raise BenchError(f"1ws: {name} may open {limit} files, {count:,} tunnels need about {needed}; "
                             f"raise the limit (ulimit -n, or LimitNOFILE= under systemd) or pass --tunnels N")


# ---- the scenario ------------------------------------------------------------

def run_tunnels(servers, plan, count):
    """Scenario 1 without and with `count` tunnels open, alternating.

    Each round measures A and B without tunnels, opens the tunnels (every
    handshake checked), measures A and B again, checks every tunnel is still
    open and a few echo, and closes them: the two ratios compared come from
    adjacent minutes, so a shared machine's drift hits both.
    """
    outcome = TunnelOutcome(count)
    without, with_tunnels = scenario_pair(count)
    outcome.without, outcome.with_tunnels = Outcome(without), Outcome(with_tunnels)
    require_descriptors(servers, count)
    kerberus = servers["kerberus1"]
    pairs = [(without.a, outcome.without.a), (without.b, outcome.without.b)]
    for contestant, _ in pairs:
        check_answers(servers[contestant.server], contestant.path, contestant.body)
    for contestant, _ in pairs:
        load.wrk(servers[contestant.server].url(contestant.path), plan.client_cores, plan.warmup_s,
                 plan.connections)
    fds = []  # (before, with the tunnels, after) per round
    opened_s, echoed = [], 0
    for r in range(plan.rounds):
        for contestant, samples in pairs:
            samples.append(load.wrk(servers[contestant.server].url(contestant.path), plan.client_cores,
                                    plan.duration_s, plan.connections))
        fds_before = open_fds(kerberus.proc.pid)
        tunnels = Tunnels(kerberus.port, WS_PATH, count)
        try:
            began = time.monotonic()
            tunnels.open()
            opened_s.append(time.monotonic() - began)
            fds_open = open_fds(kerberus.proc.pid)
            echoed = tunnels.echo(ECHO_CHECKS)
            for contestant, samples in ((with_tunnels.a, outcome.with_tunnels.a),
                                        (with_tunnels.b, outcome.with_tunnels.b)):
                samples.append(load.wrk(servers[contestant.server].url(contestant.path), plan.client_cores,
                                        plan.duration_s, plan.connections))
            error = after_check(tunnels, count)
        finally:
            tunnels.close()
        fds.append((fds_before, fds_open, wait_for_fds(kerberus.proc.pid, fds_before)))
        log(f"scenario 1ws round {r + 1}/{plan.rounds}: without tunnels A {outcome.without.a[-1].rps:,.0f} req/s, "
            f"B {outcome.without.b[-1].rps:,.0f} req/s; {count:,} tunnels open in {opened_s[-1]:.1f} s, "
            f"A {outcome.with_tunnels.a[-1].rps:,.0f} req/s, B {outcome.with_tunnels.b[-1].rps:,.0f} req/s; "
            f"kerberusd's descriptors {fds[-1][0]} → {fds[-1][1]} → {fds[-1][2]}")
        if error:
            outcome.error = f"round {r + 1}: {error}"
            log(f"scenario 1ws: {outcome.error}")
            break
    for o in (outcome.without, outcome.with_tunnels):
        for s in o.unclean:
            log(f"scenario 1ws: a run had {s.bad_status} non-2xx answers and {s.socket_errors} socket errors")
    outcome.checks.append(f"in each round all {count:,} handshakes answered 101 with the right "
                          f"Sec-WebSocket-Accept (in {max(opened_s):.1f} s at most) and {echoed} of the tunnels, "
                          f"spread over them, echoed a frame before wrk ran")
    if not outcome.error:
        outcome.checks.append(f"after wrk, all {count:,} were still open (none readable) and the same "
                              f"{echoed} echoed again")
    outcome.checks.append("kerberusd's open descriptors before, with and after the tunnels: "
                          + ", ".join(f"{a} → {b} → {c}" for a, b, c in fds))
    return outcome


def after_check(tunnels, count):
    """Why the tunnels are not all open and echoing after a measurement, or None."""
    closed = tunnels.closed()
    if closed:
        return f"{len(closed)} of {count:,} tunnels were closed (or got bytes) while idle, the first #{closed[0] + 1}"
    try:
        tunnels.echo(ECHO_CHECKS)
    except BenchError as e:
        return str(e)
    return None


def wait_for_fds(pid, target, timeout=5.0):
    """kerberusd's descriptor count once it is back to `target`, or after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        n = open_fds(pid)
        if n is None or n <= target or time.monotonic() > deadline:
            return n
        time.sleep(0.05)
