#!/bin/sh
# run.sh NAME SECONDS WORK: run build/fuzz/fuzz_NAME (the B the Makefile
# passes as FUZZ_BIN) for SECONDS over a fresh work corpus in
# WORK/corpus/NAME, started from the committed seeds in fuzz/seeds/NAME
# (read only: libFuzzer adds new inputs to the first directory only).
# Crash, leak and timeout inputs land in WORK/artifacts/; the log in
# WORK/log/NAME.log. Prints one line: runs, time, exec/s, coverage, and
# the outcome; exits non-zero on any crash, leak or timeout.
set -u
name=$1 secs=$2 work=$3
bin=${FUZZ_BIN:-build/fuzz}/fuzz_$name
# A slow input is a hang to us: no input takes more than milliseconds,
# and the fetch harnesses give the client the module's default responder
# timeout (10 s), so that an input that makes it wait for its deadline
# (a stalled fetcher thread) is reported, not passed as an outcome.
timeout_s=${FUZZ_UNIT_TIMEOUT:-3}
dict=""
[ -f "fuzz/$name.dict" ] && dict="-dict=fuzz/$name.dict"
rm -rf "$work/corpus/$name"
mkdir -p "$work/corpus/$name" "$work/artifacts" "$work/log"
log=$work/log/$name.log
start=$(date +%s)
# shellcheck disable=SC2086
"$bin" -max_total_time="$secs" -timeout="$timeout_s" -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$work/artifacts/$name-" $dict \
    ${FUZZ_FLAGS:-} "$work/corpus/$name" "fuzz/seeds/$name" >"$log" 2>&1
rc=$?
end=$(date +%s)
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
eps=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$log" | tail -1)
outcome=ok
[ "$rc" -eq 0 ] || outcome="FAILED (exit $rc, see $log)"
grep -q 'ERROR: LeakSanitizer' "$log" && outcome="LEAK (see $log)"
grep -q 'ALARM: working on the last Unit' "$log" && outcome="TIMEOUT (see $log)"
printf '%-10s runs %10s  %5ss  %7s exec/s  %s  %s\n' "$name" "${runs:-?}" \
    "$((end - start))" "${eps:-?}" "${cov:-cov: ?}" "$outcome"
[ "$outcome" = ok ]
