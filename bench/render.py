#!/usr/bin/env python3
"""bench/render.py - turns one bench_filters run into docs/performance.md (called by bench/run).

Every ratio is of medians of CPU time from the same run. Reads Google
Benchmark's JSON and the compile times bench/run measured; writes the JSON
(with the compile times added), the Markdown, the plot's data file, and the
README's Performance section (between its markers).
"""
import argparse
import datetime
import json
import platform
import re
import subprocess

POLICIES = ["inet_only", "tcp_only", "deny_creat", "set256"]
UNIT_NS = {"ns": 1.0, "us": 1e3, "ms": 1e6, "s": 1e9}

# Why a goal can be missed, printed only when it is.
WHY = {
    "fast": "the table's check is a bit test like the baseline's; a miss is noise from a shared machine "
            "(rerun with more repetitions) unless the check stopped being inlined",
    "compiled": "the static table compiles the filter to straight-line C++; a miss means the compiler "
                "made a branch where the hand-written code has a conditional move (see static_table.hpp)",
    "interp": "the prepared interpreter decides these policies in one or a few dispatches where libpcap "
              "needs one per instruction; a miss means the dispatch loop was not compiled as a jump table "
              "or the machine was busy (compare the instruction counts in the report)",
    "sets": "the tree's depth is log2(n) whatever the member; a miss means the tree was not balanced",
    "build": "building is the policy compiler's (ringfence/policy/dag_builder.hpp and the passes it drives), and "
             "compile() builds each opcode's DAG twice when restriction changed it (restricted, then plain, to keep "
             "the shorter); profiled with callgrind and perf for issue 14: restrict_rec about 25% (walks "
             "through runs of tests the fact decides, a field tested rule after rule: about 3,800 steps per build; "
             "walks that can decide nothing are already pruned by per-node summaries), dag_builder::equal 10% "
             "(with the summaries' upkeep inlined), intern 9%, emit 6.5%, plan_loads 5.5%, build_dag 4.5%, "
             "link 4%, verify 4%; instructions per build 2.84M -> 1.92M since the old goal (memset of the "
             "assembler's tables, a 40 KB copy per compile(), byte-wise image_of are gone)",
    "seccomp": "both build from nothing (the policy or filter context, the rules, the program); ringfence's "
               "cost is its policy compiler's (see the build row: two DAGs per opcode, restriction) and, with the "
               "machine loaded, page faults: each compile() allocates a 1 MB builder that glibc gives back to "
               "the kernel when the heap is trimmed; libseccomp's is its rule database and BPF generator",
    "scale": "instructions executed grow about 10x from 100 to 1000 rules (valgrind: 1.4M -> 13.8M), but the DAG "
             "grows 11x (603 -> 6,575 nodes: restriction's copies) and its tables (nodes, memo, summaries, "
             "about 400 KB at 1000 rules) no longer fit the caches a loaded machine leaves, and the builder's "
             "pages are faulted in again after each trim (with MALLOC_TRIM_THRESHOLD_ raised, on a loaded machine: 84 -> 1,867 us, 22x); "
             "rule groups that share no family and type fill the 8192-node table at about 520 rules",
    "observer": "an observer call that does nothing left code behind: check that no_observer's "
                "members are empty and constexpr",
    "compile": "constant evaluation of the builder, linker and verifier over 4096 instructions",
    "kernel": "counted by bench_kernel_cost (bench/kernel_cost.cpp) with the interpreter's observer over its fixed "
              "request mix. The misses are IORING_OP_SOCKET's family set against the prototype, and for trees of "
              "compares 2x is out of reach there: the prototype's worst path for k families is its load, k JEQs "
              "and a return (k + 2; k + 4 with denied flags, which add a load and a JSET); a tree of compares "
              "(JEQ, JGT, JGE) of depth d has at most 2^d leaves, and k members that are not neighbours need a "
              "leaf each and one more (a leaf holding two must exclude each value between them, a JEQ and a leaf "
              "each), so d >= ceil(log2(k + 1)): 4 at 8 members, at best 6 against 10 instructions (1.67x) and 8 "
              "against 12 with denied flags (1.50x), which compile() reaches (its search over a set's pieces is "
              "exact: sets_and_ranges.hpp, exact_search). 2x needs d <= (k - 2) / 2: from 10 members, 12 with "
              "denied flags. At 12 families it is 6 against 13 and 8 against 15 (1.88x only because every family "
              "of the mix is one of the 12, so the prototype's deny path, 16 with all 12 JEQs, is never taken; "
              "on the static longest path 16 against 8, 2.0x). A bitmap (jgt #31; tax; ld #1; lsh x; jset #bits) "
              "costs 7 on its path, and two words for families above 31. Bit tests can beat compares on "
              "particular values: for these 8 families a 3-deep tree exists, jset #0x2 ? (jeq #38 or no bit of "
              "#0xfffffff5) : jset #0xffffffd1 ? no bit of #0xffffffec : jgt #39 (found by exhaustive search), "
              "5 against 10 or 2.0x; compile() has no search over bit masks, which would be the next step",
}

