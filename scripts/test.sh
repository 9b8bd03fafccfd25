#!/usr/bin/env bash
# npm test: set up what is missing, build, then run every test.
#   ATSI_TEST_FUZZ_SECONDS   how long fuzzing takes in all (default 30): a
#                            third each for the route and TLS table readers,
#                            a sixth each for the model and TLS decoders
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
started=$SECONDS

bash scripts/setup.sh
bash scripts/build.sh

step "Lint (ESLint: layers, promises)"
npx eslint .

step "C++ tests of the route-table core (ctest)"
ctest --test-dir native/build --output-on-failure -j "$JOBS"

step "C++ tests of the plugin's logic (ctest)"
ctest --test-dir ats-plugin/build --output-on-failure -j "$JOBS"

for san in thread address; do
  step "C++ tests under the ${san} sanitizer (clang)"
  dir="native/build-$san"
  CXX=clang++ cmake -S native -B "$dir" -G Ninja -DATSI_SANITIZE="$san" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build "$dir" -j "$JOBS" --target core_tests
  info "running (the concurrency test takes a while under the sanitizer)"
  TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" ASAN_OPTIONS="detect_leaks=1" \
    UBSAN_OPTIONS="print_stacktrace=1 halt_on_error=1" "$dir/core_tests" --gtest_brief=1
done

step "Building the fuzz targets (clang, libFuzzer)"
fuzz_total="${ATSI_TEST_FUZZ_SECONDS:-30}"
# at_least_1 N: fuzzing for 0 s would mean "forever" to libFuzzer
at_least_1() { echo $(($1 > 0 ? $1 : 1)); }
fuzz_reader_s=$(at_least_1 $((fuzz_total / 3)))
fuzz_tls_reader_s=$(at_least_1 $((fuzz_total / 3)))
fuzz_decoder_s=$(at_least_1 $((fuzz_total / 6)))
fuzz_tls_decoder_s=$(at_least_1 $((fuzz_total - fuzz_reader_s - fuzz_tls_reader_s - fuzz_decoder_s)))
CXX=clang++ cmake -S native -B native/build-fuzz -G Ninja -DATSI_FUZZ=ON -DATSI_TESTS=OFF >/dev/null
cmake --build native/build-fuzz -j "$JOBS" --target fuzz_reader fuzz_decoder fuzz_tls_reader fuzz_tls_decoder
fuzz_work="$(mktemp -d)"
trap 'rm -rf "$fuzz_work"' EXIT
# fuzz TARGET SECONDS SEED_CORPUS WHAT
fuzz() {
  step "Fuzzing the $4 (libFuzzer, $2 s)"
  mkdir -p "$fuzz_work/$1"
  "native/build-fuzz/fuzz_$1" -max_total_time="$2" -print_final_stats=1 \
    -artifact_prefix="$fuzz_work/$1-" "$fuzz_work/$1" "$3" 2>&1 | tail -4
}
fuzz reader "$fuzz_reader_s" native/test/corpus "table reader"
fuzz decoder "$fuzz_decoder_s" native/test/corpus-decoder "model decoder"
fuzz tls_reader "$fuzz_tls_reader_s" native/test/corpus-tls "TLS table reader"
fuzz tls_decoder "$fuzz_tls_decoder_s" native/test/corpus-tls-decoder "TLS model decoder"

step "Benchmarks, quick mode (so they cannot rot; figures here mean little)"
native/build/lookup_bench --quick
native/build/lookup_bench --gateway --quick
node --expose-gc dist/bench/controller/build-publish-bench.js --quick
node dist/bench/controller/manifests-bench.js --quick
node dist/bench/proxy/proxy-bench.js --quick
node dist/bench/proxy/tls-bench.js --quick
node dist/bench/controller/latency-bench.js --quick

step "TypeScript tests (node --test)"
mapfile -t ts_tests < <(find dist -name '*.test.js' | sort)
node --test --test-reporter=spec "${ts_tests[@]}"

info "all tests passed in $((SECONDS - started)) s"
