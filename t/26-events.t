#!/usr/bin/perl
# StapleGuardEventCommand: a real program run by the fetcher on a
# certificate's changes of state (failing, expired, recovered, revoked,
# at-risk for Must-Staple) with its arguments; at most once per
# certificate and event per StapleGuardEventInterval; a program that hangs
# is killed after StapleGuardEventTimeout (SG0061) while the fetcher goes
# on refreshing; one that exits non-zero is logged (SG0062). A program
# starts with every signal unblocked and at its default action, reads
# /dev/null, runs in a process group of its own, and at the timeout the
# whole group is stopped (SIGTERM, which a `trap` sees; SIGKILL for what
# is left), within a second even while the fetcher is in a long batch.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;
use Time::HiRes qw(time);

# Responses valid 6 s: refreshed after ~3 s, expired after 6 s.
my $VALIDITY = 6;

# A program that appends its arguments, one run a line, to $out; the
# fetcher runs it as the server's User (nobody), so both are open to it.
sub event_script {
    my ($t, $name, $body) = @_;
    my $out = $t->write_file("$name.out", '');
    chmod 0666, $out;
    # One write per run (O_APPEND): two programs run at once, and a line
    # written in two parts could be split by the other's.
    my $sh = $t->write_file("$name.sh", "#!/bin/sh\n"
                            . "line=\$(printf '%s|' \"\$@\")\n"
                            . "printf '%s\\n' \"\$line\" >> $out\n"
                            . ($body // ''));
    chmod 0755, $sh;
    return ($sh, $out);
}

# The runs so far: [event, id, subject, reason id, next attempt].
sub runs {
    my ($out) = @_;
    return [map { [split /\|/] } grep { /\S/ } split /\n/,
            SGTest::slurp($out)];
}

sub runs_of {
    my ($out, $event, $id) = @_;
    return scalar grep { $_->[0] eq $event && $_->[1] eq $id } @{runs($out)};
}

sub conf {
    my ($t, $sh, $more) = @_;
    $t->write_conf(global => <<"EOF",
StapleGuardRetryMin 1
StapleGuardRetryMax 2
StapleGuardEventCommand $sh
$more
EOF
        vhosts => [
            { name => 'localhost', cert => 'leaf' },
            { name => 'must-staple.localhost', cert => 'ms' },
        ]);
}

# ---- the events, their arguments, the rate limit ----
{
    my $t = SGTest->new;
    my ($sh, $out) = event_script($t, 'events');
    my $leaf = unpack('H*', $t->cert_hash('leaf'));
    my $ms = unpack('H*', $t->cert_hash('ms'));
    $t->start_responder(mode => 'good', validity => $VALIDITY);
    conf($t, $sh, "StapleGuardEventInterval 300\nStapleGuardEventTimeout 5");
    $t->start_httpd;
    is(scalar @{runs($out)}, 0, 'a first response after the start is no event');

    $t->set_mode('garbage');
    ok(SGTest::wait_for(sub { runs_of($out, 'failing', $leaf) }, 8),
       'good -> failing runs the program');
    my ($run) = grep { $_->[0] eq 'failing' && $_->[1] eq $leaf } @{runs($out)};
    is($run->[2], 'CN=localhost', '... with the subject');
    like($run->[3], qr/^SG01\d\d$/, '... the reason id');
    like($run->[4], qr/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
         '... and the next attempt, ISO 8601 UTC');
    ok(SGTest::wait_for(sub { runs_of($out, 'at-risk', $ms) }, 4),
       'at-risk for the Must-Staple certificate');
    is(runs_of($out, 'at-risk', $leaf), 0, '... and only for it');
    ok(SGTest::wait_for(sub { runs_of($out, 'expired', $leaf) }, 8),
       'the held response runs out: expired');

    $t->set_mode('good');
    ok(SGTest::wait_for(sub { runs_of($out, 'recovered', $leaf) }, 5),
       'expired -> good: recovered');
    $t->set_mode('revoked');
    ok(SGTest::wait_for(sub { runs_of($out, 'revoked', $leaf) }, 8),
       'good -> revoked: revoked');

    # Again good, then failing and good again: within the interval, the
    # program does not run a second time for the same event.
    $t->set_mode('good');
    my $seen = () = $t->error_log =~ /SG0020: CN=localhost: good/g;
    ok(SGTest::wait_for(sub {
        (() = $t->error_log =~ /SG0020: CN=localhost: good/g) > $seen }, 8),
       'good again');
    $t->set_mode('garbage');
    my $failed = () = $t->error_log =~ /CN=localhost: http\S+: .*attempt 1,/g;
    ok(SGTest::wait_for(sub {
        (() = $t->error_log =~ /CN=localhost: http\S+: .*attempt 1,/g) > $failed }, 8),
       'failing a second time');
    $t->set_mode('good');
    $seen = () = $t->error_log =~ /SG0020: CN=localhost: good/g;
    ok(SGTest::wait_for(sub {
        (() = $t->error_log =~ /SG0020: CN=localhost: good/g) > $seen }, 5),
       'and good again');
    sleep 1;    # a look of the fetcher for the last events
    is(runs_of($out, 'failing', $leaf), 1,
       'failing ran once within StapleGuardEventInterval');
    is(runs_of($out, 'recovered', $leaf), 1, 'recovered, too');
    unlike($t->error_log, qr/SG006[12]/, 'no program failed');
    $t->stop_httpd;
    $t->stop_responder;
}

# ---- a program that hangs, one that fails ----
{
    my $t = SGTest->new;
    my ($sh, $out) = event_script($t, 'hang', <<'EOF');
case "$1" in
failing) exec sleep 30 ;;
recovered) exit 3 ;;
esac
EOF
    my $leaf = unpack('H*', $t->cert_hash('leaf'));
    $t->start_responder(mode => 'good', validity => $VALIDITY);
    conf($t, $sh, "StapleGuardEventInterval 0\nStapleGuardEventTimeout 1");
    $t->start_httpd;
    $t->set_mode('garbage');
    ok(SGTest::wait_for(sub { runs_of($out, 'failing', $leaf) }, 8),
       'the hanging program started');
    my $n = scalar @{$t->requests};
    my $killed = qr/SG0061: StapleGuardEventCommand \S+hang\.sh for failing CN=localhost ran past StapleGuardEventTimeout \(1 s\) and was killed with its process group \(pid (\d+), SIGTERM\)/;
    ok(SGTest::wait_for(sub { $t->error_log =~ $killed }, 4),
       'killed after StapleGuardEventTimeout (SG0061), naming the program, '
       . 'the event and the certificate');
    my ($pid) = $t->error_log =~ $killed;
    ok($pid && !kill(0, $pid), 'the program is gone');
    ok(SGTest::wait_for(sub { @{$t->requests} > $n + 1 }, 5),
       'the fetcher went on asking the responder meanwhile');
    $t->set_mode('good');
    ok(SGTest::wait_for(sub { $t->error_log =~ /SG0062: / }, 8),
       'a program that exits non-zero: SG0062');
    # Both certificates recover; SG0062 is said once per interval, for
    # whichever program ended first.
    like($t->error_log, qr/SG0062: .*for recovered CN=\S+ exited with status 3/,
         '... with its status');
    # Reaping waits for each program by its own pid: no status lost
    # (ECHILD) or said of another run (once seen when the table of running
    # programs lived in a pool mod_watchdog clears).
    my @said = $t->error_log =~ /(SG006[12]: .*)/g;
    is_deeply([grep { !/ for (?:failing|recovered) CN=\S+ (?:ran|exited)/ } @said],
              [], 'every SG0061/SG0062 line names its run');
    is($t->curl_status, 0, 'and stapling goes on');
}

