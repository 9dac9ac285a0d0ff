#!/bin/sh
# test.sh: install what is needed, build, and run the whole suite: the C
# unit tests, then real httpd with real mod_ssl against real responders.
# Ends with prove's "Result: PASS" (or FAIL, and a non-zero exit).
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
# deb: the Debian package, which t/29-deb.t installs and purges;
# bench-tools: the load client t/32-storm-short.t runs
make -s all tools bench-tools unit-build deb
# the unit tests again, with AddressSanitizer and UBSan, and with
# ThreadSanitizer (t/00-unit.t)
make -s asan-build tsan-build
# the fuzz harnesses, run briefly over their seeds by t/31-fuzz.t
make -s fuzz-build
prove -j2 t/*.t