STARTUP_POLICIES = [("small", "bench/startup/small.policy"), ("curated", "profiles/container.policy")]
STARTUP_TARGET = "report (issue 14 sets no target)"


def startup_by_line(st):
    """bench/startup/run.sh's records, per kernel line in boot order: {line: {"kernel", "skipped", command: record}}."""
    lines = {}
    for r in st["records"]:
        entry = lines.setdefault(r["line"], {"kernel": r.get("kernel", "?"), "skipped": None, "work": {}})
        if r["kind"] == "skipped":
            entry["skipped"] = r["reason"]
        elif r["kind"] == "startup":
            entry[r["command"]] = r
        elif r["kind"] == "work":
            entry["work"][r["command"]] = r
    return lines


def ms(us):
    return f"{us / 1e3:.1f} ms"


def startup_rows(st, add):
    """The start-up rows (issue 14 item 4): per line and policy, ringfence run against /bin/true started directly."""
    for line, e in startup_by_line(st).items():
        if e["skipped"]:
            add("start-up", f"`ringfence run` on line {line}", f"SKIPPED: {e['skipped']}", STARTUP_TARGET, None,
                "startup")
            continue
        direct = e.get("direct")
        for name, path in STARTUP_POLICIES:
            r = e.get(name)
            if not r or not direct:
                continue
            what = (f"`ringfence run --policy {path} -- /bin/true` / `/bin/true`, line {line} ({e['kernel']}), "
                    f"medians of {r['runs']} starts in one boot")
            if r["exit"] == 125:
                value = (f"refused by design on {line} (exit 125, nothing run) after {ms(r['median_us'])}; "
                         f"`/bin/true` {ms(direct['median_us'])}")
            elif r["exit"] == 0 and r["same_exit_every_run"]:
                value = f"{fmt_ratio(r['median_us'] / direct['median_us'])} ({ms(r['median_us'])} / {ms(direct['median_us'])})"
            else:
                value = f"exit {r['exit']}{'' if r['same_exit_every_run'] else ' (not every run)'}: not a start-up"
            add("start-up", what, value, STARTUP_TARGET, None, "startup")


def startup_table(st):
    """Per line: the medians (p10-p90) of every command and what the probe does."""
    def spread(r):
        return f"{ms(r['median_us'])} ({r['p10_us'] / 1e3:.1f}-{r['p90_us'] / 1e3:.1f})"

    out = [f"Start-up of `ringfence run` (bench/startup/guest.cpp, booted by bench/startup/run.sh on every kernel line "
           f"under QEMU, TCG): {st['runs']} starts of each command in one boot, interleaved, each timed from before the "
           "`fork` to the end of `waitpid` (CLOCK_MONOTONIC in the guest); median (p10-p90). *small* is "
           "bench/startup/small.policy (one rule, default allow: one task filter), *curated* profiles/container.policy "
           "(default deny: 65 task filters). *plan only* is `ringfence run --dry-run --kernel LINE --policy small` "
           "(the tool's own start, parsing and compiling, without the probe, the install and the program): `small` "
           "minus *plan only* minus `/bin/true` is about what the probe and the install cost. On 7.0 `ringfence run` "
           "refuses every policy (task filters are shed at exec there): its times are the time to the refusal. "
           "The probe's work is counted with ptrace in the guest, over every process `ringfence run` starts, up to "
           "its exec of `/bin/true` (or its exit): forks, execs, io_uring instances set up, syscalls. TCG runs "
           "the guest's code many times slower than the host would, and the absolute times follow the host's load: "
           "read the ratios.",
           "",
           "| line | kernel | `/bin/true` | small | curated | plan only (small) | probe's work, small: forks / execs / rings / syscalls | curated |",
           "|---|---|---|---|---|---|---|---|"]
    for line, e in startup_by_line(st).items():
        if e["skipped"]:
            out.append(f"| {line} | SKIPPED: {cell(e['skipped'])} | | | | | | |")
            continue
        cells = []
        for name in ["direct", "small", "curated", "small_plan"]:
            r = e.get(name)
            cells.append("" if not r else spread(r) + ("" if r["exit"] == 0 else f", exit {r['exit']}"))
        for name in ["small", "curated"]:
            w = e["work"].get(name)
            cells.append("" if not w or not w["counted"] else
                         f"{w['forks']} / {w['execs']} / {w['rings']} / {w['syscalls']}" +
                         ("" if w["reached_program"] else " (refused)"))
        out.append(f"| {line} | {e['kernel']} | " + " | ".join(cells) + " |")
    return out


