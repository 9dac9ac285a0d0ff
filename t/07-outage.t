#!/usr/bin/perl
# After a good response, the responder turns bad (unauthorized, then
# tryLater, then hangs): the good response is stapled until its nextUpdate
# and not a moment after; when the responder recovers, a new response
# arrives within the backoff bound.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;
use Time::HiRes qw(time sleep);

my $validity = 24;      # seconds: short, so that the test is quick
my $retry_max = 3;
my $t = SGTest->new;
$t->start_responder(mode => 'good', validity => $validity);
$t->write_conf(global => <<"EOF");
StapleGuardRetryMin 1
StapleGuardRetryMax $retry_max
StapleGuardResponderTimeout 2
StapleGuardRefreshAt 10
StapleGuardWarnBefore 20
EOF
$t->start_httpd;
my $first = $t->s_client;
ok($first->{stapled}, 'stapled');
my $this_update = ($first->{out} =~ /This Update: (.+)/)[0];
my $t_fetch = time();

my $kept = 1;
for my $mode ('status 6', 'status 3', 'hang') {
    $t->set_mode($mode);
    my $end = time() + $validity / 4;
    while (time() < $end) {
        my $r = $t->s_client;
        my $tu = ($r->{out} =~ /This Update: (.+)/)[0] // '';
        $kept &&= $r->{stapled} && $tu eq $this_update;
        sleep 0.5;
    }
}
ok($kept, 'the good response was stapled all through unauthorized, '
          . 'tryLater and a hanging responder');
my @fails = ($t->error_log =~ /staple_guard:warn.*(SG011[35]|SG0104)/g);
ok(scalar(@fails) >= 3, "each kind of failure was logged once it began (@fails)");

my @warn = ($t->error_log =~ /(SG0025: CN=localhost: the held response expires in \d+ s)/g);
is(scalar @warn, 1, 'one warning that the held response runs out (SG0025)');

# Past nextUpdate: no staple at all, and an error line.
my $wait = $t_fetch + $validity + 1.5 - time();
sleep $wait if $wait > 0;
my $r = $t->s_client;
ok($r->{handshake} && !$r->{stapled}, 'past nextUpdate: no staple');
isnt($t->curl_status, 0, 'and curl sees none');
ok(SGTest::wait_for(sub { $t->error_log =~ /SG0022: CN=localhost: the held response passed its nextUpdate/ }, 5),
   'the expiry is logged (SG0022)');

# Recovery: within the backoff bound (RetryMax + jitter + a hung fetch).
$t->set_mode('good');
my $t0 = time();
ok(SGTest::wait_for(sub { $t->s_client->{stapled} }, 20), 'the responder recovers: stapled again');
my $took = time() - $t0;
ok($took <= $retry_max * 1.25 + 2 + 2, sprintf('within the backoff bound (%.1f s)', $took));
like($t->error_log, qr/SG0020: CN=localhost: good response/, 'the recovery is logged');
$t->stop_httpd;
done_testing;
