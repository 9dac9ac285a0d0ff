#!/usr/bin/perl
# Graceful restarts keep the held response: with the responder down, every
# handshake after every restart is stapled, and restarts ask it nothing.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;

my $restarts = 20;
my $t = SGTest->new;
$t->start_responder(mode => 'good');
$t->write_conf(vhosts => [
    { name => 'localhost', cert => 'leaf' },
    { name => 'must-staple.localhost', cert => 'ms' },
]);
$t->start_httpd;
ok($t->s_client->{stapled}, 'stapled after start');
my $asked = scalar @{$t->requests};
is($asked, 2, 'one request per certificate at startup');

$t->stop_responder;
my ($stapled, $curl_ok) = (0, 0);
for my $i (1 .. $restarts) {
    $t->graceful;
    my $r = $t->s_client;
    $stapled++ if $r->{stapled} && ($r->{cert_status} // '') eq 'good';
    my $m = $t->s_client(servername => 'must-staple.localhost');
    $stapled++ if $m->{stapled} && ($m->{cert_status} // '') eq 'good';
    $curl_ok++ if $t->curl_status == 0;
}
is($stapled, 2 * $restarts,
   "$restarts graceful restarts, responder down: every handshake stapled");
is($curl_ok, $restarts, 'curl --cert-status accepted every one');
# The responder is down, so its log cannot grow: count the module's own
# attempts instead (each one is logged, at debug when nothing changed).
unlike($t->error_log, qr/SG010[2-4]/, 'the restarts made no attempt to fetch');
like($t->error_log, qr/SG0023: CN=localhost: response from carried kept/,
     'the response was carried over, validated again');
$t->stop_httpd;
done_testing;
