#!/usr/bin/perl
# Scenario 1: steady-state full handshakes per second, with staples.
#
# The four servers run side by side (each with its own test PKI and
# responder, all answering "good"); once each one staples, sg_bench loads
# them in turn, A B C D A B C D ..., so that whatever drifts on the
# machine (CPU frequency, other load) hits every configuration alike.
# Ratios to "no stapling" are taken within each round, then the median.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib", "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use SGBench;
use List::Util qw(sum);

my $QUICK = $ENV{SG_BENCH_QUICK};
my $ROUNDS = $QUICK ? 2 : 6;
my $SECONDS = $QUICK ? 2 : 5;       # per configuration per round
my $WARMUP = 2;                     # seconds, once per configuration
my $CONC = 4;                       # connections at once: 2 per core
my $STAPLE_WAIT = 15;               # seconds for a first staple

SGBench::progress("scenario 1: steady state, $ROUNDS rounds of "
                  . "$SECONDS s per configuration, $CONC connections");
my %srv;
for my $c (@SGBench::CONFIGS) {
    my $t = SGBench::server(config => $c);
    $t->start_responder(mode => 'good');
    SGBench::start($t);
    $srv{$c} = $t;
}
# mod_ssl fetches during the first handshake, mod_md in its watchdog:
# wait until every stapling configuration staples before measuring.
for my $c (grep { $_ ne 'none' } @SGBench::CONFIGS) {
    defined SGBench::wait_stapled($srv{$c}, $STAPLE_WAIT)
        or SGBench::progress("$c: no staple after $STAPLE_WAIT s");
}
SGBench::bench($srv{$_}, conc => $CONC, duration => $WARMUP, quiet => 1)
    for @SGBench::CONFIGS;

my %runs;
for my $round (1 .. $ROUNDS) {
    SGBench::progress("round $round");
    for my $c (@SGBench::CONFIGS) {
        my $r = SGBench::bench($srv{$c}, conc => $CONC, duration => $SECONDS,
                               cpu => 1);
        push @{$runs{$c}}, { map { $_ => $r->{$_} + 0 }
            qw(handshakes hps p50_ms p99_ms valid_pct failed no_staple
               bad_staple server_us_per_hs) };
    }
}

my %summary;
for my $c (@SGBench::CONFIGS) {
    my @r = @{$runs{$c}};
    my @ratio = map { $r[$_]{hps} / $runs{none}[$_]{hps} } 0 .. $#r;
    my @p99 = map { $r[$_]{p99_ms} / $runs{none}[$_]{p99_ms} } 0 .. $#r;
    # capacity: handshakes one CPU second of httpd buys, relative to none
    my @cap = map { $runs{none}[$_]{server_us_per_hs} / $r[$_]{server_us_per_hs} }
              0 .. $#r;
    my ($lo, $hi) = SGBench::minmax(@ratio);
    $summary{$c} = {
        hps => SGBench::median(map { $_->{hps} } @r),
        p50_ms => SGBench::median(map { $_->{p50_ms} } @r),
        p99_ms => SGBench::median(map { $_->{p99_ms} } @r),
        hps_ratio => SGBench::median(@ratio),
        hps_ratio_min => $lo,
        hps_ratio_max => $hi,
        p99_ratio => SGBench::median(@p99),
        server_us_per_hs => SGBench::median(map { $_->{server_us_per_hs} } @r),
        cpu_capacity_ratio => SGBench::median(@cap),
        cpu_capacity_ratio_min => (SGBench::minmax(@cap))[0],
        cpu_capacity_ratio_max => (SGBench::minmax(@cap))[1],
        handshakes => sum(map { $_->{handshakes} } @r),
        valid_pct => SGBench::median(map { $_->{valid_pct} } @r),
        valid_pct_min => (SGBench::minmax(map { $_->{valid_pct} } @r))[0],
        evidence => SGBench::log_evidence($srv{$c}),
    };
}
SGBench::stop_all(map { $srv{$_} } @SGBench::CONFIGS);
SGBench::save('s1_steady', {
    rounds => $ROUNDS, seconds => $SECONDS, conc => $CONC,
    runs => \%runs, summary => \%summary,
});
