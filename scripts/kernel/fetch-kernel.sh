#!/usr/bin/env bash
# Fetch the newest Debian sid cloud kernel and sid's uapi headers into a cache.
#
# Usage: scripts/kernel/fetch-kernel.sh [--print-dir]
#
# Output (stdout): the kernel version, or with --print-dir the cache directory.
# Layout of the cache (${RINGFENCE_KERNEL_CACHE:-$HOME/.cache/ringfence/kernel}):
#   vmlinuz                  -> the kernel image of the newest fetched version
#   version                  the kernel version string (e.g. 7.2.13+deb14-cloud-amd64)
#   sid-headers/usr/include  sid's linux-libc-dev (linux/io_uring/bpf_filter.h ...)
#   <ver>/vmlinuz (and <ver>/config when the package ships one; 7.2's does not)
#
# Why a private apt configuration: the host runs bookworm and must keep doing
# so; pointing the system's apt at sid would upgrade half the machine. Every
# apt call below names its own source list, lists dir and cache dir.
#
# Exit codes: 0 ok; 77 nothing could be fetched (no network, no mirror, no such
# package) and no usable cached kernel exists -- callers turn that into a SKIP.
set -euo pipefail

readonly EXIT_UNAVAILABLE=77
cache=${RINGFENCE_KERNEL_CACHE:-${HOME:-/root}/.cache/ringfence/kernel}
print_dir=0
[[ ${1:-} == --print-dir ]] && print_dir=1

log() { printf 'fetch-kernel: %s\n' "$*" >&2; }

have_cached() {
    [[ -s $cache/version && -s $cache/vmlinuz && -d $cache/sid-headers/usr/include/linux/io_uring ]]
}

finish() {
    if (( print_dir )); then printf '%s\n' "$cache"; else cat "$cache/version"; fi
    exit 0
}

unavailable() {
    # Prefer a stale but complete cache over a skip.
    if have_cached; then
        log "warning: $1; using cached kernel $(cat "$cache/version")"
        finish
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
stamp=$cache/apt/lists-stamp
refresh=${RINGFENCE_KERNEL_REFRESH:-auto}
if have_cached; then
    if [[ $refresh == 0 ]]; then finish; fi
    if [[ $refresh == auto && -e $stamp && -n $(find "$stamp" -mmin -1440 2>/dev/null) ]]; then
        finish
    fi
fi

for tool in apt-get apt-cache dpkg-deb; do
    command -v "$tool" >/dev/null || unavailable "$tool not found (a Debian-based host is needed)"
done

# The mirror the machine already uses; fall back to the canonical one.
mirror=
for f in /etc/apt/sources.list.d/*.sources; do
    [[ -r $f ]] || continue
    mirror=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' "$f")
    [[ -n $mirror ]] && break
done
if [[ -z $mirror && -r /etc/apt/sources.list ]]; then
    mirror=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^https?:/) { print $i; exit } }' /etc/apt/sources.list)
fi
mirror=${mirror:-http://deb.debian.org/debian}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[[ -r $keyring ]] || unavailable "$keyring missing (install debian-archive-keyring)"

aptdir=$cache/apt
mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial" "$aptdir/etc/preferences.d" "$aptdir/debs"
printf 'deb [signed-by=%s] %s sid main\n' "$keyring" "$mirror" >"$aptdir/sources.list"
: >"$aptdir/status"
apt_opts=(
    -o "Dir::Etc::sourcelist=$aptdir/sources.list"
    -o "Dir::Etc::sourceparts=-"
    -o "Dir::Etc::preferencesparts=$aptdir/etc/preferences.d"
    -o "Dir::State::Lists=$aptdir/lists"
    -o "Dir::State::status=$aptdir/status"
    -o "Dir::Cache=$aptdir/cache"
    -o "APT::Architecture=amd64"
    -o "APT::Architectures=amd64"
    -o "Acquire::Languages=none"
    -o "Debug::NoLocking=1"
    -o "APT::Sandbox::User=root"
)

if [[ $refresh != 0 || ! -s $aptdir/lists-stamp ]]; then
    log "updating private sid package lists from $mirror"
    if ! apt-get "${apt_opts[@]}" -qq update >"$aptdir/update.log" 2>&1; then
        sed 's/^/  /' "$aptdir/update.log" >&2
        unavailable "apt-get update of sid failed"
    fi
    touch "$stamp"
fi

# Resolve: linux-image-cloud-amd64 -> linux-image-<ver>-cloud-amd64 -> linux-binary-<ver>-cloud-amd64.
depends_on() { # $1 package, $2 regex of the wanted dependency
    apt-cache "${apt_opts[@]}" depends --no-recommends --no-suggests "$1" 2>/dev/null \
        | awk -v re="$2" '$1 ~ /Depends:/ && $2 ~ re { print $2 }' | sort -V | tail -n1
}
image=$(depends_on linux-image-cloud-amd64 '^linux-image-.*-cloud-amd64$')
[[ -n $image ]] || unavailable "cannot resolve linux-image-cloud-amd64 in sid"
ver=${image#linux-image-}
binary=$(depends_on "$image" '^linux-binary-.*-cloud-amd64$')
# Older kernels ship vmlinuz in linux-image-<ver> itself.
[[ -n $binary ]] || binary=$image
log "sid kernel: $ver (package $binary)"

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

kdir=$cache/$ver
if [[ ! -s $kdir/vmlinuz ]]; then
    deb=$(fetch_deb "$binary") || unavailable "cannot download $binary"
    tmp=$(mktemp -d "$cache/extract.XXXXXX")
    dpkg-deb -x "$deb" "$tmp"
    vmlinuz=$(find "$tmp" \( -path '*/modules/*/vmlinuz' -o -name "vmlinuz-$ver" \) -type f | head -n1)
    [[ -n $vmlinuz ]] || { rm -rf "$tmp"; unavailable "$binary holds no vmlinuz"; }
    mkdir -p "$kdir"
    cp "$vmlinuz" "$kdir/vmlinuz.tmp" && mv "$kdir/vmlinuz.tmp" "$kdir/vmlinuz"
    config=$(find "$tmp" \( -path '*/modules/*/config' -o -name "config-$ver" \) -type f | head -n1)
    [[ -n $config ]] && cp "$config" "$kdir/config"
    rm -rf "$tmp"
    rm -f "$deb"
fi
if [[ -s $kdir/config ]] && ! grep -q '^CONFIG_IO_URING_BPF=y' "$kdir/config"; then
    log "warning: $ver is built without CONFIG_IO_URING_BPF=y"
fi

# sid's uapi headers (linux/io_uring/bpf_filter.h) for compiling tests.
hdrver=$(apt-cache "${apt_opts[@]}" show --no-all-versions linux-libc-dev 2>/dev/null | awk '/^Version:/ { print $2; exit }')
if [[ ! -s $cache/sid-headers/version || $(cat "$cache/sid-headers/version") != "$hdrver" ]]; then
    deb=$(fetch_deb linux-libc-dev) || unavailable "cannot download sid's linux-libc-dev"
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

ln -sfn "$ver/vmlinuz" "$cache/vmlinuz"
printf '%s\n' "$ver" >"$cache/version"
finish
