#!/usr/bin/perl
# Scenario 1: steady state, full handshakes with staples.
#
# The four servers run side by side (each with its own test PKI and
# responder, all answering "good"); once each one staples, sg_bench loads
# them in turn, A B C D A B C D ..., so that whatever drifts on the
# machine (CPU frequency, other load) hits every configuration alike.
# Each round measures every configuration twice:
#   flat out: $CONC connections, each starting a handshake as soon as the
#             last is done: handshakes per second (capacity);
#   paced:    the same fixed rate for every configuration, $PACE_SHARE of what
#             the slowest one managed flat out in the warm-up: the
#             server's CPU time per handshake and latency p50/p99 at equal
#             load. (Flat out, latency is mostly queueing, and a server
#             whose client is slower gets more idle wake-ups per handshake.)
# Ratios to "no stapling" are taken within each round, then the median.
# "No stapling" is measured a second time at the end of each round (an
# A/A control): how far its ratio strays from 1 is the noise of this
# machine, to read every other ratio against.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib", "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use SGBench;
use List::Util qw(min sum);

my $QUICK = $ENV{SG_BENCH_QUICK};
my $ROUNDS = $QUICK ? 2 : 5;
my $SECONDS = $QUICK ? 2 : 4;       # per configuration, per measurement
my $WARMUP = 2;                     # seconds flat out, once per configuration
my $CONC = 4;                       # connections at once: 2 per core
my $PACE_SHARE = 0.4;               # paced rate: this share of the slowest,
                                    # with room for the rest of the machine
my $PACE_STEP = 50;                 # ... rounded down to this many per s
my $STAPLE_WAIT = 15;               # seconds for a first staple
my $AGAIN = 'none_again';           # the A/A control's name
my @ORDER = (@SGBench::CONFIGS, $AGAIN);

SGBench::progress("scenario 1: steady state, $ROUNDS rounds of $SECONDS s "
                  . "per configuration flat out and paced, $CONC connections");
my %srv = SGBench::start_each();
$srv{$AGAIN} = $srv{none};
# mod_ssl fetches during the first handshake, mod_md in its watchdog:
# wait until every stapling configuration staples before measuring.
for my $c (grep { $_ ne 'none' } @SGBench::CONFIGS) {
    defined SGBench::wait_stapled($srv{$c}, $STAPLE_WAIT)
        or SGBench::progress("$c: no staple after $STAPLE_WAIT s");
}
my %warm = map {
    $_ => SGBench::bench($srv{$_}, conc => $CONC, duration => $WARMUP,
                         quiet => 1)->{hps}
} @SGBench::CONFIGS;
my $slowest = min(values %warm);
my $rate = $PACE_STEP * int($PACE_SHARE * $slowest / $PACE_STEP) || $PACE_STEP;
SGBench::progress("paced rate: $rate handshakes/s ($PACE_SHARE × the "
                  . "slowest warm-up, " . int($slowest) . "/s)");

my @KEYS = qw(handshakes hps p50_ms p99_ms valid_pct failed no_staple
              bad_staple server_us_per_hs late);
my (%flat, %paced, %lat_files);
for my $round (1 .. $ROUNDS) {
    # (the A/A control, when always last, was slower than "none" in 4
    # rounds of 5 once)
    my @this = SGBench::rotated($round, @ORDER);
    SGBench::progress("round $round: flat out");
    for my $c (@this) {
        my $r = SGBench::bench($srv{$c}, conc => $CONC, duration => $SECONDS,
                               cpu => 1, label => $c);
        push @{$flat{$c}}, { map { $_ => $r->{$_} + 0 } @KEYS };
    }
    SGBench::progress("round $round: paced at $rate/s");
    for my $c (@this) {
        my $lat = SGBench::out_file("s1-latencies-$c-$round.txt");
        my $r = SGBench::bench($srv{$c}, conc => $CONC, duration => $SECONDS,
                               rate => $rate, cpu => 1, label => $c,
                               latencies => $lat);
        push @{$paced{$c}}, { map { $_ => $r->{$_} + 0 } @KEYS };
        push @{$lat_files{$c}}, $lat;
    }
}

# Median of a per-round value, and of its per-round ratio to "none".
sub med { my ($runs, $k) = @_; SGBench::median(map { $_->{$k} } @$runs) }
sub ratios {
    my ($runs, $base, $k) = @_;
    return map { $runs->[$_]{$k} / $base->[$_]{$k} } 0 .. $#$runs;
}

# p99 over every paced handshake of all rounds, for information: one bad
# round (a hiccup of the machine) weighs on it fully, where the median of
# the per-round ratios, which the verdict uses, shrugs it off.
my %pooled = map { $_ => SGBench::pooled_percentile(0.99, @{$lat_files{$_}}) }
             @ORDER;

my %summary;
for my $c (@ORDER) {
    my ($f, $p) = ($flat{$c}, $paced{$c});
    my @hps = ratios($f, $flat{none}, 'hps');
    my @cpu = ratios($p, $paced{none}, 'server_us_per_hs');
    my @p99 = ratios($p, $paced{none}, 'p99_ms');
    $summary{$c} = {
        hps => med($f, 'hps'),
        hps_ratio => SGBench::median(@hps),
        hps_ratio_min => min(@hps),
        hps_ratio_max => (sort { $b <=> $a } @hps)[0],
        flat_p50_ms => med($f, 'p50_ms'),
        flat_p99_ms => med($f, 'p99_ms'),
        flat_p99_ratio => SGBench::median(ratios($f, $flat{none}, 'p99_ms')),
        paced_p50_ms => med($p, 'p50_ms'),
        paced_p99_ms => med($p, 'p99_ms'),
        paced_p99_ratio => SGBench::median(@p99),
        paced_p99_ratio_min => min(@p99),
        paced_p99_ratio_max => (sort { $b <=> $a } @p99)[0],
        paced_p99_pooled_ms => $pooled{$c},
        paced_p99_pooled_ratio => $pooled{$c} / $pooled{none},
        server_us_per_hs => med($p, 'server_us_per_hs'),
        cpu_ratio => SGBench::median(@cpu),
        cpu_ratio_min => min(@cpu),
        cpu_ratio_max => (sort { $b <=> $a } @cpu)[0],
        late => sum(map { $_->{late} } @$p),
        handshakes => sum(map { $_->{handshakes} } @$f, @$p),
        valid_pct_min => min(map { $_->{valid_pct} } @$f, @$p),
        failed => sum(map { $_->{failed} } @$f, @$p),
        evidence => SGBench::log_evidence($srv{$c}),
    };
}
SGBench::stop_all(map { $srv{$_} } @SGBench::CONFIGS);
SGBench::save('s1_steady', {
    rounds => $ROUNDS, seconds => $SECONDS, conc => $CONC, rate => $rate,
    pace_share => $PACE_SHARE,
    warmup_hps => \%warm, flat => \%flat, paced => \%paced,
    summary => \%summary,
});
