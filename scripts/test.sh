#!/bin/sh
# test.sh: install what is needed, build, and run the whole suite: the C
# unit tests, then real httpd with real mod_ssl against real responders.
# Ends with prove's "Result: PASS" (or FAIL, and a non-zero exit).
#   sh scripts/test.sh                  everything (the README's command)
#   sh scripts/test.sh t/01-x.t ...     only those tests, and only the
#                                       builds they need
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
tests=${*:-all}
# Is this test (or the whole suite) to be run?
wanted() { case " $tests " in *" all "*|*" $1 "*) return 0 ;; esac; return 1; }
# bench-tools: the load client t/32-storm-short.t runs
make -s all tools bench-tools unit-build
# deb: the Debian package, which t/29-deb.t installs and purges
if wanted t/29-deb.t; then make -s deb; fi
# the unit tests again, with AddressSanitizer and UBSan, and with
# ThreadSanitizer (t/00-unit.t)
if wanted t/00-unit.t; then make -s asan-build tsan-build; fi
# the fuzz harnesses, run briefly over their seeds by t/31-fuzz.t
if wanted t/31-fuzz.t; then make -s fuzz-build; fi
if [ "$tests" = all ]; then
    # t/38 (the other Debian release, in a throw-away root: minutes) goes
    # first, so that the rest runs beside it rather than after it
    # shellcheck disable=SC2046
    prove -j2 t/38-other-release.t $(ls t/*.t | grep -v '^t/38-')
else
    # shellcheck disable=SC2086
    prove -j2 $tests
fi
