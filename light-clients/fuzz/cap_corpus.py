"""Pick a capped corpus from a libFuzzer merge control file (see minimize.sh).

Usage: cap_corpus.py CONTROL_FILE OUT_DIR CAP

In the control file of `-merge=1`, the FT line of each input lists the features it added
over the inputs before it (libFuzzer runs them smallest first). Every seed-* file is kept;
then the inputs that added the most features, up to CAP files in all.
"""
import os
import shutil
import sys

control, out_dir, cap = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = open(control).read().split("\n")
n = int(lines[0])
files = lines[2 : 2 + n]
added = {}
for line in lines[2 + n :]:
    parts = line.split()
    if parts and parts[0] == "FT":
        added[int(parts[1])] = len(parts) - 2
total = sum(added.values()) or 1
seeds = [i for i, f in enumerate(files) if os.path.basename(f).startswith("seed-")]
rest = sorted(
    (i for i in added if i not in seeds and added[i] > 0), key=lambda i: -added[i]
)
picked = rest[: max(0, cap - len(seeds))]
kept = sum(added.get(i, 0) for i in seeds + picked)
os.makedirs(out_dir, exist_ok=True)
for i in seeds + picked:
    shutil.copy(files[i], out_dir)
print(
    f"{len(seeds)} seeds + {len(picked)} of {len(rest)} contributing inputs; "
    f"features kept {kept}/{total} ({100 * kept / total:.1f}%)"
)
