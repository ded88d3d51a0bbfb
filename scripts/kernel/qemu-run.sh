#!/usr/bin/env bash
# Run a static test binary on a kernel with io_uring BPF filters.
#
# Usage: scripts/kernel/qemu-run.sh <static-binary> [args...]
#        scripts/kernel/qemu-run.sh --prepare
#
# Natively when the host kernel supports the filters (see probe-host.c), else
# as /init of a throwaway initramfs under QEMU with the kernel fetched by
# fetch-kernel.sh. Stdout carries the program's output; the exit status is the
# program's. The guest program ends with a line `RINGFENCE-EXIT <n>` (see
# tests/kernel/guest.hpp); no such line means the guest crashed or hung.
# `--prepare` does everything but the run (host probe, QEMU and cpio present,
# the kernel fetched into the cache) and prints what would run: CTest's
# kernel.fetch@<line> fixtures call it once per line before the guests start.
#
# Which kernel boots (QEMU only):
#   RINGFENCE_KERNEL=<vmlinuz>  that image; the guest is told no kernel line
#   RINGFENCE_KERNEL_LINE=7.N   the newest Debian cloud kernel of line 7.N
#                               (fetch-kernel.sh --line 7.N); the guest's
#                               command line gets `ringfence.kernel-line=7.N`
#                               (tests/kernel/guest.hpp cmdline_settings()) so
#                               it knows which measured preset the kernel must match
#   neither                     the newest line fetch-kernel.sh finds, named
#                               to the guest the same way
# Natively there is no line: the host's kernel is whatever it is, and nothing
# is passed.
#
# Environment:
#   RINGFENCE_KERNEL_LINE   the kernel line to boot (see above)
#   RINGFENCE_RUN_MODE      auto (default) | native | qemu
#   RINGFENCE_QEMU_TIMEOUT  seconds before the VM is killed (default 900)
#   RINGFENCE_QEMU_ACCEL    tcg (default) | kvm | "kvm:tcg"
#   RINGFENCE_QEMU_MEM      guest memory in MiB (default 512)
#   RINGFENCE_QEMU_SMP      guest CPUs (default 1)
#   RINGFENCE_INITRD_EXTRA  space-separated host-file[:guest-path] to add
#   RINGFENCE_INITRD_PROGRAMS  space-separated dynamically linked programs to
#                           add at their host paths with every library ldd lists
#                           and the loader (initrd-deps.sh); one that is not
#                           installed makes the run a SKIP naming it
#   RINGFENCE_KERNEL        a vmlinuz to boot instead of the fetched one
#   RINGFENCE_KEEP_LOG      path to keep the raw serial log at
# Exit codes: the program's; 77 when no kernel can be had (SKIP);
#   125 when the guest gave no exit marker (crash, panic, timeout).
set -euo pipefail

readonly EXIT_SKIP=77 EXIT_NO_MARKER=125
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log() { printf 'qemu-run: %s\n' "$*" >&2; }

