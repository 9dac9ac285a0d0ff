#!/usr/bin/perl
# Scenario 9: a restart storm under load, then the fetcher's child killed
# again and again (bench/lib/SGBenchStorm.pm).
#
# Two client connections make full handshakes back to back all along and
# check every staple. With the responder down: 200 graceful restarts, then
# 20 full ones (stop, start): the share of completed handshakes with a
# valid staple (must be 100 %), the handshakes that failed, and the RSS
# and open file descriptors of the parent and the children after each
# restart, with their least-squares slope per restart (flat); the same
# graceful restarts without the module, for comparison. Then, with the
# responder up (answering after 1 s) and responses valid 30 s (refreshed
# every few seconds), 50 times SIGKILL to the child that runs the fetcher,
# in the middle of a refresh: every store file sound after each kill, the
# time until another child's fetcher started, and the parent's RSS and
# descriptors.
#
#   SG_STORM_GRACEFUL=N, SG_STORM_FULL=N, SG_STORM_KILLS=N
#       (default 200, 20, 50; SG_BENCH_QUICK=1: 20, 2, 5)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib", "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use SGBench;
use SGBenchStorm;

my $Q = $ENV{SG_BENCH_QUICK};
my %restarts = (
    graceful => $ENV{SG_STORM_GRACEFUL} // ($Q ? 20 : 200),
    full => $ENV{SG_STORM_FULL} // ($Q ? 2 : 20),
    settle => 1.5,
    out => SGBench::out_file('s9_storm-handshakes.txt'),
);
my %kills = (
    kills => $ENV{SG_STORM_KILLS} // ($Q ? 5 : 50),
    validity => 30,
    out => SGBench::out_file('s9_kills-handshakes.txt'),
);

SGBench::progress("scenario 9: $restarts{graceful} graceful and "
    . "$restarts{full} full restarts under load, responder down");
my $r = SGBenchStorm::restarts(%restarts);
for my $k (qw(graceful full)) {
    my ($h, $sl) = ($r->{$k}{handshakes}, $r->{$k}{slope_per_restart});
    SGBench::progress(sprintf('%s: %d handshakes completed, %s %% with a '
        . 'valid staple, %d failed; slope per restart: parent %+.2f kB '
        . '%+.3f fds, children %+.2f kB %+.3f fds', $k, $h->{completed},
        $h->{valid_pct} // 'n/a', $h->{failed}, $sl->{parent_rss_kb},
        $sl->{parent_fds}, $sl->{child_rss_kb}, $sl->{child_fds}));
}
SGBench::progress("scenario 9: the same graceful restarts without the "
                  . "module (control)");
my $c = SGBenchStorm::control(%restarts);
SGBench::progress(sprintf('control: slope per restart: parent %+.2f kB '
    . '%+.3f fds, children %+.2f kB %+.3f fds',
    @{$c->{slope_per_restart}}{qw(parent_rss_kb parent_fds child_rss_kb
                                  child_fds)}));
SGBench::progress("scenario 9: $kills{kills} kill -9 of the fetcher's child");
my $k = SGBenchStorm::kills(%kills);
SGBench::progress(sprintf('%d kills: fetcher resumed %d times (median %.2f '
    . 's, max %.2f s), store damaged after %d, %d refreshes; %s %% valid '
    . 'staples, %d failed', $k->{kills_done}, $k->{resumed},
    $k->{resume_s_median} // -1, $k->{resume_s_max} // -1,
    $k->{damaged_after_kills}, $k->{requests},
    $k->{handshakes}{valid_pct} // 'n/a', $k->{handshakes}{failed}));
SGBench::save('s9_storm', { restarts => $r, control => $c, kills => $k });