KERNEL_OTHERS = [("naive", "`compile_naive()`"), ("prototype", "the youki prototype's program")]


def cell(text):
    """Text for a Markdown table cell (a `|` would end it)."""
    return text.replace("|", "\\|")


def kernel_goals(kc, add):
    """The kernel-side cost goals (issue 14, item 1) from bench_kernel_cost's JSON; returns the misses."""
    rows, misses = kc["rows"], []
    for other, label in KERNEL_OTHERS:
        pairs = [r for r in rows if other in r]
        bad = [r for r in pairs if r["ringfence"]["length"] > r[other]["length"]
               or r["ringfence"]["worst"] > r[other]["worst"]]
        longer = sum(r["ringfence"]["length"] > r[other]["length"] for r in pairs)
        slower = sum(r["ringfence"]["worst"] > r[other]["worst"] for r in pairs)
        add("kernel cost", f"ringfence's `compile()` never longer, nor slower in worst-case path, than {label}: "
            f"(policy, opcode) pairs where it is neither ({longer} longer, {slower} slower)",
            f"{len(pairs) - len(bad)} of {len(pairs)}", f"all {len(pairs)}", not bad, "kernel")
        misses += [(other, label, "longer or slower", r) for r in bad]
    for other, label in KERNEL_OTHERS:
        pairs = [r for r in rows if other in r and r["largest_set"] >= 8]
        if not pairs:
            continue
        ratio = lambda r: r[other]["worst"] / r["ringfence"]["worst"]
        least = min(pairs, key=ratio)
        bad = [r for r in pairs if ratio(r) < 2.0]
        add("kernel cost", f"worst-case path of {label} / ringfence's, where a set has 8 or more members "
            f"({len(pairs)} pairs; least: {least['policy']}, {least['opcode']}, "
            f"{least[other]['worst']} / {least['ringfence']['worst']})",
            fmt_ratio(ratio(least)), "at least 2x", not bad, "kernel")
        misses += [(other, label, "less than 2x shorter", r) for r in bad]
    return misses


def kernel_table(kc):
    """Per (policy, opcode): length, mean and worst instructions executed; opcodes with the same figures in one row."""
    out = [f"Kernel-side cost, counted (`bench_kernel_cost`, bench/kernel_cost.cpp): instructions the kernel executes "
           f"per request, with the interpreter's observer, over a fixed mix of {kc['requests_per_opcode']} requests "
           "per opcode (SOCKET: mostly AF_INET, AF_INET6, AF_UNIX, some others; sqe_flags mostly 0, some FIXED_FILE, "
           "ASYNC, IO_LINK, ...). Per policy, the opcodes it has a rule for; opcodes whose programs cost the same "
           "share a row. Each cell: ringfence `compile()` / `compile_naive()` / the youki prototype (OCI inputs).",
           "",
           "| policy | opcodes | largest set | length | mean | worst |",
           "|---|---|---|---|---|---|"]
    groups = {}
    for r in kc["rows"]:
        kinds = ["ringfence", "naive"] + (["prototype"] if "prototype" in r else [])
        figures = tuple((r[k]["length"], r[k]["mean"], r[k]["worst"]) for k in kinds)
        groups.setdefault((r["policy"], r["largest_set"], figures), []).append(r["opcode"])
    for (policy, largest, figures), ops in groups.items():
        shown = ", ".join(ops) if len(ops) <= 4 else f"{', '.join(ops[:3])} and {len(ops) - 3} more"
        out.append(f"| {cell(policy)} | {shown} | {largest or ''} | " + " / ".join(str(f[0]) for f in figures) + " | " +
                   " / ".join(f"{f[1]:.2f}" for f in figures) + " | " + " / ".join(str(f[2]) for f in figures) + " |")
    return out


