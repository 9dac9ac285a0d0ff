#!/usr/bin/perl
# Scenario 10: a flapping responder, for half an hour (bench/lib/SGBenchSoak.pm).
#
# Responses valid 2 minutes; every 20-40 s (random, seeded) the responder
# switches to the next of unauthorized, tryLater, hang, garbage, wrong
# signer, HTTP 500 and expired (a shuffled order each cycle), then good. A
# client makes 10 handshakes a second and checks every staple. Reported:
# bad staples (must be 0), handshakes without a staple while a valid
# response existed (must be 0), the module's log lines per state of the
# responder (about one per change), and the RSS and file descriptors of
# the parent and the children over time (flat).
#
#   SG_SOAK_SECONDS=N    length (default 1800; SG_BENCH_QUICK=1: 240)
#   SG_SOAK_SEED=N       the random order and lengths (default 13)
#   SG_SOAK_VALIDITY=N   seconds each good response is valid (default 120)
#   SG_SOAK_STATE_MIN=N, SG_SOAK_STATE_MAX=N   a mode lasts (20, 40 s)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib", "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use SGBench;
use SGBenchSoak;

my %o = (
    seconds => $ENV{SG_SOAK_SECONDS} // ($ENV{SG_BENCH_QUICK} ? 240 : 1800),
    seed => $ENV{SG_SOAK_SEED} // 13,
    validity => $ENV{SG_SOAK_VALIDITY} // 120,
    state_min => $ENV{SG_SOAK_STATE_MIN} // 20,
    state_max => $ENV{SG_SOAK_STATE_MAX} // 40,
    rate => 10,
    retry_min => 5, retry_max => 20, responder_timeout => 5,
    out => SGBench::out_file('s10_soak-handshakes.txt'),
);
SGBench::progress("scenario 10: flapping responder for $o{seconds} s, "
                  . "responses valid $o{validity} s, seed $o{seed}");
my $r = SGBenchSoak::run(%o);
my $h = $r->{handshakes};
SGBench::progress(sprintf('%d handshakes: %d valid, %d bad, %d stale, %d '
    . 'without a staple (%d of them while a valid response existed), %d '
    . 'failed; %d states, %d operator log lines (at most %d in one state)',
    $h->{handshakes}, $h->{valid}, $h->{bad}, $h->{stale}, $h->{none},
    $h->{missed}, $h->{failed}, $r->{states}, $r->{log}{lines},
    $r->{log}{max_per_state}));
SGBench::save('s10_soak', $r);
exit($h->{bad} + $h->{stale} + $h->{missed} ? 1 : 0);
