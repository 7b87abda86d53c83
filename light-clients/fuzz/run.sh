#!/usr/bin/env bash
# Run fuzz targets one after another (one libFuzzer job: the machines have 2 cores).
# Usage: fuzz/run.sh SECONDS TARGET...   (from anywhere; logs go to $FUZZ_LOG_DIR or /tmp)
# Build output goes to $CARGO_TARGET_DIR (default fuzz/target, ignored by git).
set -u
secs=${1:?seconds per target}; shift
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$(cd "$(dirname "$0")" && pwd)/target}
logs=${FUZZ_LOG_DIR:-/tmp}
for t in "$@"; do
  start=$(date +%s)
  cargo +nightly fuzz run "$t" -- -max_total_time="$secs" -rss_limit_mb=4096 \
    -print_final_stats=1 >"$logs/fuzz-$t.log" 2>&1
  rc=$?
  end=$(date +%s)
  last=$(grep -E '^#[0-9]+' "$logs/fuzz-$t.log" | tail -1)
  execs=$(grep -E '^stat::number_of_executed_units' "$logs/fuzz-$t.log" | awk '{print $2}')
  echo "$t rc=$rc secs=$((end - start)) execs=${execs:-?} corpus=$(ls fuzz/corpus/$t | wc -l) last: $last"
done