(( $# >= 1 )) || { echo "usage: $0 <static-binary> [args...] | --prepare" >&2; exit 2; }
prepare=0
if [[ $1 == --prepare ]]; then
    prepare=1; bin=; shift
else
    bin=$1; shift
    [[ -x $bin ]] || { log "not an executable: $bin"; exit 2; }
fi
line=${RINGFENCE_KERNEL_LINE:-}
if [[ -n $line && ! $line =~ ^[0-9]+\.[0-9]+$ ]]; then
    log "RINGFENCE_KERNEL_LINE takes a kernel line such as 7.0, not '$line'"
    exit 2
fi
mode=${RINGFENCE_RUN_MODE:-auto}
programs_extra=
if [[ -n ${RINGFENCE_INITRD_PROGRAMS:-} ]]; then
    for prog in $RINGFENCE_INITRD_PROGRAMS; do
        [[ -x $prog ]] || { echo "SKIPPED: $prog is not installed (the test runs it in the guest)"; exit $EXIT_SKIP; }
    done
    # shellcheck disable=SC2086 # one argument per program
    programs_extra=$("$here/initrd-deps.sh" $RINGFENCE_INITRD_PROGRAMS) || { log "initrd-deps.sh failed"; exit 2; }
fi
cache=${RINGFENCE_KERNEL_CACHE:-${HOME:-/root}/.cache/ringfence/kernel}

# Probe the host kernel. The probe is compiled once into the cache.
host_supports_filters() {
    local probe=$cache/probe-host
    mkdir -p "$cache"
    if [[ ! -x $probe || $here/probe-host.c -nt $probe ]]; then
        ${CC:-cc} -O2 -o "$probe.tmp" "$here/probe-host.c" 2>/dev/null || return 1
        mv "$probe.tmp" "$probe"
    fi
    "$probe" 2>/dev/null
}

if [[ $mode == native ]] || { [[ $mode == auto ]] && host_supports_filters; }; then
    [[ $mode == auto ]] && log "host kernel $(uname -r) supports io_uring BPF filters: running natively"
    [[ -n $line ]] && log "RINGFENCE_KERNEL_LINE=$line does not apply natively (RINGFENCE_RUN_MODE=qemu boots that line)"
    if ((prepare)); then echo "native: $(uname -r)"; exit 0; fi
    exec "$bin" "$@"
fi

# A dynamically linked /init cannot start in the guest (there is no loader):
# the kernel would panic with a message that hides the cause.
if ((!prepare)) && command -v readelf >/dev/null && readelf -l "$bin" 2>/dev/null | grep -q 'Requesting program interpreter'; then
    log "$bin is dynamically linked; the guest needs a static binary (link with -static)"
    exit 2
fi

need_tool() { # $1 command, $2 Debian package
    command -v "$1" >/dev/null && return 0
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        log "installing $2"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1 \
            || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null 2>&1; } || true
    fi
    command -v "$1" >/dev/null || { echo "SKIPPED: $1 is not installed (package $2)"; exit $EXIT_SKIP; }
}
need_tool qemu-system-x86_64 qemu-system-x86
need_tool cpio cpio

kernel=${RINGFENCE_KERNEL:-}
kernel_line= # what the guest is told: only a line fetch-kernel.sh resolved
if [[ -n $kernel ]]; then
    [[ -n $line ]] && log "RINGFENCE_KERNEL=$kernel overrides RINGFENCE_KERNEL_LINE=$line; the guest is told no kernel line"
    kver=$kernel
else
    fetch_args=(--print-image)
    [[ -n $line ]] && fetch_args=(--line "$line" --print-image)
    fetch_log=$(mktemp "${TMPDIR:-/tmp}/ringfence-fetch.XXXXXX")
    set +e
    kernel=$(RINGFENCE_KERNEL_LINE=$line "$here/fetch-kernel.sh" "${fetch_args[@]}" 2>"$fetch_log")
    fetch_rc=$?
    set -e
    cat "$fetch_log" >&2
    why=$(sed -n 's/^fetch-kernel: unavailable: //p' "$fetch_log" | tail -n1)
    rm -f "$fetch_log"
    if ((fetch_rc == EXIT_SKIP)); then
        echo "SKIPPED: no kernel${line:+ of line $line} with io_uring BPF filters could be had${why:+: $why}"
        exit $EXIT_SKIP
    elif ((fetch_rc != 0)) || [[ -z $kernel ]]; then
        log "FAILED: fetch-kernel.sh ${fetch_args[*]} exited $fetch_rc"
        exit 2
    fi
    # The cache layout (fetch-kernel.sh): <cache>/line-7.N/vmlinuz, <cache>/line-7.N/version.
    if [[ -z $line && $kernel =~ /line-([0-9]+\.[0-9]+)/vmlinuz$ ]]; then line=${BASH_REMATCH[1]}; fi
    kernel_line=$line
    kver=$(cat "$(dirname "$kernel")/version" 2>/dev/null || echo "$kernel")
fi
[[ -r $kernel ]] || { echo "SKIPPED: kernel image $kernel unreadable"; exit $EXIT_SKIP; }
log "booting $kver${kernel_line:+ (line $kernel_line)}"
if ((prepare)); then echo "qemu: $kver${kernel_line:+ (line $kernel_line)}: $kernel"; exit 0; fi

work=$(mktemp -d "${TMPDIR:-/tmp}/ringfence-qemu.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
mkdir -p "$root"
cp "$bin" "$root/init"
# Arguments travel in a file, NUL-separated, so they may hold any byte but NUL
# (the kernel command line would split them at spaces). guest.hpp reads it.
if (( $# )); then printf '%s\0' "$@" >"$root/ringfence-args"; fi
for spec in ${RINGFENCE_INITRD_EXTRA:-} $programs_extra; do
    src=${spec%%:*}; dst=${spec#*:}; [[ $spec == *:* ]] || dst=/$(basename "$src")
    mkdir -p "$root$(dirname "$dst")"
    cp -a "$src" "$root$dst"
done
(cd "$root" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --quiet -R 0:0) | gzip -1 >"$work/initrd.gz"

# Passes the guest's lines through as they come, without the exit marker,
# kernel messages ("[ 1.23] ...", "reboot: Power down") and blank lines that
# end the output, so the program's own last line stays the last line.
relay() {
    local line blanks=0
    while IFS= read -r line || [[ -n $line ]]; do
        case $line in
            'RINGFENCE-EXIT '*) continue ;;
            'reboot: '*) continue ;;
        esac
        [[ $line =~ ^\[\ *[0-9]+\.[0-9]+\]\  ]] && continue
        if [[ -z $line ]]; then blanks=$((blanks + 1)); continue; fi
        while ((blanks > 0)); do echo; blanks=$((blanks - 1)); done
        printf '%s\n' "$line"
    done
}

timeout_s=${RINGFENCE_QEMU_TIMEOUT:-900}
accel=${RINGFENCE_QEMU_ACCEL:-tcg}
serial=$work/serial.log
start=$(date +%s.%N)
set +e
# Serial goes to a pipe that is cleaned line by line and relayed at once, so a
# long guest run shows progress; stdin is closed (CI has none and QEMU must not
# grab a terminal).
# no_timer_check: under TCG on a loaded host (guests of several lines side by
# side on 2 cores) the kernel's boot-time IO-APIC timer check can run out of
# time and panic ("IO-APIC + timer doesn't work!"); seen on a 2-core machine.
timeout -k 10 "$timeout_s" qemu-system-x86_64 \
    -machine "accel=$accel" -cpu max -m "${RINGFENCE_QEMU_MEM:-512}" -smp "${RINGFENCE_QEMU_SMP:-1}" \
    -display none -monitor none -serial stdio -no-reboot -nodefaults \
    -kernel "$kernel" -initrd "$work/initrd.gz" \
    -append "console=ttyS0 quiet loglevel=3 panic=-1 oops=panic no_timer_check rdinit=/init${kernel_line:+ ringfence.kernel-line=$kernel_line}" \
    </dev/null 2>"$work/qemu.stderr" \
  | LC_ALL=C sed -u -e 's/\r//g' -e 's/\x1b\[[0-9;?]*[A-Za-z]//g' -e 's/\x1b[c()][0-9A-Za-z]\{0,1\}//g' \
  | tee "$serial" \
  | relay
status=("${PIPESTATUS[@]}")
set -e
elapsed=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
[[ -n ${RINGFENCE_KEEP_LOG:-} ]] && cp "$serial" "$RINGFENCE_KEEP_LOG"

marker=$(LC_ALL=C grep -a -o '^RINGFENCE-EXIT [0-9-]*$' "$serial" | tail -n1 || true)
if [[ -z $marker ]]; then
    if (( status[0] == 124 )); then
        log "FAILED: guest timed out after ${timeout_s}s without an exit marker"
    else
        log "FAILED: guest ended without an exit marker (crash or panic; qemu exit ${status[0]})"
    fi
    sed 's/^/  qemu: /' "$work/qemu.stderr" >&2
    log "last serial lines:"
    tail -n 20 "$serial" | sed 's/^/  | /' >&2
    exit $EXIT_NO_MARKER
fi
rc=${marker#RINGFENCE-EXIT }
log "guest exit status $rc after ${elapsed}s"
exit "$rc"
