#!/usr/bin/perl
# Short versions of benchmark scenarios 9 and 10 (bench/s9_storm.pl,
# bench/s10_soak.pl), for CI: what must hold whatever the machine, not how
# fast or how small.
#   storm: 20 graceful and 2 full restarts under load with the responder
#          down, then 5 SIGKILLs of the fetcher's child mid-refresh;
#   soak:  90 s of a flapping responder, one pass through every mode (the
#          faults, then good again).
# Memory, descriptors and timings are the benchmark's (docs/benchmarks.md).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib", "$FindBin::Bin/../bench/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;
use File::Temp qw(tempdir);
use SGBench;
use SGBenchStorm;
use SGBenchSoak;

# Another child takes the fetcher's lock at its next one-second tick,
# starts at the tick after (unless httpd is stopping), then runs its first
# round (one fetch from a responder slowed on purpose): about 2.5 s.
# The singleton watchdog this replaced took 11 s (mod_watchdog waits ten
# intervals after a lock it had to wait for): more than this is that.
my $RESUME_LIMIT = 5;
# The module's lines at info and above while the responder keeps one
# mode: a change of state, a warning before expiry, the expiry itself.
my $LINES_PER_STATE = 4;

my $out = tempdir('sg-storm-XXXXXX', TMPDIR => 1, CLEANUP => 1);
$ENV{SG_BENCH_OUT} = $out;
for my $f ($SGBench::BENCH, $SGTest::RESPONDER) {
    BAIL_OUT("missing $f: run make tools bench-tools") unless -x $f;
}

# ---- storm ----
my $r = SGBenchStorm::restarts(graceful => 20, full => 2, settle => 0.3,
                               out => "$out/storm.txt");
for my $k (qw(graceful full)) {
    my $h = $r->{$k}{handshakes};
    ok($h->{completed} > 0, "$k restarts: $h->{completed} handshakes "
       . "completed under load");
    is($h->{valid_staple} - $h->{stale}, $h->{completed},
       "$k restarts, responder down: every completed handshake carried a "
       . "valid staple ($h->{no_staple} without, $h->{bad_staple} bad, "
       . "$h->{stale} stale)");
}
is($r->{graceful}{handshakes}{failed}, 0,
   'no handshake failed during graceful restarts');
is($r->{graceful}{last}{parent_fds}, $r->{graceful}{first}{parent_fds},
   'the parent holds as many descriptors after 20 graceful restarts as '
   . 'after the first');
is($r->{store}{damaged}, 0, "store sound ($r->{store}{files} files)");

my $k = SGBenchStorm::kills(kills => 5, validity => 30,
                            out => "$out/kills.txt");
is($k->{mid_fetch}, 5, 'each kill came in the middle of a refresh');
is($k->{resumed}, 5, 'after each kill another child ran the fetcher');
ok(defined $k->{resume_s_max} && $k->{resume_s_max} < $RESUME_LIMIT,
   sprintf('... within %.1f s at most (limit %d s)',
           $k->{resume_s_max} // -1, $RESUME_LIMIT));
ok(!grep({ $_->{new_pid} && $_->{new_pid} == $_->{fetcher_pid} }
         @{$k->{samples}}), '... in another process');
is($k->{damaged_after_kills}, 0, 'no store file damaged after any kill');
is($k->{store}{damaged}, 0, "nor at the end ($k->{store}{files} files)");
ok($k->{requests} > $k->{kills_done}, "refreshes went on ($k->{requests} "
   . 'requests)');
my $kh = $k->{handshakes};
is($kh->{bad_staple} + $kh->{stale}, 0, 'no bad staple during the kills');
is($kh->{valid_staple}, $kh->{completed}, "every one of $kh->{completed} "
   . 'completed handshakes carried a valid staple');

# ---- soak ----
my $s = SGBenchSoak::run(seconds => 90, seed => 13, validity => 30,
                         state_min => 8, state_max => 11, rate => 10,
                         retry_min => 1, retry_max => 4,
                         responder_timeout => 3, out => "$out/soak.txt");
my $h = $s->{handshakes};
is($s->{modes_seen}, scalar @SGBenchSoak::MODES,
   "the responder went through every mode ($s->{states} states)");
ok($s->{good_handed_out} >= 2, "good responses were handed out "
   . "($s->{good_handed_out}) and valid for $s->{valid_existed_s} s");
ok($h->{valid} > 0 && $h->{none} > 0, "handshakes with ($h->{valid}) and "
   . "without ($h->{none}) a staple: both periods were seen");
is($h->{bad}, 0, 'no staple the client refused');
is($h->{stale}, 0, 'no staple after its nextUpdate');
is($h->{missed}, 0, 'no handshake without a staple while a valid response '
   . 'existed' . ($h->{first_missed} ? " (first at $h->{first_missed})" : ''));
ok($s->{log}{max_per_state} <= $LINES_PER_STATE,
   "log lines bounded: at most $s->{log}{max_per_state} in one state "
   . "($s->{log}{lines} in all)");
done_testing;