# ---- the program's surroundings; its group stopped during a long batch ----
# localhost's responder refuses connections: its first attempt fails at
# once ("failing"), inside the first round's batch, which also holds
# slow.localhost's fetch from a responder that accepts and never answers
# (StapleGuardResponderTimeout 20). The program looks at what it got,
# starts two children (one ignores SIGTERM) and hangs past the timeout.
sub running {       # a process, not yet gone (a zombie counts as gone)
    my ($pid) = @_;
    my $stat = SGTest::slurp("/proc/$pid/stat");
    return $stat =~ /^\d+ \(.*\) (\S)/s && $1 ne 'Z';
}
sub pgid_of { SGTest::slurp("/proc/$_[0]/stat") =~ /^\d+ \(.*\) \S (\d+) (\d+)/s ? $2 : -1 }
{
    my $t = SGTest->new;
    $t->issue_cert('slow', cn => 'slow.localhost');
    my $env = $t->write_file('group.env', '');
    chmod 0666, $env;
    my ($sh, $out) = event_script($t, 'group', <<"EOF");
[ "\$1" = failing ] && [ "\$3" = CN=localhost ] || exit 0
{
    # first, and with builtins only: a shell that waits for a child has
    # its signals blocked for the while (dash), so /proc then shows that
    while read -r k v; do
        case "\$k" in SigBlk:|SigIgn:) echo "\$k \$v" ;; esac
    done < /proc/\$\$/status
    echo "pid \$\$"
    echo "pgid \$(ps -o pgid= -p \$\$ | tr -d ' ')"
    echo "stdin \$(readlink /proc/self/fd/0)"
    if read x; then echo "read data"; else echo "read eof"; fi
    timeout 1 sleep 5; echo "timeout \$?"
    trap 'echo trapped >> $env; exit 0' TERM
    sleep 300 & echo "child \$!"
    (trap '' TERM; exec sleep 300) & echo "stubborn \$!"
} >> $env
echo ready >> $env
sleep 300
echo "not stopped" >> $env
EOF
    $t->start_responder(mode => 'hang 60');
    $t->write_conf(global => <<"EOF",
StapleGuardResponderTimeout 20
StapleGuardEventCommand $sh
StapleGuardEventTimeout 3
StapleGuardEventInterval 300
EOF
        vhosts => [
            { name => 'localhost', cert => 'leaf',
              extra => "    StapleGuardResponderURL http://127.0.0.1:9/refused\n" },
            { name => 'slow.localhost', cert => 'slow' },
        ]);
    $t->start_httpd(no_fetch_wait => 1);
    ok(SGTest::wait_for(sub { SGTest::slurp($env) =~ /^ready$/m }, 15),
       'the program ran for the first failure');
    my %got = SGTest::slurp($env) =~ /^(\w+):?\s+(.*?)\s*$/mg;
    my $pid = $got{pid} // 0;
    is($got{SigBlk}, '0' x 16, 'no signal blocked');
    # but for 32 and 33, glibc's own (posix_spawn leaves them ignored; a
    # program's libc sets its handlers for them as it starts)
    like($got{SigIgn} // '', qr/^0{7}[01][08]0{7}$/, 'no signal ignored');
    is($got{stdin}, '/dev/null', 'standard input is /dev/null');
    is($got{read}, 'eof', '... and reads as empty');
    is($got{timeout}, 124, '`timeout` inside the program works');
    is($got{pgid}, $pid, 'the program leads a process group of its own');
    isnt($got{pgid}, pgid_of($t->httpd_pid), "... not httpd's");
    ok(running($got{child}) && running($got{stubborn}),
       'its children run');
    my $killed = qr/SG0061: StapleGuardEventCommand \S+group\.sh for failing CN=localhost ran past StapleGuardEventTimeout \(3 s\) and was killed with its process group \(pid $pid, SIGTERM\)/;
    ok(SGTest::wait_for(sub { $t->error_log =~ $killed }, 8),
       'stopped after StapleGuardEventTimeout (SG0061)');
    my $log = $t->error_log;
    unlike($log, qr/SG0041: /, '... while the first batch of fetches still runs');
    like(SGTest::slurp($env), qr/^trapped$/m, 'its `trap` on TERM ran');
    unlike(SGTest::slurp($env), qr/not stopped/, 'it did not go on');
    ok(SGTest::wait_for(sub { !running($got{child}) && !running($got{stubborn}) }, 2),
       'both children are gone, also the one that ignores SIGTERM');
    ok(!running($pid), 'and so is the program');
    # The hanging answer ends with the responder: the batch ends now.
    $t->stop_responder;
    ok(SGTest::wait_for(sub { $t->error_log =~ /SG0041: / }, 10),
       'the batch ended only then');
    $t->stop_httpd;
}

done_testing;
