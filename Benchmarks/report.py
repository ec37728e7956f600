#!/usr/bin/env python3
"""Turns one run's raw outputs (Benchmarks/.out, written by run.sh) into the final table.

Inputs in --out:
  boundary-{cwauth,dynsec}-NAME-rR.txt   acl_bench's one line for boundary policy NAME in round R
  boundary-{cwauth,dynsec}-NAME-rR.err   its stderr (allocation passes, log calls)
  facts/db_NAME.facts                    apply_ms of the cached cwauth.db
  swift-bench.md     ordo-one/benchmark markdown of the reference and build benchmarks
  check-rR.md        the same for the "check NAME" benchmarks of round R (1..--rounds)
  facts/*.facts      key=value lines from the Swift benchmarks' setup (exact allocation
                     totals, batch size, snapshot heap bytes, decode time, correctness)
  dynsec-NAME-rR.txt acl_bench's line for dynsec on in-core policy NAME in round R (mixed_median_ns)
  throughput.txt     apply_ms=..., then "noauth|cwauth messages_per_second=..." lines
  machine.txt        nproc, cpu, versions

Prints the tables (boundary first, then in-core) and target verdicts, and writes them to --results (markdown).
Python 3 standard library only.
"""

import argparse
import datetime
import os
import re
import statistics
import sys

UNIT_NS = {"ns": 1, "μs": 1e3, "us": 1e3, "ms": 1e6, "s": 1e9}
SCALE = {"": 1, "K": 1e3, "M": 1e6, "G": 1e9}


def read_kv(path):
    out = {}
    if os.path.exists(path):
        for line in open(path):
            line = line.strip()
            if "=" in line:
                k, v = line.split("=", 1)
                out[k] = v
    return out


def parse_markdown(path):
    """{benchmark name: {"time_ns": {p: ns}, "mallocs": {p: n}, "samples": n}}"""
    res, current = {}, None
    cols = None
    for line in open(path, encoding="utf-8", errors="replace"):
        line = line.rstrip("\n")
        m = re.match(r"^### (.+)$", line)
        if m:
            current = res.setdefault(m.group(1).strip(), {})
            cols = None
            continue
        if current is None or not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if cells[0] == "Metric":
            cols = cells
            continue
        if cols is None or cells[0].startswith(":--"):
            continue
        label = cells[0]
        vals = {}
        for c, v in zip(cols[1:], cells[1:]):
            try:
                vals[c] = float(v.replace(",", ""))
            except ValueError:
                pass
        # e.g. "Time (wall clock) (ns) *", "Malloc (total) (K) *"
        t = re.match(r"^Time \(wall clock\) \((ns|μs|us|ms|s)\)", label)
        if t:
            current["time_ns"] = {k: v * UNIT_NS[t.group(1)] for k, v in vals.items() if k.startswith("p")}
            current["samples"] = int(vals.get("Samples", 0))
            continue
        mm = re.match(r"^Malloc \(total\)(?: \((K|M|G)\))?", label)
        if mm:
            current["mallocs"] = {k: v * SCALE[mm.group(1) or ""] for k, v in vals.items() if k.startswith("p")}
    return res


def fmt_ns(x):
    if x is None:
        return "—"
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.1f}"


def fmt_allocs(x):
    if x != x:  # NaN: no facts
        return "—"
    return "0" if x == 0 else f"{x:,.2f}"


def fmt_ratio(x):
    if x is None:
        return "—"
    if x >= 10:
        return f"{x:,.0f}×"
    return f"{x:.1f}×" if x >= 1 else f"{x:.3f}×"


def read_line_kv(path):
    """acl_bench's one stdout line (key=value words) as a dict; {} when missing."""
    if not os.path.exists(path):
        return {}
    return dict(w.split("=", 1) for w in open(path).read().split() if "=" in w)


def verdict(ok):
    return "met" if ok else "NOT met"


