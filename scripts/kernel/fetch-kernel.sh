#!/usr/bin/env bash
# Fetch the newest Debian cloud kernel of one 7.x line (or of every line) and
# sid's uapi headers into a cache.
#
# Usage: scripts/kernel/fetch-kernel.sh [--line 7.N | --all | --lines] [--print-dir | --print-image]
#
#   --line 7.N     the newest linux-binary-7.N.*-cloud-amd64 in sid or trixie-backports
#                  (default: RINGFENCE_KERNEL_LINE, else the newest line there is)
#   --all          every line listed in `--lines`, one after the other
#   --lines        print the lines this script knows how to test (one a line) and exit
#   --print-dir    print the cache directory instead of the version
#   --print-image  print the path of the line's vmlinuz instead of the version
#
# Output (stdout): the kernel version of each fetched line (e.g.
# 7.0.13+deb13-cloud-amd64), or the path asked for.
# Layout of the cache (${RINGFENCE_KERNEL_CACHE:-$HOME/.cache/ringfence/kernel}):
#   <ver>/vmlinuz            the image (and <ver>/config when the package ships one)
#   line-7.N -> <ver>        the newest fetched version of each line
#   vmlinuz -> <ver>/vmlinuz the newest version of the newest line (older callers)
#   sid-headers/usr/include  sid's linux-libc-dev (linux/io_uring/bpf_filter.h ...)
#
# Why a private apt configuration: the host must keep its own release; pointing
# the system's apt at sid would upgrade half the machine. Every apt call below
# names its own source list, lists dir, cache dir and options, so the host's
# apt.conf.d changes nothing that matters here: a frozen mirror's Release files past
# their Valid-Until date are accepted (Acquire::Check-Valid-Until=false here,
# not inherited), while signatures are still checked against Debian's keyring.
#
# Versions are never hard-coded: each line resolves to the newest package
# `linux-binary-<line>.*-cloud-amd64` in the package lists (sort -V).
#
# Exit codes: 0 ok; 77 nothing could be fetched (no mirror, no such package)
# and no usable cached kernel of the line exists -- callers turn that into a
# SKIP, or a failure under CI=true.
set -euo pipefail

readonly EXIT_UNAVAILABLE=77
# The lines the test matrix covers. A new line is one word here.
readonly KNOWN_LINES=(7.0 7.1 7.2 7.3)
cache=${RINGFENCE_KERNEL_CACHE:-${HOME:-/root}/.cache/ringfence/kernel}
print=version
line=${RINGFENCE_KERNEL_LINE:-}
all=0
while (($#)); do
    case $1 in
        --line) line=${2:?--line needs a value such as 7.0}; shift ;;
        --line=*) line=${1#--line=} ;;
        --all) all=1 ;;
        --lines) printf '%s\n' "${KNOWN_LINES[@]}"; exit 0 ;;
        --print-dir) print=dir ;;
        --print-image) print=image ;;
        *) echo "fetch-kernel: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done
if [[ -n $line && ! $line =~ ^[0-9]+\.[0-9]+$ ]]; then
    echo "fetch-kernel: --line takes a kernel line such as 7.0, not '$line'" >&2
    exit 2
fi

log() { printf 'fetch-kernel: %s\n' "$*" >&2; }

headers_cached() { [[ -d $cache/sid-headers/usr/include/linux/io_uring ]]; }
line_cached() { [[ -s $cache/line-$1/vmlinuz && -s $cache/line-$1/version ]]; }

# What to print for one finished line.
report() { # $1 line
    case $print in
        dir) printf '%s\n' "$cache" ;;
        image) printf '%s\n' "$cache/line-$1/vmlinuz" ;;
        *) cat "$cache/line-$1/version" ;;
    esac
}

unavailable() { # $1 reason, $2 line (optional)
    # Prefer a stale but complete cache over a skip.
    if [[ -n ${2:-} ]] && line_cached "$2" && headers_cached; then
        log "warning: $1; using cached kernel $(cat "$cache/line-$2/version")"
        report "$2"
        exit 0
    fi
    log "unavailable: $1"
    exit "$EXIT_UNAVAILABLE"
}

mkdir -p "$cache"
# Parallel test runs share the cache: one fetch at a time.
if command -v flock >/dev/null; then
    exec 9>"$cache/.lock"
    flock 9
fi

# Idempotence: refresh the package lists at most once per day
# (RINGFENCE_KERNEL_REFRESH=1 forces it, =0 forbids it when a cache exists).
aptdir=$cache/apt
stamp=$aptdir/lists-stamp
refresh=${RINGFENCE_KERNEL_REFRESH:-auto}
lines_fresh() {
    [[ $refresh == 0 ]] && return 0
    [[ $refresh == auto && -e $stamp && -n $(find "$stamp" -mmin -1440 2>/dev/null) ]]
}
if ((!all)) && [[ -n $line ]] && line_cached "$line" && headers_cached && lines_fresh; then
    report "$line"
    exit 0
