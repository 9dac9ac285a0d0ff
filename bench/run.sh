#!/bin/sh
# bench/run.sh (`make bench`): every scenario against every configuration
# (no stapling, mod_staple_guard, mod_ssl's stapling, mod_md's) in one
# run, then docs/benchmarks.md rewritten from the results.
#
# Everything listens on 127.0.0.1 only, inside a network namespace of its
# own (only loopback) when `unshare -n` works, as the tests do. Every
# process is started and stopped by PID by t/lib/SGTest.pm.
#
#   SG_BENCH_QUICK=1   shorter runs, 100 certificates: to try the harness
#   SG_BENCH_CERTS=N   certificates in scenario 5 (default 1000)
#   SG_BENCH_SCALE="N M"  certificates in scenario 7 (default "1000 10000")
#   SG_BENCH_OUT=DIR   where results go (default bench/out)
#   SG_BENCH_NO_DOC=1  leave docs/benchmarks.md alone
#   SG_BENCH_LONG=1    (`make bench-long`) scenarios 9 and 10 instead, the
#                      restart storm and, beside it, the half-hour soak with
#                      a flapping responder; only their part of the doc is
#                      rewritten
set -eu

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

# Re-run inside a fresh network namespace with only loopback, once.
if [ -z "${SG_IN_NETNS:-}" ]; then
    if unshare -n true >/dev/null 2>&1; then
        export SG_IN_NETNS=1
        exec unshare -n -- sh -c 'ip link set lo up && exec sh "$0"' \
            "$top/bench/run.sh"
    fi
    export SG_IN_NETNS=no       # shared namespace: still loopback only
fi

out=${SG_BENCH_OUT:-$top/bench/out}
export SG_BENCH_OUT="$out"
mkdir -p "$out"
# Only what a run writes: SG_BENCH_OUT may name a directory with more in it;
# and the short and the long scenarios keep each other's results.
if [ -n "${SG_BENCH_LONG:-}" ]; then
    rm -f "$out"/s9_storm* "$out"/s9_kills* "$out"/s10_soak* "$out"/long-* \
        "$out"/benchmarks.md
else
    for f in "$out"/*.json "$out"/*.txt "$out"/loadavg-* "$out"/elapsed \
        "$out"/benchmarks.md; do
        case "${f##*/}" in
        s9_storm*|s9_kills*|s10_soak*|long-*) ;;
        *) rm -f "$f" ;;
        esac
    done
fi

for f in build/mod_staple_guard.so build/tools/sg_responder; do
    [ -f "$f" ] || { echo "missing $f: run make all tools" >&2; exit 1; }
done
make -s bench-tools         # build/bench/sg_bench, build/tools/sg_mkcerts

# Snapshots: others may rebuild the module while this runs for minutes.
cp build/mod_staple_guard.so "$out/mod_staple_guard.so"
cp build/tools/sg_responder "$out/sg_responder"
export SG_BENCH_MODULE="$out/mod_staple_guard.so"
export SG_BENCH_RESPONDER="$out/sg_responder"

began=$(date +%s)
if [ -n "${SG_BENCH_LONG:-}" ]; then
    cat /proc/loadavg > "$out/long-loadavg-start"
    echo "== mod_staple_guard scenarios 9 and 10, $(date -u '+%Y-%m-%d %H:%M UTC'), results in $out"
    # The soak mostly waits: it runs beside the storm, a little nicer.
    nice -n 5 perl -I"$top/t/lib" -I"$top/bench/lib" bench/s10_soak.pl &
    soak=$!
    failed=""
    perl -I"$top/t/lib" -I"$top/bench/lib" bench/s9_storm.pl || failed=" s9_storm"
    wait "$soak" || failed="$failed s10_soak"
    cat /proc/loadavg > "$out/long-loadavg-end"
    echo "$(( $(date +%s) - began ))" > "$out/long-elapsed"
    echo "== scenarios 9 and 10 took $(cat "$out/long-elapsed") s${failed:+; failed:$failed}"
    if [ -z "${SG_BENCH_NO_DOC:-}" ]; then
        perl -I"$top/bench/lib" bench/report.pl --long "$out" > "$out/benchmarks.md"
        cp "$out/benchmarks.md" docs/benchmarks.md
        echo "== docs/benchmarks.md: scenarios 9 and 10 written"
    fi
    [ -z "$failed" ]
    exit
fi
cat /proc/loadavg > "$out/loadavg-start"
echo "== mod_staple_guard benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), results in $out"

# Each scenario is its own process: one failing does not lose the others.
failed=""
for s in s1_steady s2_first s3_restarts s5_many s6_slow_start s7_scale s8_fleet s11_crl; do
    t0=$(date +%s)
    if perl -I"$top/t/lib" -I"$top/bench/lib" "bench/$s.pl"; then
        echo "  $s: $(( $(date +%s) - t0 )) s"
    else
        echo "  $s: FAILED after $(( $(date +%s) - t0 )) s" >&2
        failed="$failed $s"
    fi
done

cat /proc/loadavg > "$out/loadavg-end"
echo "$(( $(date +%s) - began ))" > "$out/elapsed"
echo "== scenarios took $(cat "$out/elapsed") s${failed:+; failed:$failed}"

if [ -z "${SG_BENCH_NO_DOC:-}" ]; then
    # Written whole or not at all: a failing report keeps the old doc.
    perl -I"$top/bench/lib" bench/report.pl "$out" > "$out/benchmarks.md"
    cp "$out/benchmarks.md" docs/benchmarks.md
    echo "== docs/benchmarks.md written"
fi
perl -I"$top/bench/lib" bench/report.pl --summary "$out"
[ -z "$failed" ]
