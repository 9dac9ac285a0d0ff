#!/usr/bin/perl
# Diagnoses in plain words: the missing intermediate, clock skew, and a
# Must-Staple certificate at risk.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;
use JSON::PP;

my $t = SGTest->new;
$t->start_responder(mode => 'futureproduced');
$t->write_conf(
    global => "<Location /sg-status>\nSetHandler staple-guard-status\n</Location>\n"
              . "StapleGuardRetryMin 1\nStapleGuardRetryMax 2\nStapleGuardStoreDir none\n",
    vhosts => [
        { name => 'localhost', cert => 'leaf' },
        # the certificate alone: mod_ssl cannot find its issuer
        { name => 'revoked.localhost', cert => 'revoked', chain => 'revoked.crt' },
        { name => 'must-staple.localhost', cert => 'ms' },
    ]);
$t->start_httpd;
my $log = $t->error_log;
like($log, qr/SG0005: \S+revoked\.crt \(\S+httpd\.conf:\d+\): certificate CN=revoked\.localhost gets no OCSP stapling: httpd found no issuer certificate for it; add the intermediate \(CN=SG Test Intermediate\) to SSLCertificateFile/,
     'missing intermediate: named, with file, line and fix');
my @once = ($log =~ /SG0005/g);
is(scalar @once, 1, '... once');
ok(!$t->s_client(servername => 'revoked.localhost')->{stapled},
   '... and indeed no staple for it');

like($log, qr/SG0026: CN=localhost: clock skew: the responder's producedAt is \d+ s ahead of the local clock/,
     'clock skew: producedAt far ahead is reported');
my @skew = ($log =~ /SG0026: CN=localhost/g);
is(scalar @skew, 1, '... once per certificate');
ok($t->s_client->{stapled}, 'the response itself is valid (thisUpdate is now) and stapled');

# Must-Staple without a valid staple: an error line and "at risk".
$t->stop_httpd;
$t->set_mode('status 6');
truncate($t->dir . '/logs/error.log', 0);
$t->start_httpd;
like($t->error_log, qr/staple_guard:crit.*SG0115: CN=must-staple\.localhost: .*the certificate is Must-Staple, so clients that honour that refuse the site/,
     'Must-Staple without a staple: a critical line that says what it means');
my (undef, $body) = $t->https_get('/sg-status?json');
my $j = eval { decode_json($body) } // {};
ok(scalar %$j, 'the status JSON parses') or diag($body);
my ($ms) = grep { $_->{subject} eq 'CN=must-staple.localhost' } @{$j->{certificates}};
ok($ms->{at_risk}, 'the status page marks it at risk');
is($ms->{last_result}, 'unauthorized', '... with the reason');
my ($leaf) = grep { $_->{subject} eq 'CN=localhost' } @{$j->{certificates}};
ok(!$leaf->{at_risk}, 'a certificate without Must-Staple is never "at risk"');
$t->stop_httpd;
done_testing;
