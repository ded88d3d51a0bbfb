#!/usr/bin/env bash
# Runs a kernel test binary (e.g. the conformance suite) on a kernel with
# io_uring BPF filters: natively when the host has them, else under QEMU with
# the Debian sid kernel that scripts/kernel/fetch-kernel.sh caches.
#
# Usage: tests/kernel/run-conformance.sh <static-binary> [args...]
# Exit: the binary's status; 77 (CTest SKIP_RETURN_CODE) after printing
# `SKIPPED: <reason>` when no such kernel can be had.
#
# Environment: RINGFENCE_SKIP_KERNEL_TESTS=1 skips at once; everything
# scripts/kernel/qemu-run.sh reads (RINGFENCE_RUN_MODE, RINGFENCE_QEMU_TIMEOUT,
# RINGFENCE_KERNEL_CACHE, ...) applies.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
(( $# >= 1 )) || { echo "usage: $0 <static-binary> [args...]" >&2; exit 2; }
if [[ ${RINGFENCE_SKIP_KERNEL_TESTS:-0} == 1 ]]; then
    echo "SKIPPED: RINGFENCE_SKIP_KERNEL_TESTS=1"
    exit 77
fi
if [[ $(uname -s) != Linux || $(uname -m) != x86_64 ]]; then
    echo "SKIPPED: kernel tests need an x86-64 Linux host (have $(uname -sm))"
    exit 77
fi
exec "$here/../../scripts/kernel/qemu-run.sh" "$@"