def med(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else None


def table(header, aligns, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(aligns) + "|"]
    lines.extend("| " + " | ".join(r) + " |" for r in rows)
    return lines


# ------------------------------------------------------------------------------------------
# Boundary: acl_bench on both plugins
# ------------------------------------------------------------------------------------------

def boundary_section(out, names, n_rounds, problems):
    """Returns (table lines, targets, details, per-policy figures)."""
    rows, details, per = [], [], {}
    for name in names:
        rounds = []
        for r in range(1, n_rounds + 1):
            cw = read_line_kv(os.path.join(out, f"boundary-cwauth-{name}-r{r}.txt"))
            dy = read_line_kv(os.path.join(out, f"boundary-dynsec-{name}-r{r}.txt"))
            if "allow_median_ns" not in cw or "allow_median_ns" not in dy:
                problems.append(f"boundary round {r} of {name} has no cwauth or dynsec figure")
                continue
            f = {k: float(cw[k]) for k in ("allow_median_ns", "allow_p99_ns", "deny_median_ns", "deny_p99_ns",
                                           "allocs_per_allow", "allocs_per_deny", "init_ms")}
            f.update({"d_" + k: float(dy[k]) for k in ("allow_median_ns", "allow_p99_ns", "deny_median_ns",
                                                       "deny_p99_ns", "allocs_per_allow", "allocs_per_deny", "init_ms")})
            f["rules"], f["users"] = int(cw.get("rules", 0)), int(cw.get("users", 0))
            f["peak_rss_mb"], f["d_peak_rss_mb"] = cw.get("peak_rss_mb", "?"), dy.get("peak_rss_mb", "?")
            f["ratio"] = f["deny_median_ns"] / f["allow_median_ns"]
            f["speed_allow"] = f["d_allow_median_ns"] / f["allow_median_ns"]
            f["speed_deny"] = f["d_deny_median_ns"] / f["deny_median_ns"]
            f["deny_pass_logs"] = int(cw.get("deny_pass_logs", 0))
            f["deny_logged"] = int(cw.get("deny_logged_checks", 0))
            f["deny_unlogged_allocs"] = int(cw.get("deny_unlogged_allocs", -1))
            f["denied_checks"] = int(cw.get("denied_checks", 0))
            f["deny_pass_allocs"] = round(f["allocs_per_deny"] * int(cw.get("denied_checks", 0)))
            rounds.append(f)
        if not rounds:
            continue
        m = lambda k: med(x[k] for x in rounds)
        # allocation counts are exact: the largest over the rounds
        p = dict(rules=rounds[0]["rules"], users=rounds[0]["users"], ratio=m("ratio"),
                 speed_allow=m("speed_allow"), speed_deny=m("speed_deny"),
                 allocs_allow=max(x["allocs_per_allow"] for x in rounds),
                 allocs_deny=max(x["allocs_per_deny"] for x in rounds), rounds=len(rounds),
                 deny_logged=max(x["deny_logged"] for x in rounds), denied_checks=rounds[0]["denied_checks"],
                 unlogged_allocs=max(x["deny_unlogged_allocs"] for x in rounds))
        for k in ("allow_median_ns", "allow_p99_ns", "deny_median_ns", "deny_p99_ns",
                  "d_allow_median_ns", "d_deny_median_ns", "d_deny_p99_ns", "d_allow_p99_ns"):
            p[k] = m(k)
        per[name] = p
        rows.append([name, f"{p['users']:,}", f"{p['rules']:,}", fmt_ns(p["allow_median_ns"]), fmt_ns(p["allow_p99_ns"]),
                     fmt_ns(p["deny_median_ns"]), fmt_ns(p["deny_p99_ns"]), fmt_ratio(p["ratio"]),
                     fmt_ns(p["d_allow_median_ns"]), fmt_ns(p["d_deny_median_ns"]),
                     fmt_ratio(p["speed_allow"]), fmt_ratio(p["speed_deny"]),
                     fmt_allocs(p["allocs_allow"]), fmt_allocs(p["allocs_deny"])])
        db = read_kv(os.path.join(out, "facts", f"db_{name}.facts"))
        seq = lambda k, fmt: ", ".join(fmt(x[k]) for x in rounds)
        logs = seq("deny_pass_logs", str)
        logged = seq("deny_logged", str)
        unlogged = seq("deny_unlogged_allocs", lambda v: f"{v:,}")
        allocs = seq("deny_pass_allocs", lambda v: f"{v:,}")
        details.append(
            f"- {name}: {p['users']:,} users, {p['rules']:,} rules, {len(rounds)} rounds; cwauth allowed "
            f"{seq('allow_median_ns', fmt_ns)} ns, denied {seq('deny_median_ns', fmt_ns)} ns "
            f"(denied/allowed {seq('ratio', fmt_ratio)}); dynsec allowed {seq('d_allow_median_ns', fmt_ns)} ns, "
            f"denied {seq('d_deny_median_ns', fmt_ns)} ns (p99 {fmt_ns(p['d_allow_p99_ns'])} / {fmt_ns(p['d_deny_p99_ns'])} ns); "
            f"speedup allowed {seq('speed_allow', fmt_ratio)}, denied {seq('speed_deny', fmt_ratio)}; "
            f"dynsec allocs/check {fmt_allocs(rounds[0]['d_allocs_per_allow'])} allowed, "
            f"{fmt_allocs(rounds[0]['d_allocs_per_deny'])} denied; "
            f"plugin_init cwauth {seq('init_ms', lambda v: f'{v:,.0f}')} ms, dynsec {seq('d_init_ms', lambda v: f'{v:,.0f}')} ms; "
            f"peak RSS cwauth {rounds[0]['peak_rss_mb']} MB, dynsec {rounds[0]['d_peak_rss_mb']} MB"
            + f"; cwauth's counted denied pass: {allocs} allocations, {logs} plugin log calls from {logged} checks, "
              f"{unlogged} allocations in the checks that logged nothing (per round; "
              f"debug lines are dropped by the broker's default log_type)"
            + (f"; `cwauth apply` took {int(db['apply_ms']):,} ms when the (cached) database was made" if "apply_ms" in db else ""))

    header = ["policy", "users", "rules", "allowed median ns", "allowed p99 ns", "denied median ns", "denied p99 ns",
              "denied / allowed", "dynsec allowed median ns", "dynsec denied median ns",
              "speedup vs dynsec, allowed", "speedup vs dynsec, denied", "allocs/check allowed", "allocs/check denied"]
    lines = table(header, ["---", "--:", "--:"] + ["--:"] * 11, rows)

    targets = []
    if per:
        worst = max(per.items(), key=lambda kv: kv[1]["ratio"])
        targets.append("boundary: denied check ≤ 2× allowed at the C entry point, every policy size: "
                       + ", ".join(f"{n} {fmt_ratio(p['ratio'])}" for n, p in per.items())
                       + f" (median of the per-round ratios; worst {worst[0]}) — "
                       + verdict(all(p["ratio"] <= 2 for p in per.values())))
        def allocs(n, p):
            text = f"{n} {fmt_allocs(p['allocs_allow'])} / {fmt_allocs(p['allocs_deny'])}"
            if p["allocs_deny"] and p["deny_logged"]:
                text += (f" ({p['deny_logged']} of {p['denied_checks']:,} denied checks logged; "
                         f"{p['unlogged_allocs']:,} allocations in the others)")
            return text
        # A denial that is explained in the log (at most 20 at once, then 10/s: the plugin's budget)
        # allocates for its log line; the check itself must not, allowed or denied.
        targets.append("boundary: 0 allocations per check at the C entry point, allowed / denied (exact malloc count "
                       "over one full pass of each list; the few denials explained in the log allocate for the "
                       "line, every other check must allocate nothing): " + ", ".join(allocs(n, p) for n, p in per.items())
                       + " — " + verdict(all(p["allocs_allow"] == 0 and p["unlogged_allocs"] == 0 for p in per.values())))
    mid = per.get("b10k")
    if mid:
        targets.append(f"boundary: ≥ 40× faster than dynsec at the C entry point at 100 × 100 with 10,000 users (b10k), "
                       f"allowed and denied checks each: allowed {mid['speed_allow']:,.1f}×, denied "
                       f"{mid['speed_deny']:,.1f}× (medians of the per-round ratios) — "
                       + verdict(mid["speed_allow"] >= 40 and mid["speed_deny"] >= 40))
    elif names:
        targets.append("boundary: ≥ 40× faster than dynsec at 100 × 100 with 10,000 users — not measured "
                       "(b10k is not in BENCH_BOUNDARY_POLICIES)")
    return lines, targets, details, per


# ------------------------------------------------------------------------------------------
# In-core: Snapshot.brokerAllows (ordo-one/benchmark) against dynsec's mixed list
# ------------------------------------------------------------------------------------------

def incore_section(out, policies, n_rounds, problems):
    rows, details, per_policy, targets = [], [], {}, []
    if not policies:
        return [], targets, details
    bench_path = os.path.join(out, "swift-bench.md")
    bench = parse_markdown(bench_path) if os.path.exists(bench_path) else {}
    check_rounds = [parse_markdown(p) if os.path.exists(p) else {}
                    for p in (os.path.join(out, f"check-r{r}.md") for r in range(1, n_rounds + 1))]
    for name in policies:
        cf = read_kv(os.path.join(out, "facts", f"check_{name}.facts"))
        rf = read_kv(os.path.join(out, "facts", f"reference_{name}.facts"))
        bf = read_kv(os.path.join(out, "facts", f"build_{name}.facts"))
        rules = int(cf.get("rules") or bf.get("rules") or 0)

        def timing(bname, facts, tables=bench):
            b = tables.get(bname, {})
            t = b.get("time_ns")
            if not t:
                problems.append(f"no timing table for '{bname}'")
                return None, None, 0
            batch = float(facts.get("batch", "1"))
            return t.get("p50", 0) / batch, t.get("p99", 0) / batch, b.get("samples", 0)

        # Rounds: cwauth's check, then dynsec; medians over rounds, and the speedup as the median
        # of the per-round ratios (each between measurements about a minute apart).
        rounds = []
        for r in range(1, n_rounds + 1):
            c_med, c_p99, n = timing(f"check {name}", cf, check_rounds[r - 1])
            dyn = read_line_kv(os.path.join(out, f"dynsec-{name}-r{r}.txt"))
            if c_med and "mixed_median_ns" in dyn:
                rounds.append(dict(med=c_med, p99=c_p99, n=n, dyn=float(dyn["mixed_median_ns"]),
                                   dyn_p99=float(dyn.get("mixed_p99_ns", "nan")), load_ms=dyn.get("init_ms", "?")))
            else:
                problems.append(f"round {r} of {name} has no check or dynsec figure")
        over_rounds = lambda key: statistics.median(x[key] for x in rounds) if rounds else None
        c_med, c_p99, dyn_med, dyn_p99 = over_rounds("med"), over_rounds("p99"), over_rounds("dyn"), over_rounds("dyn_p99")
        c_n = sum(x["n"] for x in rounds)
        ratios = [x["dyn"] / x["med"] for x in rounds]
        speedup = statistics.median(ratios) if ratios else None
        r_med, r_p99, r_n = timing(f"reference {name}", rf)
        bt = bench.get(f"build {name}", {}).get("time_ns", {})
        build_ms = bt.get("p50", 0) / 1e6 if bt else None
        heap = int(bf.get("snapshot_heap_bytes", "0") or 0)
        mapped = int(bf.get("snapshot_mapped_bytes", "0") or 0)
        held = int(bf.get("snapshot_bytes", "0") or 0)
        bytes_rule = held / rules if rules else None
        acl_bytes = int(bf["acl_memory_bytes"]) if "acl_memory_bytes" in bf else None
        c_allocs = float(cf.get("allocs_per_check", "nan"))
        r_allocs = float(rf.get("allocs_per_check", "nan"))
        per_policy[name] = dict(rules=rules, median=c_med, p99=c_p99, allocs_total=int(cf.get("allocs_total", "-1")),
                                allocs=c_allocs, dyn=dyn_med, ref=r_med, speedup=speedup,
                                round_medians=[x["med"] for x in rounds])
        rows.append([name, f"{rules:,}", "cwauth brokerAllows", fmt_ns(c_med), fmt_ns(c_p99), fmt_allocs(c_allocs),
                     f"{build_ms:,.1f}" if build_ms is not None else "—",
                     f"{bytes_rule:,.0f}" if bytes_rule else "—",
                     fmt_ns(dyn_med), fmt_ratio(speedup)])
        rows.append([name, f"{rules:,}", "reference matcher", fmt_ns(r_med), fmt_ns(r_p99), fmt_allocs(r_allocs),
                     "", "", fmt_ns(dyn_med), fmt_ratio(dyn_med / r_med if dyn_med and r_med else None)])
        details.append(
            f"- {name}: {rules:,} rules, {bf.get('users', '?')} users, {cf.get('checks', '?')} checks all correct; "
            f"check: {c_n:,} samples of {cf.get('batch', '?')} checks in {len(rounds)} rounds "
            f"(cwauth {', '.join(fmt_ns(x['med']) for x in rounds)} ns, dynsec {', '.join(fmt_ns(x['dyn']) for x in rounds)} ns, "
            f"speedup {', '.join(fmt_ratio(x) for x in ratios)}), {cf.get('allocs_total', '?')} mallocs in "
            f"{cf.get('counted_checks', '?')} checks; reference: {r_n:,} single-check samples; "
            f"snapshot: {held:,} bytes ({heap:,} on the heap in {bf.get('snapshot_mallocs', '?')} mallocs, "
            f"{mapped:,} in 2 MB-page mappings)"
            + (f", ACL structure {acl_bytes:,} bytes ({acl_bytes / rules:,.1f}/rule)" if acl_bytes is not None and rules else "")
            + f"; JSON decode {bf.get('decode_s', '?')} s; dynsec p99 {fmt_ns(dyn_p99)} ns, load {rounds[0]['load_ms'] if rounds else '?'} ms")

    big, small, mid = per_policy.get("r1m"), per_policy.get("r100"), per_policy.get("r10k")
    if big and small and big["median"] and small["median"]:
        # Both policies' medians of the same round, then the median over rounds.
        flat = statistics.median(b / s for b, s in zip(big["round_medians"], small["round_medians"]))
        ok = big["median"] <= 200 and flat <= 2
        targets.append(f"in-core: median check ≤ 200 ns at 10^6 rules and ≤ 2× the 10^2 figure: "
                       f"{fmt_ns(big['median'])} ns vs {fmt_ns(small['median'])} ns "
                       f"({flat:.2f}×, median of the per-round ratios) — {verdict(ok)}")
    if mid and mid["speedup"]:
        s = mid["speedup"]
        targets.append(f"in-core: ≥ 40× faster than dynsec at 100×100 (10^4 rules, 200 users): {s:,.1f}× (median of "
                       f"{len(mid['round_medians'])} rounds) — {verdict(s >= 40)}")
    allocs = [p["allocs_total"] for p in per_policy.values()]
    if allocs:
        targets.append(f"in-core: 0 allocations per check (brokerAllows, all policies, "
                       f"exact malloc count over 4 passes of the check list): "
                       + ", ".join(f"{n}: {fmt_allocs(p['allocs'])}" for n, p in per_policy.items()) + " — "
                       + verdict(all(a == 0 for a in allocs)))

    header = ["policy", "rules", "matcher", "median ns", "p99 ns", "allocs/check", "build ms", "bytes/rule",
              "dynsec median ns", "speedup vs dynsec"]
    lines = table(header, ["---", "--:", "---", "--:", "--:", "--:", "--:", "--:", "--:", "--:"], rows)
    return lines, targets, details


# ------------------------------------------------------------------------------------------
# Throughput
# ------------------------------------------------------------------------------------------

def throughput_section(out):
    """Returns (summary line or None, detail line, target or None)."""
    tp = {"noauth": [], "cwauth": []}
    apply_ms = None
    tpath = os.path.join(out, "throughput.txt")
    if os.path.exists(tpath):
        for line in open(tpath):
            w = line.split()
            if not w:
                continue
            if w[0].startswith("apply_ms="):
                apply_ms = int(w[0].split("=")[1])
                continue
            kv = dict(x.split("=", 1) for x in w[1:] if "=" in x)
            if w[0] in tp and "messages_per_second" in kv:
                tp[w[0]].append(float(kv["messages_per_second"]))
    na = statistics.median(tp["noauth"]) if tp["noauth"] else None
    cw = statistics.median(tp["cwauth"]) if tp["cwauth"] else None
    # Each round runs no-auth and cwauth (first in turns): the ratio is taken within a round (seconds apart),
    # then the median over rounds, like the check rounds.
    tp_ratios = [c / n for n, c in zip(tp["noauth"], tp["cwauth"]) if n]
    tp_ratio = statistics.median(tp_ratios) if tp_ratios else None
    if na is None or cw is None or tp_ratio is None:
        return None, None, None
    line = (f"end-to-end publish throughput: no-auth {na:,.0f} msg/s, cwauth {cw:,.0f} msg/s "
            f"({tp_ratio * 100:.1f} %)")
    detail = (f"(medians of {len(tp['cwauth'])} rounds, no-auth and cwauth first in turns; the % is the median of the "
              f"per-round ratios {', '.join(f'{x * 100:.1f}' for x in tp_ratios)} %; per-round no-auth "
              f"{', '.join(f'{x:,.0f}' for x in tp['noauth'])}, cwauth {', '.join(f'{x:,.0f}' for x in tp['cwauth'])} msg/s; "
              f"policy r100k, 20 publishers, 1 subscriber on '#'"
              + (f"; cwauth apply of the 10^5-rule policy took {apply_ms:,} ms" if apply_ms is not None else "") + ")")
    target = f"end-to-end throughput with cwauth ≥ 90 % of no-auth: {tp_ratio * 100:.1f} % — {verdict(tp_ratio >= 0.9)}"
    return line, detail, target


BOUNDARY_TITLE = "At the broker's boundary: the plugins' MOSQ_EVT_ACL_CHECK callbacks, called by acl_bench"
INCORE_TITLE = "In-core: Snapshot.brokerAllows inside AuthCore (dynsec column: its callback on the same mixed check list)"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--policies", default="", help="in-core policies (empty: none)")
    ap.add_argument("--boundary-policies", default="", help="boundary policies (empty: none)")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--results", required=True)
    args = ap.parse_args()
    out = args.out
    machine = read_kv(os.path.join(out, "machine.txt"))
    problems = []
    b_lines, b_targets, b_details, _ = boundary_section(out, args.boundary_policies.split(), args.rounds, problems)
    i_lines, i_targets, i_details = incore_section(out, args.policies.split(), args.rounds, problems)
    tp_line, tp_detail, tp_target = throughput_section(out)
    targets = b_targets + i_targets + ([tp_target] if tp_target else [])
    machine_line = f"machine: nproc={machine.get('nproc', '?')}, CPU {machine.get('cpu', '?')}, kernel {machine.get('kernel', '?')}"

    text = [machine_line, ""]
    for title, lines in ((BOUNDARY_TITLE, b_lines), (INCORE_TITLE, i_lines)):
        if lines and len(lines) > 2:
            text.extend([title + ":", ""] + lines + [""])
    if tp_line:
        text.extend([tp_line, "  " + tp_detail, ""])
    text.append("targets:")
    text.extend("  - " + t for t in targets)
    if problems:
        text.extend(["", "problems: " + "; ".join(problems)])
    print("\n".join(text))

    md = ["# cwauth benchmark results", "",
          f"Generated by `make bench` (Benchmarks/run.sh) on {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}. "
          "All numbers come from the same run. See README.md for what each column means.", "",
          machine_line.replace("machine:", "Machine:"), f"Swift: {machine.get('swift', '?')}; {machine.get('mosquitto', '')}", ""]
    for title, lines in ((BOUNDARY_TITLE, b_lines), (INCORE_TITLE, i_lines)):
        if lines and len(lines) > 2:
            md.extend([f"## {title}", ""] + lines + [""])
    if tp_line:
        md.extend(["## End-to-end throughput", "", tp_line[0].upper() + tp_line[1:], "", tp_detail, ""])
    md.extend(["## Targets", ""] + ["- " + t for t in targets] + [""])
    md.extend(["## Details", ""])
    if b_details:
        md.extend(["Boundary:", ""] + b_details + [""])
    if i_details:
        md.extend(["In-core:", ""] + i_details + [""])
    if problems:
        md.extend(["Problems: " + "; ".join(problems), ""])
    with open(args.results, "w") as fh:
        fh.write("\n".join(md))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
