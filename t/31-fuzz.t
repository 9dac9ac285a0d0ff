#!/usr/bin/perl
# The fuzz harnesses (fuzz/, `make fuzz-build` builds them into
# build/fuzz/), each run over its committed seeds and then FUZZ_CI_TIME
# seconds (default 4) more from a fresh work corpus, as `make fuzz-ci`
# does: any crash, sanitizer report, leak or hang (an input taking more
# than fuzz/run.sh's limit) fails. The long run is in docs/fuzzing.md.
use strict;
use warnings;
use FindBin;
use File::Temp qw(tempdir);
use Test::More;

my $top = "$FindBin::Bin/..";
chdir($top) or die "$top: $!\n";
my $secs = $ENV{FUZZ_CI_TIME} // 4;
my @names = map { m{fuzz/fuzz_(\w+)\.c$} ? $1 : () }
            grep { !m{fuzz_util\.c$} } sort glob('fuzz/fuzz_*.c');
ok(@names >= 5, scalar(@names) . ' harnesses: ' . join(' ', @names));
mkdir('build/fuzz');
my $work = tempdir('ci.XXXXXX', DIR => 'build/fuzz', CLEANUP => 1);

for my $name (@names) {
    my $bin = "build/fuzz/fuzz_$name";
    ok(-x $bin, "$name is built") or next;
    my @seeds = grep { -f } glob("fuzz/seeds/$name/*");
    ok(@seeds >= 4, "$name: " . scalar(@seeds) . ' seeds committed');
    my $line = `FUZZ_BIN=build/fuzz sh fuzz/run.sh $name $secs $work 2>&1`;
    my $rc = $? >> 8;
    chomp $line;
    my ($runs) = $line =~ /runs\s+(\d+)/;
    my $log = "$work/log/$name.log";
    is($rc, 0, "$name: no crash, leak or hang: $line")
        or diag(`tail -40 $log`);
    ok(($runs // 0) > @seeds, "$name: ran its seeds and fuzzed on ("
       . ($runs // 0) . ' inputs)');
    my @found = glob("$work/artifacts/$name-*");
    is(scalar(@found), 0, "$name: no crash, leak or timeout input written")
        or diag(join("\n", @found));
}
done_testing;
