# SGBenchSoak: a flapping responder against mod_staple_guard, for as long
# as asked (bench/s10_soak.pl: 30 minutes; t/32-storm-short.t: a pass
# through every mode). The responder's answer changes every MIN to MAX
# seconds (random, seeded): every fault in a shuffled order, then good
# again, cycle after cycle, while a client makes paced handshakes and checks every
# staple. Afterwards the client's lines are laid over the responder's log:
# the responder says when it handed out a good response and so until when
# a valid one existed.
package SGBenchSoak;

use strict;
use warnings;

use List::Util qw(shuffle);
use POSIX qw(floor);
use Time::HiRes qw(time sleep);

use SGTest;
use SGBench;

# The responder's modes (t/tools/sg_responder.c), by the name the issue
# gives them.
our @MODES = (
    [good => 'good'], [unauthorized => 'status 6'], [tryLater => 'status 3'],
    [hang => 'hang'], [garbage => 'garbage'], [wrong_signer => 'wrongkey'],
    [http500 => 'http500'], [expired => 'expired'],
);

# A handshake this soon after the responder handed out a good response
# may still go without it: the fetcher has to receive, validate and
# publish it first.
my $PUBLISH_GRACE = 1.0;            # seconds
my $SAMPLE_EVERY = 10;              # seconds between memory samples
my $STAPLE_WAIT = 30;
my $OPERATOR_LEVELS = qr/\[staple_guard:(?:info|notice|warn|error|crit|alert|emerg)\]/;

# Options: seconds (the soak's length), validity (of each good response),
# state_min, state_max (seconds a mode lasts), seed, rate (handshakes/s),
# out (a file for the client's lines). Returns the results, checks
# included (see analyse()).
sub run {
    my (%o) = @_;
    my $t = SGBench::server(config => 'sg', global => server_conf(%o));
    $t->start_responder(mode => 'good', validity => $o{validity});
    SGBench::start($t);
    SGBench::wait_stapled($t, $STAPLE_WAIT) // die "no staple at the start\n";
    my $log0 = length($t->error_log);
    my $client = SGBench::bench_start($t, conc => 1, rate => $o{rate},
        duration => $o{seconds} + 3600, label => 'soak',
        outcomes => $o{out});
    my $t0 = time();
    # Seeded only now: the server's directory and ports stay random.
    srand($o{seed});
    my ($states, $samples) = flap($t, $t0, %o);
    my $end = time();
    my $r = SGBench::bench_stop($client);
    SGBench::stop($t);
    $t->set_mode('good');
    # All of them: the response fetched at the start is valid for a while.
    my @reqs = @{$t->requests};
    my $log = substr($t->error_log, $log0);
    $t->stop_responder;
    keep_raw(\%o, $t0, $states, \@reqs, $log);
    return analyse(\%o, $t0, $end, $states, $samples, \@reqs, $log, $r);
}

# Short responses and a fast retry: with the defaults (retry after a
# minute, at most after an hour) a 2-minute response would lapse before
# the first retry.
sub server_conf {
    my (%o) = @_;
    return <<"EOF";
StapleGuardRetryMin $o{retry_min}
StapleGuardRetryMax $o{retry_max}
StapleGuardResponderTimeout $o{responder_timeout}
EOF
}

