#!/usr/bin/env python3
"""bench/same_code.py OBJECT PATTERN1 PATTERN2 - whether two functions of an
object file (demangled names containing the patterns) have the same
instructions, addresses and symbol names aside. Prints both counts and
"same" or "different"; exits 0 when the same. Called by bench/run."""
import re
import subprocess
import sys


def bodies(obj):
    out = subprocess.run(["objdump", "-d", "-C", "--no-show-raw-insn", obj], capture_output=True, text=True,
                         check=True).stdout
    funcs, name = {}, None
    for line in out.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
        if m:
            name = m.group(1)
            funcs[name] = []
            continue
        m = re.match(r"^\s+[0-9a-f]+:\s+(.*)$", line)
        if m and name:
            insn = re.split(r"[<#]", m.group(1))[0]  # symbolic targets and comments
            insn = insn.replace(",", ", ")
            funcs[name].append(" ".join(insn.split()))
    return funcs


def main():
    obj, p1, p2 = sys.argv[1:4]
    funcs = bodies(obj)
    f1 = [b for n, b in funcs.items() if p1 in n]
    f2 = [b for n, b in funcs.items() if p2 in n]
    if len(f1) != 1 or len(f2) != 1:
        print(f"same_code.py: expected one function each for {p1!r} and {p2!r}")
        return 2
    same = f1[0] == f2[0]
    print(f"{len(f1[0])} {len(f2[0])} {'same' if same else 'different'}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