fi

for tool in apt-get apt-cache dpkg-deb; do
    command -v "$tool" >/dev/null || unavailable "$tool not found (a Debian-based host is needed)" "$line"
done

# The Debian mirror the machine already uses (deb822 or one-line format, any
# file); fall back to the canonical one. Security and third-party sources are
# no use for sid and backports.
mirror=
for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    mirror=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i ~ /debian\/?$/ && $i !~ /security/) { print $i; exit } }' "$f")
    [[ -n $mirror ]] && break
done
if [[ -z $mirror ]]; then
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -r $f ]] || continue
        mirror=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:.*debian\/?$/) { print $i; exit } }' "$f")
        [[ -n $mirror ]] && break
    done
fi
mirror=${mirror:-http://deb.debian.org/debian}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
if [[ ! -r $keyring ]]; then
    # Ubuntu does not ship Debian's keyring by default; it is a package there too.
    if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
        log "installing debian-archive-keyring"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debian-archive-keyring >/dev/null 2>&1 || true
    fi
    [[ -r $keyring ]] || unavailable "$keyring missing (install debian-archive-keyring)" "$line"
fi

mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial" "$aptdir/etc/preferences.d" \
    "$aptdir/debs"
{
    printf 'deb [signed-by=%s] %s sid main\n' "$keyring" "$mirror"
    printf 'deb [signed-by=%s] %s trixie-backports main\n' "$keyring" "$mirror"
} >"$aptdir/sources.list"
: >"$aptdir/status"
# Every option that matters is given on the command line, which overrides
# whatever the host's apt.conf.d says (a fresh Debian machine checks
# Valid-Until; this project's machines do not).
apt_opts=(
    -o "Dir::Etc::sourcelist=$aptdir/sources.list"
    -o "Dir::Etc::sourceparts=-"
    -o "Dir::Etc::preferences=$aptdir/etc/preferences"
    -o "Dir::Etc::preferencesparts=$aptdir/etc/preferences.d"
    -o "Dir::State::Lists=$aptdir/lists"
    -o "Dir::State::status=$aptdir/status"
    -o "Dir::Cache=$aptdir/cache"
    -o "APT::Architecture=amd64"
    -o "APT::Architectures=amd64"
    -o "Acquire::Languages=none"
    -o "Acquire::Check-Valid-Until=false"
    -o "Acquire::AllowInsecureRepositories=false"
    -o "Debug::NoLocking=1"
    -o "APT::Sandbox::User=root"
)

if ! lines_fresh || [[ ! -e $stamp ]]; then
    log "updating private package lists (sid, trixie-backports) from $mirror"
    if ! apt-get "${apt_opts[@]}" -q update >"$aptdir/update.log" 2>&1 ||
       grep -qE '^(E:|W: (GPG|The repository|Failed))' "$aptdir/update.log"; then
        sed 's/^/  /' "$aptdir/update.log" >&2
        unavailable "apt-get update of sid and trixie-backports failed" "$line"
    fi
    touch "$stamp"
fi

# The newest package of a line: linux-binary-<line>.<patch>+<build>-cloud-amd64
# (older kernels ship vmlinuz in linux-image-<ver>-cloud-amd64 itself).
newest_package() { # $1 line
    local re="^linux-(binary|image)-${1//./\\.}\\.[0-9]+[^ ]*-cloud-amd64\$" names
    names=$(apt-cache "${apt_opts[@]}" search --names-only "$re" 2>/dev/null | awk '{ print $1 }')
    [[ -n $names ]] || return 1
    # Prefer linux-binary over linux-image of the same version.
    awk '{ v = $0; sub(/^linux-(binary|image)-/, "", v); kind = ($0 ~ /^linux-binary-/) ? 1 : 0;
           print v " " kind " " $0 }' <<<"$names" | sort -k1,1V -k2,2n | tail -n1 | awk '{ print $3 }'
}

newest_line() {
    apt-cache "${apt_opts[@]}" search --names-only '^linux-binary-[0-9]+\.[0-9]+\.[0-9]+.*-cloud-amd64$' 2>/dev/null |
        awk '{ print $1 }' | sed -E 's/^linux-binary-([0-9]+\.[0-9]+)\..*/\1/' | sort -V | tail -n1
}