# Switches the responder's mode until the soak's time is up; samples
# memory meanwhile. Returns the states ([start, name]) and the samples.
sub flap {
    my ($t, $t0, %o) = @_;
    my (@states, @samples);
    my @order;
    my $next_sample = $t0;
    while (time() - $t0 < $o{seconds}) {
        @order = (shuffle(@MODES[1 .. $#MODES]), $MODES[0]) unless @order;
        my $m = shift @order;
        $t->set_mode($m->[1]);
        push @states, [time(), $m->[0]];
        my $until = time() + $o{state_min}
                    + rand($o{state_max} - $o{state_min});
        $until = $t0 + $o{seconds} if $until > $t0 + $o{seconds};
        while (time() < $until) {
            if (time() >= $next_sample) {
                push @samples, { at => time() - $t0,
                                 %{SGBench::leak_sample($t)} };
                $next_sample += $SAMPLE_EVERY;
            }
            sleep(0.2);
        }
    }
    return (\@states, \@samples);
}

# What the verdicts are made from, beside the client's lines: the
# responder's modes and requests and the module's log, for a second look.
sub keep_raw {
    my ($o, $t0, $states, $reqs, $log) = @_;
    (my $base = $o->{out}) =~ s/-handshakes\.txt$//;
    SGTest->write_file("$base-error.log", $log);
    SGTest->write_file("$base-requests.txt",
                       join('', map { "@$_\n" } @$reqs));
    SGTest->write_file("$base-states.txt",
                       join('', map { "@$_\n" } [$t0, 'start'], @$states));
}

# When a valid response existed: from each good response handed out (plus
# the time to publish it) to its nextUpdate (the responder's clock, whole
# seconds: nextUpdate = its time + validity, never earlier).
sub valid_windows {
    my ($reqs, $validity) = @_;
    return [map { [$_->[0] + $PUBLISH_GRACE, floor($_->[0]) + $validity] }
            grep { $_->[2] =~ /^good/ } @$reqs];
}

sub in_any {
    my ($x, $windows) = @_;
    for my $w (@$windows) {
        return 1 if $x >= $w->[0] && $x < $w->[1];
    }
    return 0;
}

# Every handshake judged: a staple is bad if the client refused it or if
# it was handed out after its own nextUpdate (the client allows clock skew,
# the module must not); a handshake without one is a miss if a valid
# response existed then.
sub judge_handshakes {
    my ($lines, $windows) = @_;
    my %n = (handshakes => 0, valid => 0, bad => 0, stale => 0, missed => 0,
             none => 0, failed => 0);
    my @missed;
    for my $l (@$lines) {
        my ($at, $out, undef, $next) = @$l;
        $n{handshakes}++;
        if ($out eq 'valid_staple') {
            $n{valid}++;
            $n{stale}++ if $at >= $next + $SGBench::STALE_SLACK;
        } elsif ($out eq 'bad_staple') {
            $n{bad}++;
        } elsif ($out eq 'failed') {
            $n{failed}++;
        } else {
            $n{none}++;
            if (in_any($at, $windows)) {
                $n{missed}++;
                push @missed, $at;
            }
        }
    }
    $n{first_missed} = $missed[0];
    return \%n;
}

# The module's lines an operator reads (info and above), per state of the
# responder: bounded means about one per change, whatever the retries.
sub judge_log {
    my ($log, $states, $end) = @_;
    my @lines = grep { /$OPERATOR_LEVELS/ } split /\n/, $log;
    my @per_state = (0) x @$states;
    my $unplaced = 0;
    for my $line (@lines) {
        my $at = SGBench::log_time($line);
        my $i = $#$states;
        $i-- while $i >= 0 && defined $at && $at < $states->[$i][0];
        if ($i < 0) { $unplaced++ } else { $per_state[$i]++ }
    }
    my %by_id;
    $by_id{$_}++ for map { /\b(SG\d{4})\b/ ? $1 : () } @lines;
    my $max = 0;
    $_ > $max and $max = $_ for @per_state;
    return { lines => scalar @lines, before_first_state => $unplaced,
             max_per_state => $max, per_state => \@per_state,
             by_id => \%by_id };
}

sub analyse {
    my ($o, $t0, $end, $states, $samples, $reqs, $log, $client) = @_;
    my $windows = valid_windows($reqs, $o->{validity});
    my $hs = judge_handshakes(SGBench::outcomes($o->{out}), $windows);
    my $lg = judge_log($log, $states, $end);
    my %mode_seen = map { $_->[1] => 1 } @$states;
    my @x = map { $_->{at} / 3600 } @$samples;
    my $covered = 0;        # seconds in which a valid response existed
    my @w = sort { $a->[0] <=> $b->[0] } @$windows;
    my ($cs, $ce);
    for my $win (@w, [9e99, 9e99]) {
        my ($s, $e) = ($win->[0] < $t0 ? $t0 : $win->[0],
                       $win->[1] > $end ? $end : $win->[1]);
        if (defined $ce && $s <= $ce) { $ce = $e if $e > $ce; next }
        $covered += $ce - $cs if defined $ce && $ce > $cs;
        ($cs, $ce) = ($s, $e);
    }
    return {
        seconds => $end - $t0, %$o, out => undef,
        states => scalar @$states, cycles => @$states / @MODES,
        modes_seen => scalar keys %mode_seen,
        requests => scalar @$reqs,
        good_handed_out => scalar @$windows,
        valid_existed_s => $covered,
        handshakes => $hs, client => $client, log => $lg,
        samples => $samples,
        slope_per_hour => SGBench::slopes(\@x, $samples,
            qw(parent_rss_kb parent_fds child_rss_kb child_fds)),
        state_list => [map { [$_->[0] - $t0, $_->[1]] } @$states],
    };
}

1;
