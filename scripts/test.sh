#!/bin/sh
# test.sh: install what is needed, build, and run the whole suite: the C
# unit tests, then real httpd with real mod_ssl against real responders.
# Ends with prove's "Result: PASS" (or FAIL, and a non-zero exit).
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
make -s all tools unit-build
prove -j2 t/*.t
