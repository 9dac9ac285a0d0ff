# SGBenchStorm: restarts and killed fetchers under load, for as many as
# asked (bench/s9_storm.pl: 200 graceful and 20 full restarts, 50 kills;
# t/32-storm-short.t: a few of each).
#
# restarts(): the responder down, a client doing full handshakes on two
# connections while httpd is restarted again and again: every completed
# handshake must carry a valid staple (from the responses carried over a
# graceful restart, or from the store after a full one), and the RSS and
# file descriptors of the parent and its children, read after each
# restart, must not grow with the restarts.
#
# kills(): the responder up but slow (1 s an answer) and the response
# short-lived, so that the fetcher refreshes every few seconds; the child
# that runs it is killed with SIGKILL in the middle of a refresh (the
# responder has the request, the fetcher waits for the answer), again and
# again, under the same load. After each kill: every store file sound
# (`staple-guard show`), and another child's fetcher started (its SG0041
# line; the time from the kill to it is reported). mod_watchdog gives a
# singleton to a waiting child only after 10 more seconds (wd_worker: it
# sleeps ten AP_WD_TM_INTERVALs after a lock it had to wait for, in case
# httpd is shutting down), so the response must outlive that.
package SGBenchStorm;

use strict;
use warnings;

use Time::HiRes qw(time sleep);

use SGTest;
use SGBench;

my $LOGLEVEL = 'info ssl:warn staple_guard:debug';  # SG0041 names the fetcher
my $STAPLE_WAIT = 30;
my $RESUME_WAIT = 30;       # seconds a new fetcher may take, at most
my $FETCH_WAIT = 15;        # seconds to wait for the next refresh
my $RESPONDER_DELAY = 1;    # seconds the responder takes to answer
my $MID_FETCH = 0.4;        # seconds into that answer the fetcher is killed
my $LOAD_CONC = 2;
my $LOAD_LONGEST = 36000;   # the client runs until stopped
my $WARMUP = 1;             # seconds of load before the first restart

# Options: graceful, full (how many of each), settle (seconds after a
# restart before reading /proc: the event MPM starts the new children on
# its once-a-second maintenance tick), out (a file for the client's lines).
sub restarts {
    my (%o) = @_;
    my $t = SGBench::server(config => 'sg', loglevel => $LOGLEVEL);
    $t->start_responder(mode => 'good');
    SGBench::start($t);
    SGBench::wait_stapled($t, $STAPLE_WAIT) // die "no staple at the start\n";
    $t->stop_responder;
    my $client = SGBench::bench_start($t, conc => $LOAD_CONC,
        duration => $LOAD_LONGEST, label => 'storm', outcomes => $o{out});
    sleep($WARMUP);
    my $t0 = time();
    my $graceful = restart_series($t, $o{graceful}, $o{settle},
                                  sub { SGBench::graceful($t) });
    my $t1 = time();
    my $full = restart_series($t, $o{full}, $o{settle}, sub {
        SGBench::stop($t);
        return SGBench::start($t);
    });
    my $t2 = time();
    my $r = SGBench::bench_stop($client);
    SGBench::stop($t);
    my $lines = SGBench::outcomes($o{out});
    return {
        %o, out => undef, client => $r,
        store => store_check($t),
        graceful => series_result($graceful, $lines, $t0, $t1),
        full => series_result($full, $lines, $t1, $t2),
        all => count_outcomes($lines, 0, 9e99),
    };
}

# The same graceful restarts under the same load without the module: what
# httpd's own memory and descriptors do, to hold the module's slopes
# against.
sub control {
    my (%o) = @_;
    my $t = SGBench::server(config => 'none');
    SGBench::start($t);
    my $client = SGBench::bench_start($t, conc => $LOAD_CONC,
        duration => $LOAD_LONGEST, label => 'control');
    sleep($WARMUP);
    my $g = restart_series($t, $o{graceful}, $o{settle},
                           sub { SGBench::graceful($t) });
    my $r = SGBench::bench_stop($client);
    SGBench::stop($t);
    my @x = map { $_->{n} } @$g;
    return {
        restarts => scalar @$g, client => $r,
        slope_per_restart => SGBench::slopes(\@x, $g,
            qw(parent_rss_kb parent_fds child_rss_kb child_fds)),
        first => $g->[0], last => $g->[-1], samples => $g,
    };
}

