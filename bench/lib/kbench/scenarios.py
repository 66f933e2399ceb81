"""The throughput and latency scenarios: who is compared with whom, on which
URL, against which goal, and how the rounds alternate."""
import statistics
from dataclasses import dataclass, field
from typing import Optional

from . import load
from .procs import log
from .servers import HELLO_BODY, check_answers

HELLO = "/api/hello/world"
LIVENESS = "/.kerberus/health/v1/liveness"
PROXY = "/api/proxy/up/"


@dataclass
class Contestant:
    label: str
    server: str  # key of the running server (see bench.py: start_servers)
    path: str
    body: Optional[str] = HELLO_BODY  # None: any 200 will do


@dataclass
class Goal:
    text: str
    min_ratio: float

    def met(self, ratio):
        return ratio is not None and ratio >= self.min_ratio


@dataclass
class Scenario:
    key: str
    title: str
    a: Contestant
    b: Contestant
    goal: Optional[Goal] = None

    @property
    def servers(self):
        return {self.a.server, self.b.server}


def throughput_scenarios():
    k1 = "kerberusd (1 worker)"
    k2 = "kerberusd (2 workers)"
    return [
        Scenario("1", "plugin route vs nginx return 200",
                 Contestant(f"{k1} {HELLO}", "kerberus1", HELLO),
                 Contestant("nginx (1 worker) return 200", "nginx1", HELLO),
                 Goal("plugin route ≥ 1.0× nginx return 200", 1.0)),
        Scenario("2", "plugin ABI crossing",
                 Contestant(f"{k1} {HELLO}", "kerberus1", HELLO),
                 Contestant(f"{k1} {LIVENESS}", "kerberus1", LIVENESS, body=None),
                 Goal("ABI crossing ≤ 3% (ratio ≥ 0.97)", 0.97)),
        Scenario("1log", "access log cost",
                 Contestant(f"{k1} with access_log (text, to a file) {HELLO}", "kerberus1log", HELLO),
                 Contestant(f"{k1} {HELLO}", "kerberus1", HELLO)),
        Scenario("3", "proxy vs nginx proxy_pass",
                 Contestant(f"{k1} {PROXY}", "kerberus1", PROXY),
                 Contestant("nginx (1 worker) proxy_pass, keepalive pool", "nginx1", PROXY),
                 Goal("proxy ≥ 1.0× nginx proxy_pass", 1.0)),
        Scenario("4", "proxy vs Backstage proxy-backend",
                 Contestant(f"{k1} {PROXY}", "kerberus1", PROXY),
                 Contestant(f"Backstage proxy-backend {PROXY}", "backstage", PROXY),
                 Goal("proxy ≥ 10× Backstage proxy-backend", 10.0)),
        Scenario("5", "plugin route vs Backstage plugin route",
                 Contestant(f"{k1} {HELLO}", "kerberus1", HELLO),
                 Contestant(f"Backstage plugin {HELLO}", "backstage", HELLO)),
        Scenario("1w2", "plugin route vs nginx return 200, 2 workers",
                 Contestant(f"{k2} {HELLO}", "kerberus2", HELLO),
                 Contestant("nginx (2 workers) return 200", "nginx2", HELLO)),
        Scenario("3w2", "proxy vs nginx proxy_pass, 2 workers",
                 Contestant(f"{k2} {PROXY}", "kerberus2", PROXY),
                 Contestant("nginx (2 workers) proxy_pass, keepalive pool", "nginx2", PROXY)),
        # 1 over TLS (keep-alive: the handshakes are a few per run, the
        # records are what is measured), one certificate for both.
        Scenario("tls", "plugin route vs nginx return 200, over TLS",
                 Contestant(f"{k1} {HELLO} over TLS", "kerberus1tls", HELLO),
                 Contestant("nginx (1 worker) return 200 over TLS", "nginx1tls", HELLO)),
    ]


