#!/usr/bin/perl
# The prefork and worker MPMs as well as event: stapling, the singleton
# fetcher's refreshes, graceful and full restarts.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;
use JSON::PP;

my $t = SGTest->new;
# Short-lived responses, refreshed about every second by the fetcher.
$t->start_responder(mode => 'good', validity => 8);

# The leaf's line of the status page's JSON.
sub status {
    my ($code, $body) = $t->https_get('/sg-status?json');
    my $j = $code == 200 ? eval { decode_json($body) } : undef;
    my ($leaf) = grep { $_->{subject} eq 'CN=localhost' }
                 @{$j->{certificates} // []};
    return $leaf // {};
}

# Stapled for both clients, and refreshed by exactly one fetcher (that
# started since the error log was $log_before long).
sub check {
    my ($what, $log_before) = @_;
    my $r = $t->s_client;
    ok($r->{stapled} && ($r->{cert_status} // '') eq 'good',
       "$what: stapled, good");
    is($t->curl_status, 0, "$what: curl --cert-status accepts it");
    my $asked = scalar @{$t->requests};
    my $first = status()->{last_attempt} // '';
    ok(SGTest::wait_for(sub { @{$t->requests} > $asked }, 8),
       "$what: the fetcher refreshes (the responder is asked again)");
    ok(SGTest::wait_for(sub { (status()->{last_attempt} // '') ne $first }, 3),
       "$what: the status page shows a later attempt");
    my $log = substr($t->error_log, $log_before);
    my @started = ($log =~ /SG0041/g);
    is(scalar @started, 1, "$what: one fetcher for the server")
        or diag(join "\n", grep { /SG0041|AH0005|exit signal/ } split /\n/, $log);
    $r = $t->s_client;
    ok($r->{stapled} && ($r->{cert_status} // '') eq 'good',
       "$what: still stapled after the refreshes");
}

for my $mpm (qw(prefork worker event)) {
    $t->write_conf(mpm => $mpm, global => <<'EOF');
StapleGuardStoreDir none
StapleGuardRefreshAt 10
StapleGuardRetryMin 1
<Location "/sg-status">
    SetHandler staple-guard-status
    Require ip 127.0.0.1
</Location>
EOF
    my $f = length $t->error_log;
    $t->start_httpd;
    like($t->error_log, qr/\[mpm_$mpm:notice\][^\n]*resuming normal operations/,
         "$mpm: httpd runs the $mpm MPM");
    check("$mpm, start", $f);
    $f = length $t->error_log;
    $t->graceful;
    check("$mpm, graceful restart", $f);
    # Counted from the new start: while httpd stops, a child just forked
    # may take the lock the fetcher's child let go and start a fetcher of
    # its own before its own stop reaches it (one after the other, never
    # side by side).
    $t->stop_httpd;
    $f = length $t->error_log;
    $t->start_httpd;
    check("$mpm, full restart", $f);
    $t->stop_httpd;
}
done_testing;
