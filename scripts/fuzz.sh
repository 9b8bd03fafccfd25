#!/usr/bin/env bash
# npm run fuzz [-- SECONDS]: the four libFuzzer targets for a long budget, once.
#   SECONDS (or ATSI_FUZZ_SECONDS)  the total budget, default 1800 (30 min):
#                                   a third each for the route and TLS table
#                                   readers, a sixth each for the model and
#                                   TLS decoders (the shares npm test uses)
#   ATSI_FUZZ_NICE                  niceness of the fuzzers, default 19 (the
#                                   machine is shared)
# Each target starts from its committed corpus (native/test/corpus*), grows a
# working corpus in native/build-fuzz/work/TARGET, then prints executions,
# coverage (libFuzzer's final cov/ft) and corpus sizes; the grown inputs that
# add coverage are merged (-merge=1) into the committed corpus, which keeps
# its named seeds (native/test/make_corpus.cc). A crash stops the run and
# leaves its input in native/build-fuzz/work/TARGET-crash-*.
# Not part of npm test, which fuzzes each target for a few seconds.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"

total="${1:-${ATSI_FUZZ_SECONDS:-1800}}"
[[ "$total" =~ ^[0-9]+$ && "$total" -ge 4 ]] || die "the budget is a number of seconds, at least 4 (got '$total')"
niceness="${ATSI_FUZZ_NICE:-19}"

step "Building the fuzz targets (clang, libFuzzer)"
CXX=clang++ cmake -S native -B native/build-fuzz -G Ninja -DATSI_FUZZ=ON -DATSI_TESTS=OFF >/dev/null
# The build directory is shared with npm test and other engineers' builds.
flock /tmp/atsi-build.lock \
  cmake --build native/build-fuzz -j "$JOBS" --target fuzz_reader fuzz_decoder fuzz_tls_reader fuzz_tls_decoder

reader_s=$((total / 3))
tls_reader_s=$((total / 3))
decoder_s=$((total / 6))
tls_decoder_s=$((total - reader_s - tls_reader_s - decoder_s))

work=native/build-fuzz/work
mkdir -p "$work"
summary=()

# corpus_size DIR: "N files, B bytes"
corpus_size() {
  echo "$(find "$1" -type f | wc -l) files, $(find "$1" -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}') bytes"
}

# fuzz TARGET SECONDS CORPUS WHAT
fuzz() {
  local target=$1 seconds=$2 corpus=$3 what=$4
  local bin="native/build-fuzz/fuzz_$target" dir="$work/$target" log="$work/$target.log"
  step "Fuzzing the $what ($target, $seconds s, nice $niceness)"
  local before
  before="$(corpus_size "$corpus")"
  rm -rf "$dir"
  mkdir -p "$dir"
  if ! nice -n "$niceness" "$bin" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$work/$target-" "$dir" "$corpus" >"$log" 2>&1; then
    tail -40 "$log"
    die "fuzz_$target failed: its input is in $work/$target-* (log: $log)"
  fi
  # libFuzzer's last status line ("#N DONE cov: C ft: F corp: U/S ...") and
  # its final stats.
  local done_line execs cov ft
  done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -1)"
  [[ -n "$done_line" ]] || done_line="$(grep -E '^#[0-9]+' "$log" | tail -1)"
  execs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)"
  cov="$(sed -nE 's/.* cov: ([0-9]+).*/\1/p' <<<"$done_line")"
  ft="$(sed -nE 's/.* ft: ([0-9]+).*/\1/p' <<<"$done_line")"
  info "$done_line"
  grep '^stat::' "$log" | sed 's/^/    /'
  local grown
  grown="$(corpus_size "$dir")"
  # Only what adds coverage to the committed corpus goes into it.
  nice -n "$niceness" "$bin" -merge=1 -artifact_prefix="$work/$target-" "$corpus" "$dir" >"$work/$target.merge.log" 2>&1 ||
    { tail -20 "$work/$target.merge.log"; die "merging the corpus of fuzz_$target failed"; }
  local after
  after="$(corpus_size "$corpus")"
  info "corpus $corpus: $before before, $grown grown in $seconds s, $after after merging"
  summary+=("$(printf '%-12s %6s s  %12s execs  cov %5s  ft %6s  corpus %s -> %s' \
    "$target" "$seconds" "$execs" "$cov" "$ft" "$before" "$after")")
}

fuzz reader "$reader_s" native/test/corpus "route table reader"
fuzz decoder "$decoder_s" native/test/corpus-decoder "model decoder"
fuzz tls_reader "$tls_reader_s" native/test/corpus-tls "TLS table reader"
fuzz tls_decoder "$tls_decoder_s" native/test/corpus-tls-decoder "TLS model decoder"

step "Fuzzing: $total s in all"
for line in "${summary[@]}"; do info "$line"; done
info "the merged corpora are in native/test/corpus*: commit them"
