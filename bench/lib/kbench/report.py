"""The report: Markdown tables that also read well in a terminal."""

MET, MISSED = "✓", "✗"


def table(header, rows):
    """A pipe table padded to column width: valid Markdown, aligned as text."""
    cells = [[str(c) for c in header]] + [[str(c) for c in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]

    def line(row):
        return "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), rule] + [line(r) for r in cells[1:]])


def rps(value):
    return f"{value:,.0f}" if value is not None else "—"


def ratio_text(value):
    return f"{value:.2f}" if value is not None else "—"


def goal_cell(goal, ratio):
    if goal is None:
        return "—"
    if ratio is None:
        return f"≥ {goal.min_ratio:.2f} (not measured)"
    return f"≥ {goal.min_ratio:.2f} {MET if goal.met(ratio) else MISSED}"


def throughput_table(outcomes):
    rows = []
    for o in outcomes:
        s = o.scenario
        mark = " †" if o.unclean else ""
        if o.skipped:
            rows.append([s.key, s.title, s.a.label, "—", s.b.label, "—", "—", f"skipped: {o.skipped}"])
            continue
        rows.append([s.key, s.title, s.a.label, rps(o.median_a) + mark, s.b.label, rps(o.median_b) + mark,
                     ratio_text(o.ratio), goal_cell(s.goal, o.ratio)])
    return table(["#", "scenario", "contestant A", "A req/s", "contestant B", "B req/s", "A/B", "goal"], rows)


def mb(value, digits=1):
    return f"{value:,.{digits}f}" if value is not None else "—"


def transfer_table(outcomes, rss_goal_mb):
    rows = []
    for o in outcomes:
        s = o.scenario
        mark_a = " †" if [t for t in o.a if t.error] else ""
        mark_b = " †" if [t for t in o.b if t.error] else ""
        goals = []
        if s.goal is not None:
            goals.append(goal_cell(s.goal, o.ratio) if not o.failures else f"≥ {s.goal.min_ratio:.2f} {MISSED}")
        if s.rss_goal is not None:
            goals.append(f"A RSS < {rss_goal_mb} MB {mark(o.rss_met)}")
        rows.append([s.key, s.title, s.a.label, mb(o.median_a, 0) + mark_a, mb(o.peak_rss_a_mb),
                     s.b.label, mb(o.median_b, 0) + mark_b, mb(o.peak_rss_b_mb), ratio_text(o.ratio),
                     ", ".join(goals) or "—"])
    return table(["#", "scenario", "contestant A", "A MB/s", "A peak RSS MB", "contestant B", "B MB/s",
                  "B peak RSS MB", "A/B", "goal"], rows)


def tunnel_table(outcome, max_drop):
    rows = []
    for o, tunnels in ((outcome.without, 0), (outcome.with_tunnels, outcome.count)):
        if o is None:
            continue
        s = o.scenario
        marker = " †" if o.unclean else ""
        goal = "—"
        if tunnels:
            change = outcome.change
            goal = (f"drop ≤ {max_drop:.0%}: {change:+.1%} {mark(outcome.met)}" if change is not None
                    else f"drop ≤ {max_drop:.0%} (not measured)")
        rows.append([s.key, f"{tunnels:,}", s.a.label, rps(o.median_a) + marker, s.b.label, rps(o.median_b) + marker,
                     ratio_text(o.ratio), goal])
    return table(["#", "idle tunnels", "contestant A", "A req/s", "contestant B", "B req/s", "A/B", "goal"], rows)


def latency_table(outcomes):
    rows = [[o.label, rps(o.target_rps), rps(o.median("rps")), f"{o.median('p50_ms'):.3f}",
             f"{o.median('p99_ms'):.3f}"] for o in outcomes]
    return table(["contestant", "paced at req/s", "achieved req/s", "p50 ms", "p99 ms"], rows)


def startup_table(outcomes, ready_goal_ms, rss_goal_mb):
    rows = []
    for o in outcomes:
        ready = f"{o.median_ready_ms:.1f} ({min(o.ready_ms):.1f}–{max(o.ready_ms):.1f})"
        rss = f"{o.median_rss_mb:.1f}"
        goal = (f"ready ≤ {ready_goal_ms} ms {mark(o.median_ready_ms <= ready_goal_ms)}, "
                f"RSS ≤ {rss_goal_mb} MB {mark(o.median_rss_mb <= rss_goal_mb)}") if o.plugin_count else "—"
        rows.append([o.label, o.plugins, ready, rss, goal])
    return table(["contestant", "plugins", "exec → ready ms, median (min–max)", "idle RSS MB", "goal"], rows)


def mark(ok):
    return MET if ok else MISSED


def goals_footer(throughput, startup, ready_goal_ms, rss_goal_mb, tunnels=None, max_drop=None, transfers=(),
                 transfer_rss_goal_mb=None):
    """One line per goal of the issue: met, missed, or not measured."""
    lines = []
    for o in throughput:
        goal = o.scenario.goal
        if goal is None:
            continue
        if o.skipped or o.ratio is None:
            lines.append(f"- – {goal.text}: not measured ({o.skipped or 'no data'})")
        else:
            lines.append(f"- {mark(goal.met(o.ratio))} {goal.text}: {o.ratio:.2f}× (scenario {o.scenario.key})")
    if tunnels is not None:
        text = f"scenario 1's ratio with {tunnels.count:,} idle WebSocket tunnels open drops ≤ {max_drop:.0%}"
        if tunnels.change is None:
            lines.append(f"- {MISSED} {text}: not measured ({tunnels.error or 'no data'}) (scenario 1ws)")
        else:
            why = f"; {tunnels.error}" if tunnels.error else ""
            why += "; some runs had errors (†)" if tunnels.without.unclean or tunnels.with_tunnels.unclean else ""
            lines.append(f"- {mark(tunnels.met)} {text}: {tunnels.without.ratio:.2f} → "
                         f"{tunnels.with_tunnels.ratio:.2f} ({tunnels.change:+.1%}{why}) (scenario 1ws)")
    for o in transfers:
        s = o.scenario
        failed = f"; {len(o.failures)} transfer(s) failed (†)" if o.failures else ""
        if s.goal is not None:
            figure = f"{o.ratio:.2f}×" if o.ratio is not None else "not measured"
            lines.append(f"- {mark(o.ratio_met)} {s.goal.text}: {figure}{failed} (scenario {s.key})")
        if s.rss_goal is not None:
            peak = o.peak_rss_a_mb
            figure = f"{peak:.1f} MB" if peak is not None else "not measured"
            lines.append(f"- {mark(o.rss_met)} {s.rss_goal} < {transfer_rss_goal_mb} MB: {figure} "
                         f"(scenario {s.key})")
    kerberus = next((o for o in startup if o.plugin_count), None)
    if kerberus is None:
        lines.append(f"- – 100 plugins to READY ≤ {ready_goal_ms} ms: not measured")
        lines.append(f"- – idle RSS with 100 plugins ≤ {rss_goal_mb} MB: not measured")
    else:
        lines.append(f"- {mark(kerberus.median_ready_ms <= ready_goal_ms)} {kerberus.plugin_count} plugins "
                     f"to READY ≤ {ready_goal_ms} ms: {kerberus.median_ready_ms:.1f} ms")
        lines.append(f"- {mark(kerberus.median_rss_mb <= rss_goal_mb)} idle RSS with "
                     f"{kerberus.plugin_count} plugins ≤ {rss_goal_mb} MB: {kerberus.median_rss_mb:.1f} MB")
    return "\n".join(lines)
