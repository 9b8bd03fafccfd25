#!/usr/bin/env bash
# npm test: set up what is missing, build, then run every test.
#   ATSI_TEST_FUZZ_SECONDS   how long the fuzz target runs (default 30)
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$ROOT"
started=$SECONDS

bash scripts/setup.sh
bash scripts/build.sh

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

step "Fuzzing the table reader (libFuzzer, ${ATSI_TEST_FUZZ_SECONDS:-30} s)"
CXX=clang++ cmake -S native -B native/build-fuzz -G Ninja -DATSI_FUZZ=ON -DATSI_TESTS=OFF >/dev/null
cmake --build native/build-fuzz -j "$JOBS" --target fuzz_reader
fuzz_work="$(mktemp -d)"
trap 'rm -rf "$fuzz_work"' EXIT
native/build-fuzz/fuzz_reader -max_total_time="${ATSI_TEST_FUZZ_SECONDS:-30}" -print_final_stats=1 \
  -artifact_prefix="$fuzz_work/" "$fuzz_work" native/test/corpus 2>&1 | tail -4

step "Benchmarks, quick mode (so they cannot rot; figures here mean little)"
native/build/lookup_bench --quick
node --expose-gc dist/bench/controller/build-publish-bench.js --quick
node dist/bench/proxy/proxy-bench.js --quick
node dist/bench/controller/latency-bench.js --quick

step "TypeScript tests (node --test)"
mapfile -t ts_tests < <(find dist -name '*.test.js' | sort)
node --test --test-reporter=spec "${ts_tests[@]}"

info "all tests passed in $((SECONDS - started)) s"
