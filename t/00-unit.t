#!/usr/bin/perl
# The core's C unit tests (cmocka), run plain, under valgrind's memcheck,
# built with AddressSanitizer and UndefinedBehaviorSanitizer
# (`make asan-build`, into build/asan/) and with ThreadSanitizer (`make
# tsan-build`, into build/tsan/): scripts/test.sh builds them.
use strict;
use warnings;
use FindBin;
use Test::More;

my $top = "$FindBin::Bin/..";
# Every t/unit/test_*.c is a test; `make unit-build` builds each into
# build/unit/ (a missing binary fails here, it is not skipped).
my @bins = map { s{^.*/(test_\w+)\.c$}{$top/build/unit/$1}r }
           sort glob("$top/t/unit/test_*.c");
ok(@bins >= 8, scalar(@bins) . ' unit-test sources found');
my $valgrind = `sh -c 'command -v valgrind'`;
chomp $valgrind;

for my $bin (@bins) {
    my $name = $bin =~ s{.*/}{}r;
    ok(-x $bin, "$name is built") or next;
    my $out = `$bin 2>&1`;
    my ($n) = $out =~ /PASSED\s+\]\s+(\d+) test/;
    is($? >> 8, 0, "$name: " . ($n // 0) . " unit tests pass") or diag($out);
    unlike($out, qr/SKIPPED/, "$name: nothing skipped");
  SKIP: {
        skip('valgrind is not installed', 1) unless $valgrind;
        my $vg = `$valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 $bin 2>&1`;
        is($? >> 8, 0, "$name: no memory errors or leaks under valgrind")
            or diag($vg);
    }
    my $asan = "$top/build/asan/unit/$name";
    ok(-x $asan, "$name is built with the sanitizers") or next;
    my $san = `ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $asan 2>&1`;
    ok($? == 0 && $san !~ /runtime error|Sanitizer/,
       "$name: passes under AddressSanitizer and UBSan, no report")
        or diag($san);
    my $tsan = "$top/build/tsan/unit/$name";
    ok(-x $tsan, "$name is built with ThreadSanitizer") or next;
    my $race = `TSAN_OPTIONS='halt_on_error=1 exitcode=66 second_deadlock_stack=1' $tsan 2>&1`;
    ok($? == 0 && $race !~ /ThreadSanitizer/,
       "$name: passes under ThreadSanitizer, no report")
        or diag($race);
}
done_testing;
