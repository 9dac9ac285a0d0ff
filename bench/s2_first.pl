#!/usr/bin/perl
# Scenario 2: the first handshake after a cold start and after a graceful
# restart, with every responder taking 2 s to answer ("slow 2").
#
# For each configuration in turn (A B C D, then again): empty its store,
# start httpd, make one handshake as soon as it is ready, wait until it
# staples, restart it gracefully, make one handshake as soon as it is
# ready again (and its new children are up), stop it. Also timed: how long the start and the graceful
# restart took (command to "resuming normal operations").
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib", "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use SGBench;
use Time::HiRes qw(sleep);

my $QUICK = $ENV{SG_BENCH_QUICK};
my $ROUNDS = $QUICK ? 1 : 3;
my $DELAY = 2;                      # seconds the responder takes
my $STAPLE_WAIT = 10;               # seconds to wait for a first staple
# After a graceful restart httpd's event MPM starts the new generation of
# children on its once-a-second maintenance tick, so for up to a second
# nobody accepts, whatever the configuration. Waiting that out keeps
# httpd's gap out of the number that is meant to show stapling's.
my $GRACEFUL_SETTLE = 1.5;          # seconds

SGBench::progress("scenario 2: first handshake, responder answering "
                  . "after $DELAY s, $ROUNDS rounds");
my %srv;
for my $c (@SGBench::CONFIGS) {
    $srv{$c} = SGBench::server(config => $c);
    $srv{$c}->start_responder(mode => "slow $DELAY");
}

# One cold start and one graceful restart of one configuration.
sub cycle {
    my ($t) = @_;
    my %r;
    SGBench::clear_store($t);
    my $asked = SGBench::requests($t);
    $r{start_s} = SGBench::start($t);
    ($r{cold_stapled}, $r{cold_ms}) = SGBench::probe($t);
    $r{cold_staple_after_s} = SGBench::wait_stapled($t, $STAPLE_WAIT)
        unless SGBench::config_of($t) eq 'none';
    $r{graceful_s} = SGBench::graceful($t);
    sleep($GRACEFUL_SETTLE);
    ($r{graceful_stapled}, $r{graceful_ms}) = SGBench::probe($t);
    SGBench::stop($t);
    $r{responder_requests} = SGBench::requests($t) - $asked;
    SGBench::progress(sprintf("%-7s start %.2f s; first handshake %.0f ms "
        . "(%s); graceful %.2f s; then %.0f ms (%s)", SGBench::config_of($t),
        $r{start_s}, $r{cold_ms}, $r{cold_stapled} ? 'stapled' : 'no staple',
        $r{graceful_s}, $r{graceful_ms},
        $r{graceful_stapled} ? 'stapled' : 'no staple'));
    return \%r;
}

my %runs;
for my $round (1 .. $ROUNDS) {
    push @{$runs{$_}}, cycle($srv{$_}) for @SGBench::CONFIGS;
}

my %summary;
for my $c (@SGBench::CONFIGS) {
    my @r = @{$runs{$c}};
    my %s;
    for my $k (qw(start_s cold_ms graceful_s graceful_ms cold_staple_after_s)) {
        $s{$k} = SGBench::median(map { $_->{$k} } @r);
        ($s{"${k}_min"}, $s{"${k}_max"}) = SGBench::minmax(map { $_->{$k} } @r);
    }
    $s{cold_stapled} = scalar grep { $_->{cold_stapled} } @r;
    $s{graceful_stapled} = scalar grep { $_->{graceful_stapled} } @r;
    $s{never_stapled} = $c eq 'none' ? undef
                      : scalar grep { !defined $_->{cold_staple_after_s} } @r;
    $s{rounds} = scalar @r;
    $summary{$c} = \%s;
}
SGBench::save('s2_first', {
    rounds => $ROUNDS, delay_s => $DELAY, runs => \%runs,
    summary => \%summary,
});
