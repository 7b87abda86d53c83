#!/usr/bin/env bash
# Minimize the corpus of each TARGET in place, keeping every seed-* file, and cap it at
# CAP files (default 200). What `cargo fuzz cmin` does (libFuzzer -merge=1), with two
# changes: coverage without hit counters (-use_counters=0: edges, not edge x count bucket)
# and, when more than CAP files still add coverage, only the CAP - seeds that added the
# most features are kept (cap_corpus.py reads libFuzzer's merge control file).
# Usage: fuzz/minimize.sh [CAP] TARGET...   (after `cargo +nightly fuzz build`)
set -eu
cap=200
if [[ ${1:-} =~ ^[0-9]+$ ]]; then cap=$1; shift; fi
cd "$(dirname "$0")"
bin=${CARGO_TARGET_DIR:-$(cd "$(dirname "$0")" && pwd)/target}/x86_64-unknown-linux-gnu/release
for t in "$@"; do
  tmp=$(mktemp -d)
  mkdir "$tmp/scratch" "$tmp/seeds"
  "$bin/$t" -merge=1 -use_counters=0 -rss_limit_mb=4096 \
    -merge_control_file="$tmp/control" "$tmp/scratch" "corpus/$t" >"$tmp/log" 2>&1
  python3 cap_corpus.py "$tmp/control" "$tmp/new" "$cap"
  rm -rf "corpus/$t"
  mv "$tmp/new" "corpus/$t"
  rm -rf "$tmp"
  echo "$t: $(ls "corpus/$t" | wc -l) files"
done
