#!/usr/bin/perl
# Scenarios 3 and 4: graceful restarts, with the responder up, then down.
#
# The four servers run side by side, each with its own PKI and responder
# (so each responder's log counts one configuration's requests). Once
# every one staples:
#   scenario 4: 50 graceful restarts with the responders up, one handshake
#               after each: how many requests per certificate beyond the
#               one that got the first response? (The responses are valid
#               for an hour; no schedule asks for a new one within this run.)
#   scenario 3: the responders stopped, 50 more graceful restarts, one
#               handshake after each: how many carried a valid staple?
# Each iteration restarts all four, then makes the four handshakes; httpd's
# own gap after a graceful restart (new children come on the next
# once-a-second maintenance tick) then runs for all four at once.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib", "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use SGBench;

my $QUICK = $ENV{SG_BENCH_QUICK};
my $RESTARTS = $QUICK ? 5 : 50;
my $STAPLE_WAIT = 15;               # seconds for the first staple

SGBench::progress("scenarios 3 and 4: $RESTARTS graceful restarts with the "
                  . "responder up, then $RESTARTS with it down");
my %srv = SGBench::start_each();
my %first;
for my $c (@SGBench::CONFIGS) {
    next if $c eq 'none';
    $first{$c} = SGBench::wait_stapled($srv{$c}, $STAPLE_WAIT);
    SGBench::progress("$c: no staple after $STAPLE_WAIT s")
        unless defined $first{$c};
}

# $RESTARTS rounds of: restart all, then one handshake with each.
sub restarts {
    my ($phase) = @_;
    my %r = map { $_ => { valid => 0, none => 0, bad => 0, failed => 0,
                          graceful_s => [] } } @SGBench::CONFIGS;
    for my $i (1 .. $RESTARTS) {
        push @{$r{$_}{graceful_s}}, SGBench::graceful($srv{$_})
            for @SGBench::CONFIGS;
        for my $c (@SGBench::CONFIGS) {
            my (undef, undef, $b) = SGBench::probe($srv{$c});
            $r{$c}{valid} += $b->{valid_staple};
            $r{$c}{none} += $b->{no_staple};
            $r{$c}{bad} += $b->{bad_staple};
            $r{$c}{failed} += $b->{failed};
        }
        SGBench::progress("$phase: $i restarts") if $i % 10 == 0;
    }
    for my $c (@SGBench::CONFIGS) {
        $r{$c}{graceful_s} = SGBench::median(@{$r{$c}{graceful_s}});
        $r{$c}{valid_pct} = 100 * $r{$c}{valid} / $RESTARTS;
    }
    return \%r;
}

# Scenario 4: responders up; count what each one was asked.
my %before = map { $_ => SGBench::requests($srv{$_}) } @SGBench::CONFIGS;
my $up = restarts('responder up');
for my $c (@SGBench::CONFIGS) {
    $up->{$c}{requests_before} = $before{$c};
    $up->{$c}{requests_during} = SGBench::requests($srv{$c}) - $before{$c};
    $up->{$c}{first_staple_s} = $first{$c};
    SGBench::progress(sprintf("%-7s responder up: %d requests during "
        . "%d restarts (%d before), %d/%d handshakes with a valid staple", $c,
        $up->{$c}{requests_during}, $RESTARTS, $before{$c},
        $up->{$c}{valid}, $RESTARTS));
}

# Scenario 3: responders down.
$srv{$_}->stop_responder for @SGBench::CONFIGS;
my $down = restarts('responder down');
for my $c (@SGBench::CONFIGS) {
    $down->{$c}{evidence} = SGBench::log_evidence($srv{$c});
    SGBench::progress(sprintf("%-7s responder down: %d/%d handshakes with "
        . "a valid staple (%d none, %d bad)", $c, $down->{$c}{valid},
        $RESTARTS, $down->{$c}{none}, $down->{$c}{bad}));
}
SGBench::stop_all(map { $srv{$_} } @SGBench::CONFIGS);

SGBench::save('s4_requests', { restarts => $RESTARTS, summary => $up });
SGBench::save('s3_outage', { restarts => $RESTARTS, summary => $down });
