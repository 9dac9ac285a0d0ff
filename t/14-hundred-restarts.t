#!/usr/bin/perl
# The promise in one test: load the module, configure nothing, restart
# httpd 100 times (graceful and full, mixed) while the CA is down: a valid
# staple on every handshake, and not one request to the responder.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;

my $restarts = 100;
my $t = SGTest->new;
$t->start_responder(mode => 'good');
# LoadModule and the SSL virtual host; no module directive. Two children
# of 25 threads, and no more: see the full stops below.
$t->write_conf(global => "MinSpareThreads 25\nMaxSpareThreads 75\n");
$t->start_httpd;
ok($t->s_client->{stapled}, 'stapled after the first start');
$t->stop_responder;

my ($stapled, $curl_ok, $curl_runs) = (0, 0, 0);
for my $i (1 .. $restarts) {
    if ($i % 4 == 0) {
        # a full stop and start every fourth time, once the children are
        # up (SGTest::settle_children says why)
        $t->settle_children(2) or diag('children still starting at the stop');
        $t->stop_httpd;
        $t->start_httpd;
    }
    else {
        $t->graceful;
    }
    my $r = $t->s_client;
    $stapled++ if $r->{stapled} && ($r->{cert_status} // '') eq 'good';
    if ($i % 10 == 0) {
        $curl_runs++;
        $curl_ok++ if $t->curl_status == 0;
    }
}
is($stapled, $restarts, "$restarts restarts with the CA down: a good staple after every one");
is($curl_ok, $curl_runs, 'curl --cert-status accepted every one it checked');
# The responder is down, so its log cannot grow: count the module's own
# attempts instead (each one is logged, at debug when nothing changed).
unlike($t->error_log, qr/SG010[2-4]/, 'not one attempt to reach the responder');
# AH00051 when the child left a core, AH00052 when not
unlike($t->error_log, qr/AH0005[12]|Segmentation/, 'no child crashed');
$t->stop_httpd;
done_testing;
