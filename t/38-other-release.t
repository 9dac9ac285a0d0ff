#!/usr/bin/perl
# The other Debian release: on Debian 12 the build, the unit tests and a
# short integration subset run on Debian 13, and the other way round,
# through `sh scripts/test-on.sh RELEASE TESTS` (a throw-away root made
# with mmdebstrap, README "Platforms"): the build with -Werror, the unit
# tests plain, under valgrind and the sanitizers (t/00), stapling and the
# faults (t/01, t/02), the command (t/24) and the package built there,
# installed, used and purged (t/29). The suite's own "Result: PASS" must
# end the run.
#
# It runs when asked (SG_OTHER_RELEASE=1) and always under CI (CI=true),
# where a machine that cannot run it (not root, no mmdebstrap, no
# archive) fails it. Elsewhere it is skipped, saying so; inside
# test-on.sh's root it is skipped too (no root within a root). Measured
# on two cores busy with other suites (2026-12-08): 263 s with the root
# tarball cached, 496 s when mmdebstrap made it first (233 s of that).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
use Test::More;
use File::Temp qw(tempdir);
use POSIX qw(:sys_wait_h setsid);
use Time::HiRes qw(time sleep);

# SG_OTHER_RELEASE_TESTS (file names, space-separated) runs others instead,
# e.g. fewer on a slow machine (t/29 and the package build take some 45 s).
my @SUBSET = split ' ', ($ENV{SG_OTHER_RELEASE_TESTS}
    // 't/00-unit.t t/01-stapling.t t/02-faults.t t/24-cli.t t/29-deb.t');
my %OTHER = (bookworm => 'trixie', trixie => 'bookworm');
my $LIMIT = 1800;       # seconds: a hung run is stopped, not waited for

my $ci = ($ENV{CI} // '') eq 'true';
plan skip_all => "inside test-on.sh's $ENV{SG_TEST_ON} root: no root within it"
    if $ENV{SG_TEST_ON};
plan skip_all => 'runs the subset on the other Debian release when asked '
               . '(SG_OTHER_RELEASE=1) or under CI (CI=true)'
    if !$ci && !$ENV{SG_OTHER_RELEASE};

my ($codename) = SGTest::slurp('/etc/os-release') =~ /^VERSION_CODENAME=(\w+)/m;
my $other = $OTHER{$codename // ''};
if ($> != 0 || !$other) {
    fail($> != 0 ? 'runs as root (mmdebstrap, mounts, chroot)'
                 : 'this is Debian 12 or 13 (found ' . ($codename // 'none') . ')');
    done_testing;
    exit 1;
}

my $dir = tempdir('sg38-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $log = "$dir/test-on.log";
diag("sh scripts/test-on.sh $other @SUBSET (log: $log)");
my $t0 = time();
my $pid = fork() // die "fork: $!";
if ($pid == 0) {
    SGTest::exec_child(sub {
        setsid();
        chdir $SGTest::TOP or die "chdir $SGTest::TOP: $!\n";
        open(STDIN, '<', '/dev/null') or die "stdin: $!\n";
        open(STDOUT, '>', $log) or die "$log: $!\n";
        open(STDERR, '>&', \*STDOUT) or die "stderr: $!\n";
    }, 'sh', 'scripts/test-on.sh', $other, @SUBSET);
}
# Stopped by its process group when it takes too long or this test is
# ended: test-on.sh's trap then unmounts and removes its root.
my $stop = sub {
    return if waitpid($pid, WNOHANG) != 0;
    kill('TERM', -$pid);
    for (1 .. 300) { return if waitpid($pid, WNOHANG) != 0; sleep(0.1) }
    kill('KILL', -$pid);
    waitpid($pid, 0);
};
$SIG{$_} = sub { $stop->(); exit 1 } for qw(INT TERM HUP);
my $done = SGTest::wait_for(sub { waitpid($pid, WNOHANG) != 0 }, $LIMIT);
my $rc = $done ? $? >> 8 : -1;
$stop->() if !$done;
my $took = time() - $t0;
my $out = SGTest::slurp($log);
diag(sprintf('test-on.sh %s: %.0f s, exit %d', $other, $took, $rc));

ok($done, "finished within $LIMIT s");
is($rc, 0, "test-on.sh $other exits 0");
my @lines = grep { /\S/ } split /\n/, $out;
is($lines[-1] // '', 'Result: PASS', 'the last line is the suite\'s own Result: PASS');
like($out, qr/^\Q$_\E \.+ ok$/m, "$_ passes on $other") for @SUBSET;
like($out, qr/^All tests successful\.$/m, 'all tests successful');
diag("the last lines of the run:\n" . join("\n", @lines[-40 .. -1]))
    if !Test::More->builder->is_passing && @lines >= 40;
diag($out) if !Test::More->builder->is_passing && @lines < 40;
done_testing;