fetch_deb() { # $1 package -> prints the path of the downloaded .deb
    local pkg=$1 want
    want=$(apt-cache "${apt_opts[@]}" show --no-all-versions "$pkg" 2>/dev/null | awk '/^Version:/ { print $2; exit }')
    [[ -n $want ]] || return 1
    local wantfile="$aptdir/debs/${pkg}_${want//:/%3a}_amd64.deb"
    if [[ ! -s $wantfile ]]; then
        (cd "$aptdir/debs" && apt-get "${apt_opts[@]}" -qq download "$pkg=$want" >&2) || return 1
    fi
    ls "$aptdir"/debs/"${pkg}"_"${want//:/%3a}"_*.deb 2>/dev/null | head -n1
}

fetch_line() { # $1 line
    local l=$1 pkg ver kdir deb tmp vmlinuz config
    pkg=$(newest_package "$l") || unavailable "no linux-binary-$l.*-cloud-amd64 in sid or trixie-backports" "$l"
    ver=${pkg#linux-binary-}; ver=${ver#linux-image-}
    kdir=$cache/$ver
    if [[ ! -s $kdir/vmlinuz ]]; then
        log "line $l: fetching $pkg"
        deb=$(fetch_deb "$pkg") || unavailable "cannot download $pkg" "$l"
        tmp=$(mktemp -d "$cache/extract.XXXXXX")
        dpkg-deb -x "$deb" "$tmp"
        # Both layouts: boot/vmlinuz-<ver> (7.0, 7.1) and usr/lib/modules/<ver>/vmlinuz (7.2, 7.3).
        vmlinuz=$(find "$tmp" \( -path '*/modules/*/vmlinuz' -o -name "vmlinuz-$ver" \) -type f | head -n1)
        [[ -n $vmlinuz ]] || { rm -rf "$tmp"; unavailable "$pkg holds no vmlinuz" "$l"; }
        mkdir -p "$kdir"
        cp "$vmlinuz" "$kdir/vmlinuz.tmp" && mv "$kdir/vmlinuz.tmp" "$kdir/vmlinuz"
        config=$(find "$tmp" \( -path '*/modules/*/config' -o -name "config-$ver" \) -type f | head -n1)
        [[ -n $config ]] && cp "$config" "$kdir/config"
        printf '%s\n' "$ver" >"$kdir/version"
        rm -rf "$tmp" "$deb"
    fi
    [[ -s $kdir/version ]] || printf '%s\n' "$ver" >"$kdir/version"
    if [[ -s $kdir/config ]] && ! grep -q '^CONFIG_IO_URING_BPF=y' "$kdir/config"; then
        log "warning: $ver is built without CONFIG_IO_URING_BPF=y"
    fi
    ln -sfn "$ver" "$cache/line-$l"
    log "line $l: $ver"
}

# sid's uapi headers (linux/io_uring/bpf_filter.h) for compiling tests.
fetch_headers() {
    local hdrver deb inc
    hdrver=$(apt-cache "${apt_opts[@]}" show --no-all-versions linux-libc-dev/sid 2>/dev/null |
        awk '/^Version:/ { print $2; exit }')
    [[ -n $hdrver ]] || unavailable "no linux-libc-dev in sid"
    if [[ ! -s $cache/sid-headers/version || $(cat "$cache/sid-headers/version") != "$hdrver" ]]; then
        deb=$(fetch_deb "linux-libc-dev") || unavailable "cannot download sid's linux-libc-dev"
        rm -rf "$cache/sid-headers.new"
        dpkg-deb -x "$deb" "$cache/sid-headers.new"
        printf '%s\n' "$hdrver" >"$cache/sid-headers.new/version"
        # Tests include <linux/...> and <asm/...>: give them an arch-neutral asm dir.
        inc=$cache/sid-headers.new/usr/include
        if [[ -d $inc/x86_64-linux-gnu/asm && ! -e $inc/asm ]]; then ln -s x86_64-linux-gnu/asm "$inc/asm"; fi
        rm -rf "$cache/sid-headers"
        mv "$cache/sid-headers.new" "$cache/sid-headers"
        rm -f "$deb"
    fi
}

if ((all)); then
    lines=("${KNOWN_LINES[@]}")
else
    [[ -n $line ]] || line=$(newest_line) || true
    [[ -n $line ]] || unavailable "no linux-binary-7.*-cloud-amd64 in sid or trixie-backports"
    lines=("$line")
fi
for l in "${lines[@]}"; do fetch_line "$l"; done
fetch_headers
newest=$(printf '%s\n' "${KNOWN_LINES[@]}" | while read -r l; do line_cached "$l" && echo "$l"; done | sort -V | tail -n1)
[[ -n $newest ]] && ln -sfn "line-$newest/vmlinuz" "$cache/vmlinuz" && cp "$cache/line-$newest/version" "$cache/version"
for l in "${lines[@]}"; do report "$l"; done
