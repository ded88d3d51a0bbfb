#!/usr/bin/env bash
# Runs a kernel test binary (e.g. the conformance suite) on a kernel with
# io_uring BPF filters: natively when the host has them, else under QEMU with
# the Debian cloud kernel of RINGFENCE_KERNEL_LINE (default: the newest line)
# that scripts/kernel/fetch-kernel.sh caches, or the image RINGFENCE_KERNEL names.
#
# Usage: tests/kernel/run-conformance.sh <static-binary> [args...]
#        tests/kernel/run-conformance.sh --prepare   (fetch the kernel, check QEMU; run nothing)
# Exit: the binary's status; 77 (CTest SKIP_RETURN_CODE) after printing
# `SKIPPED: <reason>` when no such kernel can be had.
#
# The skip rule lives here, and only here: outside CI a kernel that cannot be
# had (no mirror, no package, no QEMU, RINGFENCE_SKIP_KERNEL_TESTS=1, a host
# that is not x86-64 Linux, ...) is a SKIP (77). Under CI (CI=true, as CI
# services set it) every such skip is a FAILURE (exit 1) with a line
# `FAILED: CI=true: <reason>`: CI must never end green without having run the
# kernel tests.
#
# Environment: CI, RINGFENCE_SKIP_KERNEL_TESTS=1 skips at once; everything
# scripts/kernel/qemu-run.sh reads (RINGFENCE_KERNEL_LINE, RINGFENCE_KERNEL,
# RINGFENCE_RUN_MODE, RINGFENCE_QEMU_TIMEOUT, RINGFENCE_KERNEL_CACHE, ...) applies.
set -euo pipefail

readonly EXIT_SKIP=77
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
(( $# >= 1 )) || { echo "usage: $0 <static-binary> [args...] | --prepare" >&2; exit 2; }

in_ci() {
    case ${CI:-} in true | TRUE | True | 1 | yes) return 0 ;; *) return 1 ;; esac
}

# The one place that turns "cannot run here" into a skip or, under CI, a failure.
skip() { # $1 reason
    if in_ci; then
        echo "FAILED: CI=true: $1 (under CI a kernel test that cannot run is a failure, not a skip)"
        exit 1
    fi
    echo "SKIPPED: $1"
    exit $EXIT_SKIP
}

if [[ ${RINGFENCE_SKIP_KERNEL_TESTS:-0} == 1 ]]; then
    skip "RINGFENCE_SKIP_KERNEL_TESTS=1"
fi
if [[ $(uname -s) != Linux || $(uname -m) != x86_64 ]]; then
    skip "kernel tests need an x86-64 Linux host (have $(uname -sm))"
fi

runner=$here/../../scripts/kernel/qemu-run.sh
if ! in_ci; then
    exec "$runner" "$@"
fi

# Under CI: run it, keeping a copy of stdout to find the SKIPPED line's reason.
out=$(mktemp "${TMPDIR:-/tmp}/ringfence-run.XXXXXX")
trap 'rm -f "$out"' EXIT
set +e
"$runner" "$@" | tee "$out"
rc=${PIPESTATUS[0]}
set -e
if ((rc == EXIT_SKIP)); then
    reason=$(LC_ALL=C grep -a '^SKIPPED: ' "$out" | tail -n1 || true)
    reason=${reason#SKIPPED: }
    skip "${reason:-the test exited 77 (skip) without a reason}"
fi
exit "$rc"
