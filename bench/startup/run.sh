#!/usr/bin/env bash
# bench/startup/run.sh - the start-up of `ringfence run` on every kernel line (issue 14 item 4).
#
#   bench/startup/run.sh BUILD_DIR OUT.json     # bench/run calls it; it can run alone
#
# BUILD_DIR holds bench/bench_startup_guest and bench/ringfence-static (the
# targets bench_startup_guest and bench_ringfence_static, configured with
# -DRINGFENCE_BENCH_STARTUP=ON). Boots each line scripts/kernel/fetch-kernel.sh
# --lines lists, one guest at a time, under QEMU (RINGFENCE_RUN_MODE=qemu: a
# line is a kernel, not the host's), with bench/startup/guest.cpp as /init and
# /bin/true (with its loader and libc), the static tool, bench/startup/small.policy
# and profiles/container.policy in its initramfs, and writes every JSON line
# the guests print, per line, into OUT.json. A line whose guest cannot boot or
# fails is recorded as skipped with the reason (render.py shows it as
# SKIPPED); under CI=true that makes this script fail instead.
#
# Environment:
#   RINGFENCE_BENCH_STARTUP_RUNS    starts of each command per boot (default 51)
#   RINGFENCE_BENCH_STARTUP_LINES   the lines to boot (default: every line)
set -euo pipefail

(( $# == 2 )) || { echo "usage: $0 BUILD_DIR OUT.json" >&2; exit 2; }
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$1 out=$2
runs=${RINGFENCE_BENCH_STARTUP_RUNS:-51}
guest=$build/bench/bench_startup_guest tool=$build/bench/ringfence-static
for f in "$guest" "$tool"; do
    [[ -x $f ]] || { echo "bench/startup/run.sh: $f is missing (build bench_startup_guest and bench_ringfence_static)" >&2; exit 2; }
done
lines=${RINGFENCE_BENCH_STARTUP_LINES:-$("$root/scripts/kernel/fetch-kernel.sh" --lines)}

records=$(mktemp "${TMPDIR:-/tmp}/ringfence-startup.XXXXXX")
trap 'rm -f "$records" "$records".*' EXIT
failed=()
for line in $lines; do
    echo "--- line $line: $runs starts of each command in one boot"
    set +e
    RINGFENCE_KERNEL_LINE=$line RINGFENCE_RUN_MODE=qemu \
    RINGFENCE_INITRD_PROGRAMS=/bin/true \
    RINGFENCE_INITRD_EXTRA="$tool:/ringfence-static $root/bench/startup/small.policy:/small.policy $root/profiles/container.policy:/container.policy" \
        "$root/scripts/kernel/qemu-run.sh" "$guest" --runs "$runs" /ringfence-static /small.policy /container.policy /bin/true \
        >"$records.out" 2>"$records.err"
    rc=$?
    set -e
    cat "$records.out"
    sed 's/^/  /' "$records.err" >&2
    if ((rc == 0)); then
        grep '^{' "$records.out" >>"$records" || true
        continue
    fi
    why=$(sed -n 's/^SKIPPED: //p' "$records.out" | tail -n1)
    [[ -n $why ]] || why="the guest exited $rc: $(grep -v '^{' "$records.out" "$records.err" | tail -n1 | cut -d: -f2- | sed 's/^ *//')"
    echo "bench/startup/run.sh: line $line: SKIPPED: $why" >&2
    failed+=("$line")
    python3 -c 'import json, sys; print(json.dumps({"kind": "skipped", "line": sys.argv[1], "reason": sys.argv[2]}))' \
        "$line" "$why" >>"$records"
done
python3 - "$records" "$out" "$runs" <<'PY'
import json, sys
records = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
with open(sys.argv[2], "w") as f:
    json.dump({"runs": int(sys.argv[3]), "records": records}, f, indent=1)
    f.write("\n")
PY
echo "bench/startup/run.sh: wrote $out"
if ((${#failed[@]})) && [[ ${CI:-} == true ]]; then
    echo "bench/startup/run.sh: FAILED: CI=true: no figures for line(s) ${failed[*]}" >&2
    exit 1
fi
