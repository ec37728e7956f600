#!/usr/bin/env python3
"""Turns one run's raw outputs (Benchmarks/.out, written by run.sh) into the final table.

Inputs in --out:
  swift-bench.md     ordo-one/benchmark markdown of the reference and build benchmarks
  check-rR.md        the same for the "check NAME" benchmarks of round R (1..--rounds)
  facts/*.facts      key=value lines from the Swift benchmarks' setup (exact allocation
                     totals, batch size, snapshot heap bytes, decode time, correctness)
  dynsec-NAME-rR.txt dynsec_bench's one line for the policy in round R (after that round's checks)
  throughput.txt     apply_ms=..., then "noauth|cwauth messages_per_second=..." lines
  machine.txt        nproc, cpu, versions

Prints the table and target verdicts, and writes them to --results (markdown).
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", required=True)
    ap.add_argument("--policies", required=True)
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--results", required=True)
    args = ap.parse_args()
    out = args.out
    policies = args.policies.split()
    machine = read_kv(os.path.join(out, "machine.txt"))
    bench = parse_markdown(os.path.join(out, "swift-bench.md"))
    check_rounds = [parse_markdown(p) if os.path.exists(p) else {}
                    for p in (os.path.join(out, f"check-r{r}.md") for r in range(1, args.rounds + 1))]

    rows, details, problems = [], [], []
    per_policy = {}
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
        for r in range(1, args.rounds + 1):
            med, p99, n = timing(f"check {name}", cf, check_rounds[r - 1])
            dpath = os.path.join(out, f"dynsec-{name}-r{r}.txt")
            dyn = dict(w.split("=", 1) for w in (open(dpath).read().split() if os.path.exists(dpath) else []) if "=" in w)
            if med and "median_ns" in dyn:
                rounds.append(dict(med=med, p99=p99, n=n, dyn=float(dyn["median_ns"]), dyn_p99=float(dyn.get("p99_ns", "nan")),
                                   load_ms=dyn.get("load_ms", "?")))
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
        label = "cwauth brokerAllows"
        rows.append([name, f"{rules:,}", label, fmt_ns(c_med), fmt_ns(c_p99), fmt_allocs(c_allocs),
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

    # throughput
    tp = {"noauth": [], "cwauth": []}
    tp_pub = {"noauth": [], "cwauth": []}
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
                tp_pub[w[0]].append(float(kv.get("published_per_second", "nan")))
    na = statistics.median(tp["noauth"]) if tp["noauth"] else None
    cw = statistics.median(tp["cwauth"]) if tp["cwauth"] else None
    # Each round runs no-auth, then cwauth: the ratio is taken within a round (seconds apart),
    # then the median over rounds, like the check rounds.
    tp_ratios = [c / n for n, c in zip(tp["noauth"], tp["cwauth"]) if n]
    tp_ratio = statistics.median(tp_ratios) if tp_ratios else None

    # targets
    def verdict(ok):
        return "met" if ok else "NOT met"

    targets = []
    big, small, mid = per_policy.get("r1m"), per_policy.get("r100"), per_policy.get("r10k")
    if big and small and big["median"] and small["median"]:
        # Both policies' medians of the same round, then the median over rounds.
        flat = statistics.median(b / s for b, s in zip(big["round_medians"], small["round_medians"]))
        ok = big["median"] <= 200 and flat <= 2
        targets.append(f"median check ≤ 200 ns at 10^6 rules and ≤ 2× the 10^2 figure: "
                       f"{fmt_ns(big['median'])} ns vs {fmt_ns(small['median'])} ns "
                       f"({flat:.2f}×, median of the per-round ratios) — {verdict(ok)}")
    if mid and mid["speedup"]:
        s = mid["speedup"]
        targets.append(f"≥ 40× faster than dynsec at 100×100 (10^4 rules): {s:,.1f}× (median of "
                       f"{len(mid['round_medians'])} rounds) — {verdict(s >= 40)}")
    if tp_ratio is not None:
        targets.append(f"end-to-end throughput with cwauth ≥ 90 % of no-auth: {tp_ratio * 100:.1f} % — "
                       f"{verdict(tp_ratio >= 0.9)}")
    allocs = [p["allocs_total"] for p in per_policy.values()]
    if allocs:
        targets.append(f"0 allocations per check (brokerAllows, all policies, "
                       f"exact malloc count over 4 passes of the check list): "
                       + ", ".join(f"{n}: {fmt_allocs(p['allocs'])}" for n, p in per_policy.items()) + " — "
                       + verdict(all(a == 0 for a in allocs)))

    header = ["policy", "rules", "matcher", "median ns", "p99 ns", "allocs/check", "build ms", "bytes/rule",
              "dynsec median ns", "speedup vs dynsec"]
    lines = ["| " + " | ".join(header) + " |", "|---|--:|---|--:|--:|--:|--:|--:|--:|--:|"]
    for r in rows:
        lines.append("| " + " | ".join(r) + " |")

    tp_line = None
    if na is not None and cw is not None:
        tp_line = (f"end-to-end publish throughput: no-auth {na:,.0f} msg/s, cwauth {cw:,.0f} msg/s "
                   f"({tp_ratio * 100:.1f} %)")
    machine_line = f"machine: nproc={machine.get('nproc', '?')}, CPU {machine.get('cpu', '?')}, kernel {machine.get('kernel', '?')}"

    text = []
    text.append(machine_line)
    text.append("")
    text.extend(lines)
    text.append("")
    if tp_line:
        text.append(tp_line)
        text.append(f"  (medians of {len(tp['cwauth'])} rounds, each no-auth then cwauth; the % is the median of the "
                    f"per-round ratios {', '.join(f'{x * 100:.1f}' for x in tp_ratios)} %; per-round no-auth "
                    f"{', '.join(f'{x:,.0f}' for x in tp['noauth'])}, cwauth {', '.join(f'{x:,.0f}' for x in tp['cwauth'])} msg/s; "
                    f"policy r100k, 20 publishers, 1 subscriber on '#'"
                    + (f"; cwauth apply of the 10^5-rule policy took {apply_ms:,} ms" if apply_ms is not None else "") + ")")
        text.append("")
    text.append("targets:")
    text.extend("  - " + t for t in targets)
    if problems:
        text.append("")
        text.append("problems: " + "; ".join(problems))
    print("\n".join(text))

    md = ["# cwauth benchmark results", "",
          f"Generated by `make bench` (Benchmarks/run.sh) on {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}. "
          "All numbers come from the same run. See README.md for what each column means.", "",
          machine_line.replace("machine:", "Machine:"), f"Swift: {machine.get('swift', '?')}; {machine.get('mosquitto', '')}", ""]
    md.extend(lines)
    md.append("")
    if tp_line:
        md.append(tp_line[0].upper() + tp_line[1:])
        md.append("")
        md.append(text[text.index(tp_line) + 1].strip())
        md.append("")
    md.append("## Targets")
    md.append("")
    md.extend("- " + t for t in targets)
    md.append("")
    md.append("## Details")
    md.append("")
    md.extend(details)
    md.append("")
    if problems:
        md.append("Problems: " + "; ".join(problems))
        md.append("")
    with open(args.results, "w") as fh:
        fh.write("\n".join(md))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