class PairedMedians:
    """Rounds of contestants A and B (lists `a` and `b`): their medians, by
    the subclass's _median(samples), and the ratio A/B."""

    @property
    def median_a(self):
        return self._median(self.a)

    @property
    def median_b(self):
        return self._median(self.b)

    @property
    def ratio(self):
        a, b = self.median_a, self.median_b
        return a / b if a and b else None


@dataclass
class Outcome(PairedMedians):
    scenario: Scenario
    a: list = field(default_factory=list)  # load.Sample per round
    b: list = field(default_factory=list)
    skipped: Optional[str] = None

    @staticmethod
    def _median(samples):
        return statistics.median(s.rps for s in samples) if samples else None

    @property
    def unclean(self):
        return [s for s in self.a + self.b if not s.clean]


@dataclass
class Plan:
    rounds: int
    duration_s: int
    warmup_s: int
    connections: int
    client_cores: set


def run_throughput(scenario, servers, plan):
    """Warms both contestants up, then alternates A B A B ... for plan.rounds."""
    outcome = Outcome(scenario)
    pairs = [(scenario.a, outcome.a), (scenario.b, outcome.b)]
    for contestant, _ in pairs:
        check_answers(servers[contestant.server], contestant.path, contestant.body)
    for contestant, _ in pairs:
        load.wrk(servers[contestant.server].url(contestant.path), plan.client_cores, plan.warmup_s,
                 plan.connections)
    for r in range(plan.rounds):
        for contestant, samples in pairs:
            samples.append(load.wrk(servers[contestant.server].url(contestant.path), plan.client_cores,
                                    plan.duration_s, plan.connections))
        log(f"scenario {scenario.key} round {r + 1}/{plan.rounds}: "
            f"A {outcome.a[-1].rps:,.0f} req/s, B {outcome.b[-1].rps:,.0f} req/s")
    for s in outcome.unclean:
        log(f"scenario {scenario.key}: a run had {s.bad_status} non-2xx answers and {s.socket_errors} socket errors")
    return outcome


# ---- latency at a fixed rate ----------------------------------------------

LATENCY_CONNECTIONS = 100


@dataclass
class LatencyOutcome:
    label: str
    target_rps: int
    samples: list = field(default_factory=list)

    def median(self, attr):
        values = [getattr(s, attr) for s in self.samples if getattr(s, attr) is not None]
        return statistics.median(values) if values else None


def latency_contestants():
    return [Contestant("kerberusd (1 worker) " + HELLO, "kerberus1", HELLO),
            Contestant("nginx (1 worker) return 200", "nginx1", HELLO)]


def paced_rate(url, target, cores):
    """The rate to ask the pacing script for so that wrk achieves about `target`.

    Each connection's period is its delay plus the answer's latency plus
    wrk's timer slack (whole milliseconds), so the achieved rate falls short
    by an amount that depends on the server; two 1 s probes correct for it.
    """
    asked = target
    for _ in range(2):
        probe = load.wrk(url, cores, 1, LATENCY_CONNECTIONS, rate=asked)
        if probe.rps <= 0:
            break
        asked = min(int(asked * target / probe.rps), 2 * target)
    return asked


def run_latency(servers, plan, rate, rounds):
    """p50/p99 of each contestant at the same paced rate, alternating."""
    contestants = latency_contestants()
    outcomes = [LatencyOutcome(c.label, rate) for c in contestants]
    asked = {}
    for c in contestants:
        check_answers(servers[c.server], c.path, c.body)
        asked[c.label] = paced_rate(servers[c.server].url(c.path), rate, plan.client_cores)
    for r in range(rounds):
        for c, outcome in zip(contestants, outcomes):
            outcome.samples.append(load.wrk(servers[c.server].url(c.path), plan.client_cores, plan.duration_s,
                                            LATENCY_CONNECTIONS, rate=asked[c.label], latency=True))
        log(f"latency round {r + 1}/{rounds}: " + ", ".join(
            f"{o.label.split()[0]} p50 {o.samples[-1].p50_ms:.3f} ms p99 {o.samples[-1].p99_ms:.3f} ms "
            f"at {o.samples[-1].rps:,.0f} req/s" for o in outcomes))
    return outcomes