def load(raw_path):
    with open(raw_path) as f:
        raw = json.load(f)
    medians, reps = {}, {}
    for b in raw["benchmarks"]:
        name = b.get("run_name", b["name"])
        if b.get("run_type") == "aggregate":
            if b.get("aggregate_name") == "median":
                medians[name] = b
        else:
            reps[name] = reps.get(name, 0) + 1
    return raw, medians, reps


def per_request_ns(b):
    t = b["cpu_time"] * UNIT_NS[b.get("time_unit", "ns")]
    return t / b["batch"] if "batch" in b else t


def fmt_ratio(x):
    return f"{x:.2f}x"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def compiler_version(cxx):
    try:
        out = subprocess.run([cxx, "--version"], capture_output=True, text=True, check=True).stdout
        return out.splitlines()[0]
    except (OSError, subprocess.CalledProcessError):
        return cxx + " (not found)"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--raw", required=True)
    ap.add_argument("--compile-times", required=True)
    ap.add_argument("--commit", required=True)
    ap.add_argument("--json", required=True)
    ap.add_argument("--markdown", required=True)
    ap.add_argument("--plot-data", required=True)
    ap.add_argument("--readme")
    ap.add_argument("--kernel-cost", help="bench_kernel_cost's JSON")
    ap.add_argument("--startup", help="bench/startup/run.sh's JSON")
    args = ap.parse_args()

    raw, med, reps = load(args.raw)
    compile_times, same_code = {}, {}
    with open(args.compile_times) as f:
        for line in f:
            parts = line.split()
            if len(parts) == 3:
                compile_times[parts[0]] = (parts[1], float(parts[2]))
            elif len(parts) == 4 and parts[0].startswith("observer-"):
                same_code[parts[0][len("observer-"):]] = (int(parts[1]), int(parts[2]), parts[3])

    def ns(name):
        return per_request_ns(med[name]) if name in med else None

    rows = []  # goal, what, measured text, target text, met (True/False/None), key

    def add(goal, what, value, target, met, key):
        rows.append((goal, what, value, target, met, key))

    base = ns("BM_Baseline_BitTest")
    for kind in ["dynamic", "static"]:
        v = ns(f"BM_FastPath_NoFilter/{kind}")
        if base and v:
            r = v / base
            add("fast path", f"`BM_FastPath_NoFilter/{kind}` / `BM_Baseline_BitTest`", fmt_ratio(r), "at most 1.2x",
                r <= 1.2, "fast")
    for p in POLICIES:
        h, c = ns(f"BM_Handwritten/{p}"), ns(f"BM_Compiled/{p}")
        if h and c:
            r = c / h
            add("compiled", f"`BM_Compiled/{p}` / `BM_Handwritten/{p}`", fmt_ratio(r), "at most 1.1x", r <= 1.1,
                "compiled")
    for p in POLICIES:
        i, l = ns(f"BM_Interpreter/{p}"), ns(f"BM_Libpcap/{p}")
        if i and l:
            r = l / i
            add("interpreter", f"`BM_Libpcap/{p}` / `BM_Interpreter/{p}` (speed-up)", fmt_ratio(r),
                "at least 2x", r >= 2.0, "interp")
    for n in [256, 16]:
        for shape, check in [("tree", True), ("chain", False)]:
            first, last = ns(f"BM_SetMembership/{n}/first/{shape}"), ns(f"BM_SetMembership/{n}/last/{shape}")
            if first and last:
                r = last / first
                if check and n == 256:
                    add("sets", f"`BM_SetMembership/{n}/last/{shape}` / `.../first/{shape}`", fmt_ratio(r),
                        "at most 1.5x", r <= 1.5, "sets")
                else:
                    add("sets", f"`BM_SetMembership/{n}/last/{shape}` / `.../first/{shape}`", fmt_ratio(r),
                        "(for comparison)", None, "sets")
    b300 = med.get("BM_BuildPolicy/300")
    if b300:
        us = b300["cpu_time"] * UNIT_NS[b300.get("time_unit", "ns")] / 1e3
        add("build", "`BM_BuildPolicy/300`: 300 rules built, compiled and verified at run time", f"{us:.1f} us",
            "under 50 us", us < 50, "build")

    def us_of(name):
        b = med.get(name)
        return b["cpu_time"] * UNIT_NS[b.get("time_unit", "ns")] / 1e3 if b else None

    for n in [10, 100, 300, 1000]:
        rf, sc = us_of(f"BM_BuildRuntimePolicy/{n}"), us_of(f"BM_BuildLibseccomp/{n}")
        if rf and sc:
            r = sc / rf
            what = f"`BM_BuildLibseccomp/{n}` / `BM_BuildRuntimePolicy/{n}` (speed-up; {sc:.0f} us and {rf:.1f} us)"
            if n == 300:
                add("builds", what, fmt_ratio(r), "at least 20x", r >= 20, "seccomp")
            else:
                add("builds", what, fmt_ratio(r), "(for comparison)", None, "seccomp")
    r100, r1000 = us_of("BM_BuildRuntimePolicy/100"), us_of("BM_BuildRuntimePolicy/1000")
    if r100 and r1000:
        r = r1000 / r100
        add("builds", "`BM_BuildRuntimePolicy/1000` / `BM_BuildRuntimePolicy/100` (10x the rules)", fmt_ratio(r),
            "at most 12x", r <= 12, "scale")
    s100, s1000 = us_of("BM_BuildLibseccomp/100"), us_of("BM_BuildLibseccomp/1000")
    if s100 and s1000:
        add("builds", "`BM_BuildLibseccomp/1000` / `BM_BuildLibseccomp/100` (10x the rules)", fmt_ratio(s1000 / s100),
            "(for comparison)", None, "scale")
    for cxx, label in [("g++", "GCC"), ("clang++", "Clang")]:
        if cxx in compile_times:
            version, secs = compile_times[cxx]
            add("compile time", f"4096 instructions built and verified at compile time, {label} {version}",
                f"{secs:.2f} s", "under 10 s", secs < 10, "compile")
    for cxx, label in [("g++", "GCC"), ("clang++", "Clang")]:
        if cxx in same_code:
            n1, n2, verdict = same_code[cxx]
            add("observer", f"`bpf::execute` with the default observer and with a no-op one, machine code ({label}, -O2)",
                f"{verdict}: {n1} and {n2} instructions", "the same", verdict == "same", "observer")
    for p in POLICIES:
        d, o = ns(f"BM_Observer/{p}/default"), ns(f"BM_Observer/{p}/noop")
        if d and o:
            add("observer", f"`BM_Observer/{p}/noop` / `.../default`", fmt_ratio(o / d), "(about 1x: it compiles away)",
                None, "observer")

    kernel_misses, kc = [], None
    if args.kernel_cost:
        with open(args.kernel_cost) as f:
            kc = json.load(f)
        kernel_misses = kernel_goals(kc, add)
    st = None
    if args.startup:
        with open(args.startup) as f:
            st = json.load(f)
        startup_rows(st, add)

    ctx = raw.get("context", {})
    when = ctx.get("date", datetime.datetime.utcnow().isoformat())
    reps_n = max(reps.values()) if reps else 0
    lines = []
    lines.append("<!-- generated by bench/run (bench/render.py); do not edit -->")
    lines.append(f"Measured by `bench/run` at commit `{args.commit}`, {when}, on {cpu_model()} "
                 f"({ctx.get('num_cpus', '?')} CPUs at {ctx.get('mhz_per_cpu', '?')} MHz, load average "
                 f"{', '.join(f'{x:.1f}' for x in ctx.get('load_avg', [])) or '?'}), "
                 f"{compiler_version('g++')}, -O3. Medians of {reps_n} repetitions of CPU time; each "
                 f"repetition decides a fixed, seeded stream of requests.")
    lines.append("")
    lines.append("| goal | ratio of medians | measured | target | met |")
    lines.append("|---|---|---|---|---|")
    for goal, what, value, target, met, _ in rows:
        mark = "" if met is None else ("yes" if met else "**no**")
        lines.append(f"| {goal} | {cell(what)} | {value} | {target} | {mark} |")
    missed = [r for r in rows if r[4] is False]
    if missed:
        lines.append("")
        lines.append("Missed:")
        for goal, what, value, target, _, key in missed:
            lines.append(f"- {goal}, {what}: {value} against {target}. Why: {WHY[key]}.")
    if kernel_misses:
        lines.append("")
        lines.append("Kernel cost, the (policy, opcode) pairs that miss:")
        for other, label, how, r in kernel_misses:
            lines.append(f"- {r['policy']}, {r['opcode']}: {how} than {label}: length {r['ringfence']['length']} "
                         f"against {r[other]['length']}, worst {r['ringfence']['worst']} against "
                         f"{r[other]['worst']} instructions (mean {r['ringfence']['mean']:.2f} against "
                         f"{r[other]['mean']:.2f})")
    lines.append("")
    lines.append("Every median (CPU time per request; per build for `BM_BuildPolicy`):")
    lines.append("")
    lines.append("| benchmark | median | |")
    lines.append("|---|---|---|")
    # In the order of the goals (repetitions were interleaved, so the JSON's order is random).
    groups = ["BM_Baseline_BitTest", "BM_FastPath_NoFilter/", "BM_Handwritten/", "BM_Compiled/", "BM_Interpreter/",
              "BM_Libpcap/", "BM_Interpreter_Unprepared/", "BM_Observer/", "BM_Chain/", "BM_SetMembership/",
              "BM_BuildPolicy/", "BM_BuildRuntimePolicy/", "BM_BuildLibseccomp/"]

    def order_key(name):
        group = next((i for i, g in enumerate(groups) if name.startswith(g)), len(groups))
        policy = next((i for i, p in enumerate(POLICIES) if "/" + p in name), len(POLICIES))
        numbers = [int(x) for x in re.findall(r"/(\d+)", name)]
        position = next((i for i, w in enumerate(["/first", "/middle", "/last"]) if w in name), 0)
        return (group, policy, numbers, position, name)

    for name in sorted(med, key=order_key):
        b = med[name]
        if "batch" in b:
            lines.append(f"| `{name}` | {per_request_ns(b):.2f} ns | per request |")
        else:
            lines.append(f"| `{name}` | {b['cpu_time'] * UNIT_NS[b.get('time_unit', 'ns')] / 1e3:.1f} us | per build |")
    text = "\n".join(lines) + "\n"

    with open(args.markdown, "w") as f:
        # the plot sits next to this file; README.md shows it above its copy of the tables
        f.write(text + "\n![ns per request, by policy and way of running it](performance.png)\n")
        if kc:
            f.write("\n" + "\n".join(kernel_table(kc)) + "\n")
        if st:
            f.write("\n" + "\n".join(startup_table(st)) + "\n")
    raw["ringfence"] = {"commit": args.commit,
                        "observer_machine_code": {k: v[2] for k, v in same_code.items()},
                        "compile_seconds": {k: v[1] for k, v in compile_times.items()},
                        "compilers": {k: v[0] for k, v in compile_times.items()}}
    if kc:
        raw["ringfence"]["kernel_cost"] = kc
    if st:
        raw["ringfence"]["startup"] = st
    with open(args.json, "w") as f:
        json.dump(raw, f, indent=1)
        f.write("\n")
    with open(args.plot_data, "w") as f:
        f.write("policy Handwritten Compiled Interpreter libpcap\n")
        for p in POLICIES:
            vals = [ns(f"BM_{k}/{p}") for k in ["Handwritten", "Compiled", "Interpreter", "Libpcap"]]
            f.write(p + " " + " ".join(f"{v:.3f}" if v else "0" for v in vals) + "\n")
    if args.readme:
        with open(args.readme) as f:
            readme = f.read()
        begin, end = "<!-- performance:begin -->", "<!-- performance:end -->"
        pattern = re.compile(re.escape(begin) + ".*?" + re.escape(end), re.S)
        if not pattern.search(readme):
            raise SystemExit(f"render.py: {args.readme} has no {begin} ... {end} markers")
        readme = pattern.sub(lambda _: begin + "\n" + text + end, readme)
        with open(args.readme, "w") as f:
            f.write(readme)


if __name__ == "__main__":
    main()
