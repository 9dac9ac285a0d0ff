#!/usr/bin/perl
# The demo behind scripts/demo.sh, built on the test suite's helpers.
use strict;
use warnings;
use SGTest;
BEGIN { SGTest::enter_netns() }

sub say_step { print "\n==> $_[0]\n" }

my $t = SGTest->new;
say_step('test PKI in ' . $t->dir . '/pki; responder: openssl ocsp on '
         . $t->url);
$t->start_openssl_ocsp;
$t->write_conf(global => <<'EOF', loglevel => 'warn staple_guard:info');
<Location "/staple-status">
    SetHandler staple-guard-status
    Require ip 127.0.0.1
</Location>
EOF
my ($rc, $out) = $t->apache('-t');
die "apache2 -t failed: $out" if $rc;
$t->start_httpd;
say_step('httpd with mod_ssl and mod_staple_guard on https://localhost:'
         . $t->hport . '/ (SSLUseStapling is off: the module staples)');
print grep { /staple_guard/ } split /^/, $t->error_log;

say_step('openssl s_client -status');
my $r = $t->s_client;
print "$1\n" while $r->{out} =~ /^(\s*(?:OCSP Response Status|Cert Status|This Update|Next Update|Responder Id|OCSP response):.*)$/mg;

say_step('curl --cert-status (exit 0 means a valid staple)');
printf "curl exit code: %d\n", $t->curl_status;

say_step('status page: https://localhost:' . $t->hport . '/staple-status?auto');
my ($ca, $p) = ($t->pkifile('root.crt'), $t->hport);
print `curl -s --max-time 10 --cacert $ca --resolve localhost:$p:127.0.0.1 'https://localhost:$p/staple-status?auto'`;

say_step('responder down, graceful restart, handshake again');
$t->stop_responder;
$t->graceful;
$r = $t->s_client;
print "$1\n" while $r->{out} =~ /^(\s*(?:OCSP Response Status|Cert Status|Next Update):.*)$/mg;
printf "curl exit code: %d\n", $t->curl_status;
$t->stop_httpd;
say_step('done; everything stopped');
