#!/usr/bin/perl
# The core's C unit tests (cmocka), run plain and under valgrind's memcheck.
use strict;
use warnings;
use FindBin;
use Test::More;

my $top = "$FindBin::Bin/..";
my @bins = map { "$top/t/unit/$_" }
           qw(test_validate test_request test_schedule test_table test_registry
              test_batch test_store test_workq);
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
}
done_testing;