# $n restarts by $how, each followed by a /proc sample.
sub restart_series {
    my ($t, $n, $settle, $how) = @_;
    my @s;
    for my $i (1 .. $n) {
        my $ready = $how->();
        sleep($settle);
        push @s, { n => $i, ready_s => $ready, %{SGBench::leak_sample($t)} };
        SGBench::progress("$i of $n restarts") if $i % 50 == 0;
    }
    return \@s;
}

sub series_result {
    my ($samples, $lines, $from, $to) = @_;
    my @x = map { $_->{n} } @$samples;
    return {
        restarts => scalar @$samples,
        seconds => $to - $from,
        ready_s => SGBench::median(map { $_->{ready_s} } @$samples),
        handshakes => count_outcomes($lines, $from, $to),
        slope_per_restart => SGBench::slopes(\@x, $samples,
            qw(parent_rss_kb parent_fds child_rss_kb child_fds)),
        first => $samples->[0], last => $samples->[-1],
        samples => $samples,
    };
}

# The client's outcomes between two times, and the share of completed
# handshakes that carried a valid staple (one given after its own
# nextUpdate counts as bad: the client allows clock skew, the module must
# not).
sub count_outcomes {
    my ($lines, $from, $to) = @_;
    my %n = map { $_ => 0 } qw(valid_staple no_staple bad_staple failed stale);
    for my $l (grep { $_->[0] >= $from && $_->[0] < $to } @$lines) {
        $n{$l->[1]}++;
        $n{stale}++ if $l->[1] eq 'valid_staple'
                       && $l->[0] >= $l->[3] + $SGBench::STALE_SLACK;
    }
    my $done = $n{valid_staple} + $n{no_staple} + $n{bad_staple};
    $n{completed} = $done;
    @n{qw(gaps gap_s gap_s_max)} = gaps($lines, $from, $to);
    $n{valid_pct} = $done ? 100 * ($n{valid_staple} - $n{stale}) / $done
                          : undef;
    return \%n;
}

# Spells without service: from the first failed handshake after a
# completed one to the next completed one (a stopped server refuses
# connections as fast as the client can make them: their number says
# little, the time they cover says how long nobody was served). Returns
# the number of spells, their total and the longest, in seconds.
sub gaps {
    my ($lines, $from, $to) = @_;
    my ($n, $total, $max, $since) = (0, 0, 0);
    for my $l (grep { $_->[0] >= $from && $_->[0] < $to } @$lines) {
        if ($l->[1] eq 'failed') {
            $since //= $l->[0];
        } elsif (defined $since) {
            my $g = $l->[0] - $since;
            ($n, $total, $since) = ($n + 1, $total + $g, undef);
            $max = $g if $g > $max;
        }
    }
    return ($n, $total, $max);
}

# Every store file decoded by the command (exit 0: the format is sound);
# and temporary files left over.
sub store_check {
    my ($t) = @_;
    my $dir = $t->dir . '/sg-store';
    my @files = glob("$dir/*.ocsp");
    my @bad = grep { ($t->cli('show', $_))[0] != 0 } @files;
    my @tmp = grep { /\.tmp\./ } glob("$dir/*");
    return { files => scalar @files, damaged => scalar @bad,
             temporary => scalar @tmp };
}

# The child that runs the fetcher: the last SG0041 line says which.
sub fetcher_line {
    my ($log) = @_;
    my @l = $log =~ /^(.*\[pid (\d+):tid \d+\] .*?SG0041: .*)$/mg;
    return @l ? ($l[-2], $l[-1]) : ();
}

