#!/usr/bin/perl
# Scenario 6: a slow responder at a start and at a graceful restart that
# adds a certificate, as a user sees it: timed from the command, not from
# "ready" (httpd accepts connections while its parent is still in
# post_config, and serves none until it returns).
#
# For each configuration and each kind of certificate (ordinary, and
# Must-Staple), with the responder answering after 8 s:
#   cold:     empty store; `apache2 -k start`, and at once single handshakes
#             until one completes: when (since the command), how long it
#             took, whether it was stapled;
#   graceful: once that certificate is stapled, a second virtual host with
#             a new certificate of the same kind is added and `apache2 -k
#             graceful` sent; then the same, against the new host.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib", "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use SGBench;
use Time::HiRes qw(time sleep);

my $QUICK = $ENV{SG_BENCH_QUICK};
my $ROUNDS = 1;
my $DELAY = 8;                      # seconds the responder takes
my $FIRST_WAIT = 40;                # seconds to wait for a first handshake
my $STAPLE_WAIT = 30;               # ... and for the first staple
my $POLL = 0.01;                    # seconds between refused connections
my $NEW_HOST = 'revoked.localhost'; # a name every test certificate has
my %KIND = (plain => { cert => 'leaf', ext => 'leaf_ext' },
            ms => { cert => 'ms', ext => 'ms_ext' });

SGBench::progress("scenario 6: start and graceful restart, responder "
                  . "answering after $DELAY s");

# Single handshakes from $t0 on, until one completes. Returns [seconds
# since $t0, its latency in ms, stapled (1/0)], or [] if none did.
sub first_handshake {
    my ($t, $t0, $sni) = @_;
    while (time() - $t0 < $FIRST_WAIT) {
        my $r = SGBench::bench($t, count => 1, quiet => 1, sni => $sni);
        if ($r->{handshakes} && $r->{handshakes} > 0 && !$r->{failed}) {
            return [time() - $t0, $r->{p50_ms}, $r->{valid_staple} ? 1 : 0];
        }
        sleep($POLL);
    }
    return [];
}

sub wait_stapled {
    my ($t, $sni) = @_;
    my $t0 = time();
    while (time() - $t0 < $STAPLE_WAIT) {
        my $r = SGBench::bench($t, count => 1, quiet => 1, sni => $sni);
        return 1 if $r->{valid_staple};
        sleep(0.1);
    }
    return 0;
}

sub said {
    my ($h) = @_;
    return 'none' unless @$h;
    return sprintf('at %.2f s (%.0f ms, %s)', $h->[0], $h->[1],
                   $h->[2] ? 'stapled' : 'no staple');
}

# One cold start and one graceful restart adding a certificate.
sub cycle {
    my ($c, $kind, $round) = @_;
    my $k = $KIND{$kind};
    my $t = SGBench::server(config => $c,
                            vhosts => [{ name => 'localhost', cert => $k->{cert} }]);
    $t->start_responder(mode => "slow $DELAY");
    my %r;
    SGBench::clear_store($t);
    my $t0 = time();
    my ($rc, $out) = $t->apache('-k', 'start');
    die "apache2 -k start failed ($rc): $out" if $rc;
    $r{cold} = first_handshake($t, $t0, 'localhost');
    SGTest::wait_for(sub { $t->httpd_pid }, 10);
    $t->track_httpd;
    $r{cold_stapled_later} = $c eq 'none' ? undef : wait_stapled($t, 'localhost');

    my $name = "added-$kind-$round";
    $t->issue_cert($name, ext => $k->{ext});
    SGBench::set_vhosts($t, [{ name => 'localhost', cert => $k->{cert} },
                             { name => $NEW_HOST, cert => $name }]);
    $t0 = time();
    ($rc, $out) = $t->apache('-k', 'graceful');
    die "apache2 -k graceful failed ($rc): $out" if $rc;
    $r{graceful} = first_handshake($t, $t0, $NEW_HOST);
    $r{graceful_old_host} = first_handshake($t, time(), 'localhost');
    SGBench::stop($t);
    $t->stop_responder;
    SGBench::progress(sprintf("%-7s %-5s cold: first handshake %s; "
        . "graceful: %s", $c, $kind, said($r{cold}), said($r{graceful})));
    return \%r;
}

my %runs;
for my $round (1 .. $ROUNDS) {
    for my $kind (qw(plain ms)) {
        for my $c (SGBench::rotated($round, @SGBench::CONFIGS)) {
            push @{$runs{$c}{$kind}}, cycle($c, $kind, $round);
        }
    }
}

my %summary;
for my $c (@SGBench::CONFIGS) {
    for my $kind (qw(plain ms)) {
        my @r = @{$runs{$c}{$kind}};
        my %s;
        for my $when (qw(cold graceful)) {
            my @ok = grep { @{$_->{$when}} } @r;
            $s{"${when}_first_s"} = SGBench::median(map { $_->{$when}[0] } @ok);
            $s{"${when}_first_ms"} = SGBench::median(map { $_->{$when}[1] } @ok);
            $s{"${when}_stapled"} = scalar grep { $_->{$when}[2] } @ok;
            $s{"${when}_none"} = @r - @ok;
        }
        $s{rounds} = scalar @r;
        $summary{$c}{$kind} = \%s;
    }
}
SGBench::save('s6_slow_start', {
    rounds => $ROUNDS, delay_s => $DELAY, runs => \%runs,
    summary => \%summary,
});
