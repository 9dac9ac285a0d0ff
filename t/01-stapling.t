#!/usr/bin/perl
# The core promise: with the module loaded, every handshake that asks for a
# staple gets a verified, current response, from memory, with `openssl ocsp`
# as the CA's responder and real clients checking.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;

my $t = SGTest->new;
$t->start_openssl_ocsp;
$t->write_conf(vhosts => [
    # the same responder by another name: a configured URL beats the
    # certificate's own
    { name => 'localhost', cert => 'leaf',
      extra => 'StapleGuardResponderURL http://localhost:' . $t->rport . '/' },
    { name => 'must-staple.localhost', cert => 'ms' },
    { name => 'no-ocsp.localhost', cert => 'noocsp' },
    { name => 'revoked.localhost', cert => 'revoked' },
    # the same certificate again: one entry, one fetch; its other
    # configured responder comes later in the file, so it loses, and that
    # is reported
    { name => 'alias.localhost', cert => 'leaf',
      extra => 'StapleGuardResponderURL http://127.0.0.1:9/other' },
    # and once more where the module is off
    { name => 'off.localhost', cert => 'leaf', extra => 'StapleGuard Off' },
]);
my ($rc, $out) = $t->apache('-t');
is($rc, 0, 'apache2 -t accepts the configuration') or diag($out);
$t->start_httpd;

my $r = $t->s_client;
ok($r->{stapled}, 'a staple on the first handshake after start');
is($r->{cert_status}, 'good', 'the staple says good');
ok($r->{next_update}, 'the staple has a nextUpdate');
is($t->curl_status, 0, 'curl --cert-status accepts the staple');

$r = $t->s_client(servername => 'must-staple.localhost');
ok($r->{stapled} && ($r->{cert_status} // '') eq 'good',
   'the Must-Staple certificate is stapled');
is($t->curl_status(servername => 'must-staple.localhost'), 0,
   'curl accepts the Must-Staple certificate\'s staple');

$r = $t->s_client(servername => 'no-ocsp.localhost');
ok($r->{handshake} && $r->{none},
   'a certificate without OCSP URL: handshake fine, no staple');

$r = $t->s_client(servername => 'revoked.localhost');
is($r->{cert_status}, 'revoked', 'a revoked certificate is stapled as revoked');

my $log = $t->error_log;
like($log, qr/SG0010: CN=no-ocsp\.localhost: no staple: no-revocation-info: /,
     'the certificate without OCSP URL is logged once at info');
my @noocsp = ($log =~ /SG0010/g);
is(scalar @noocsp, 1, 'and only once');
like($log, qr/SG0021: CN=revoked\.localhost: REVOKED/,
     'the revoked certificate is logged at error level');
unlike($log, qr/SG0001/, 'every certificate found its issuer');
like($log, qr/SG0006: CN=localhost: StapleGuardResponderURL \S+ \(\S+httpd\.conf:\d+\) and \S+ \(\S+httpd\.conf:\d+\) name different responders for one certificate; using http:\/\/localhost:\d+\//,
     'two responder URLs for one certificate: reported, the first one used');
like($log, qr/SG0020: CN=localhost: good response from http:\/\/localhost:/,
     'the configured URL is asked, not the certificate\'s');
$r = $t->s_client(servername => 'off.localhost');
ok($r->{handshake} && !$r->{stapled},
   'StapleGuard Off: no staple from the module, even for a shared certificate');

# The alias vhost shares leaf's certificate: fetched once only.
my $fetches = () = slurp_ocsp($t) =~ /OCSP Request Data/g;
ok($fetches >= 1, "the responder was asked ($fetches requests)");
my @leaf_fetch = ($log =~ /SG0020: CN=localhost: good/g);
is(scalar @leaf_fetch, 1, 'the shared certificate was fetched once');

# Ten handshakes, all stapled, none asks the responder.
my $before = $fetches;
my $all = 1;
for (1 .. 10) {
    my $x = $t->s_client;
    $all &&= $x->{stapled} && ($x->{cert_status} // '') eq 'good';
}
ok($all, 'ten more handshakes all stapled');
sleep 1;
my $after = () = slurp_ocsp($t) =~ /OCSP Request Data/g;
is($after, $before, 'handshakes cause no responder request');

$t->stop_httpd;
done_testing;

sub slurp_ocsp { SGTest::slurp($_[0]->dir . '/logs/openssl-ocsp.log') }