# Options: kills, validity (of each response: short, so that refreshes
# happen all the time, but longer than a fetcher's move), out.
sub kills {
    my (%o) = @_;
    my $t = SGBench::server(config => 'sg', loglevel => $LOGLEVEL,
                            global => "StapleGuardRefreshAt 10\n"
                                      . "StapleGuardRetryMin 1\n"
                                      . "StapleGuardRetryMax 2\n");
    $t->start_responder(mode => "slow $RESPONDER_DELAY",
                        validity => $o{validity});
    SGBench::start($t);
    SGTest::wait_for(sub { fetcher_line($t->error_log) }, $STAPLE_WAIT)
        or die "no fetcher started\n" . $t->error_log;
    SGBench::wait_stapled($t, $STAPLE_WAIT) // die "no staple at the start\n";
    my $req0 = SGBench::requests($t);
    my $client = SGBench::bench_start($t, conc => $LOAD_CONC,
        duration => $LOAD_LONGEST, label => 'kills', outcomes => $o{out});
    sleep($WARMUP);
    my $t0 = time();
    my @k;
    for my $i (1 .. $o{kills}) {
        my $n = SGBench::requests($t);
        my $mid = SGTest::wait_for(sub { SGBench::requests($t) > $n },
                                   $FETCH_WAIT);
        sleep($MID_FETCH);
        push @k, { n => $i, mid_fetch => $mid, %{kill_fetcher($t)},
                   %{SGBench::leak_sample($t)} };
        SGBench::progress("$i of $o{kills} kills") if $i % 10 == 0;
    }
    my $t1 = time();
    my $r = SGBench::bench_stop($client);
    my $refreshes = SGBench::requests($t) - $req0;
    SGBench::stop($t);
    $t->stop_responder;
    my @x = map { $_->{n} } @k;
    my @resume = grep { defined } map { $_->{resume_s} } @k;
    return {
        %o, out => undef, client => $r, kills_done => scalar @k,
        requests => $refreshes, seconds => $t1 - $t0,
        resumed => scalar @resume,
        resume_s_median => SGBench::median(@resume),
        resume_s_max => (SGBench::minmax(@resume))[1],
        takeover_s_max => (SGBench::minmax(grep { defined }
                                           map { $_->{takeover_s} } @k))[1],
        damaged_after_kills => scalar(grep { $_->{store}{damaged} } @k),
        mid_fetch => scalar(grep { $_->{mid_fetch} } @k),
        store => store_check($t),
        handshakes => count_outcomes(SGBench::outcomes($o{out}), 0, 9e99),
        slope_per_kill => SGBench::slopes(\@x, \@k,
            qw(parent_rss_kb parent_fds child_rss_kb child_fds)),
        first => $k[0], last => $k[-1], samples => \@k,
    };
}

# SIGKILL to the fetcher's child; then: when did another child's fetcher
# start (seconds, from the kill to its SG0041 line's own timestamp; less
# its first round: when it took over), and is the store sound?
sub kill_fetcher {
    my ($t) = @_;
    my ($line, $pid) = fetcher_line($t->error_log);
    my $parent = $t->httpd_pid;
    my %r = (fetcher_pid => $pid);
    if (!grep { $_ == $pid } SGBench::children_of($parent)) {
        $r{fetcher_gone} = 1;       # not a child now: nothing to kill
        return \%r;
    }
    my $before = length($t->error_log);
    my $at = time();
    kill('KILL', $pid);
    my $next;
    SGTest::wait_for(sub {
        my ($l, $p) = fetcher_line(substr($t->error_log, $before));
        $next = $l if defined $p && $p != $pid;
        return defined $next;
    }, $RESUME_WAIT);
    if ($next) {
        ($r{new_pid}) = $next =~ /\[pid (\d+):/;
        $r{resume_s} = SGBench::log_time($next) - $at;
        # SG0041 is logged after the first round, whose length it gives.
        $r{takeover_s} = $r{resume_s} - $1 / 1000
            if $next =~ /first round: \d+ fetched in (\d+) ms/;
    }
    $r{store} = store_check($t);
    return \%r;
}

1;
