#!/usr/bin/env bash
# Prints what a dynamically linked program needs in the guest's initramfs, as
# RINGFENCE_INITRD_EXTRA specs (scripts/kernel/qemu-run.sh): `host:guest` for
# the program itself, every library `ldd` lists and the dynamic loader, each
# at the path the loader looks for it (its host path), the host file being the
# symlink's target (qemu-run.sh copies with cp -a, which would copy the link).
#
# Usage: scripts/kernel/initrd-deps.sh PROGRAM...
# Exit: 0; 1 when a program is missing or a library is not found.
set -euo pipefail
(( $# >= 1 )) || { echo "usage: $0 PROGRAM..." >&2; exit 2; }
specs=()
for prog in "$@"; do
    [[ -x $prog ]] || { echo "initrd-deps: not an executable: $prog" >&2; exit 1; }
    specs+=("$(readlink -f "$prog"):$prog")
    # ldd lines: "libz.so.1 => /lib/x86_64-linux-gnu/libz.so.1 (0x...)", "/lib64/ld-linux-x86-64.so.2 (0x...)",
    # "linux-vdso.so.1 (0x...)" (in the kernel, no file), "libfoo.so => not found".
    while read -r line; do
        if [[ $line == *"not found"* ]]; then echo "initrd-deps: $prog: $line" >&2; exit 1; fi
        path=
        if [[ $line =~ =\>\ (/[^ ]+) ]]; then path=${BASH_REMATCH[1]}
        elif [[ $line =~ ^(/[^ ]+) ]]; then path=${BASH_REMATCH[1]}
        fi
        [[ -n $path ]] && specs+=("$(readlink -f "$path"):$path")
    done < <(ldd "$prog" 2>/dev/null || true)
done
printf '%s\n' "${specs[@]}" | LC_ALL=C sort -u | tr '\n' ' '
echo
