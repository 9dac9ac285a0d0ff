#!/usr/bin/perl
# Deployments that must keep working, with `openssl ocsp` as the CA runs it
# and real clients:
#  - one virtual host with an RSA and an ECDSA certificate: each client
#    gets the response for the certificate it was served;
#  - a certificate replaced on disk, then a graceful (or full) restart: the
#    first handshake carries the new certificate's own response, or none
#    while the responder has no good answer for it, never the old one's.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;
use File::Copy qw(copy);

my $t = SGTest->new;
my $pki = $t->pkifile('');
# Every certificate before the responder starts: `openssl ocsp` sees an
# edit of index.txt one request late.
my %serial = (
    ecdsa => $t->cert_serial('leaf'),
    rsa => $t->issue_cert('rsa', key => 'rsa'),
    old => $t->issue_cert('old'),
    new => $t->issue_cert('new'),
    # not in index.txt: `openssl ocsp` answers "unknown" for it
    unlisted => $t->issue_cert('unlisted', unlisted => 1),
    # for the responder that answers "unauthorized"
    later => $t->issue_cert('later'),
);
my %whose = reverse %serial;
$t->start_openssl_ocsp;

# The certificate of a handshake's staple, by name; '' for none.
sub staple_of {
    my ($r) = @_;
    return '' if $r->{none};
    return 'not good: ' . ($r->{cert_status} // $r->{response_status} // '?')
        if ($r->{cert_status} // '') ne 'good';
    return $whose{$r->{serial} // ''} // 'serial ' . ($r->{serial} // '?');
}

# --- a. RSA and ECDSA in one virtual host ---------------------------------
$t->write_conf(vhosts => [
    { name => 'localhost', cert => 'leaf', more_certs => ['rsa'] },
]);
$t->start_httpd;
my %client = (
    ecdsa => [['TLS 1.3', '-sigalgs ECDSA+SHA256'],
              ['TLS 1.2', '-tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256']],
    rsa => [['TLS 1.3', '-sigalgs RSA-PSS+SHA256:RSA+SHA256'],
            ['TLS 1.2', '-tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256']],
);
my %bits = (ecdsa => 256, rsa => 2048);
for my $kind (qw(ecdsa rsa)) {
    for my $c (@{$client{$kind}}) {
        my ($proto, $args) = @$c;
        my $r = $t->s_client(args => $args);
        like($r->{out}, qr/Server public key is $bits{$kind} bit/,
             "$proto, $args: served the $kind certificate");
        is(staple_of($r), $kind, "... and stapled its own good response");
    }
    my $cipher = $kind eq 'rsa' ? 'ECDHE-RSA-AES128-GCM-SHA256'
                                : 'ECDHE-ECDSA-AES128-GCM-SHA256';
    is($t->curl_status(args => "--tlsv1.2 --tls-max 1.2 --ciphers $cipher"), 0,
       "curl --cert-status, $cipher: the $kind certificate's staple is valid");
}
is($t->curl_status, 0, 'curl --cert-status with its own choice: valid');

# --- b. a certificate replaced on disk --------------------------------------
my $store = $t->dir . '/store';
sub install {
    my ($name) = @_;
    for my $f (["$name-chain.pem", 'site-chain.pem'], ["$name.key", 'site.key']) {
        copy("$pki/$f->[0]", "$pki/$f->[1].tmp") or die "copy: $!";
        rename("$pki/$f->[1].tmp", "$pki/$f->[1]") or die "rename: $!";
    }
}
install('old');
$t->write_conf(global => <<"EOF", vhosts => [{ name => 'localhost', cert => 'site' }]);
StapleGuardStoreDir $store
StapleGuardRetryMin 1
StapleGuardRetryMax 2
EOF
$t->graceful;
is(staple_of($t->s_client), 'old', 'the installed certificate is stapled');

install('new');
$t->graceful;
is(staple_of($t->s_client), 'new',
   'replaced, graceful restart: the first handshake carries the new one\'s response');
is($t->curl_status, 0, 'curl --cert-status accepts it');

# Replaced by a certificate the responder has no good answer for: after a
# graceful restart, no staple at all, and the answer is logged.
sub replaced_unanswered {
    my ($name, $answer) = @_;
    install($name);
    my $before = length $t->error_log;
    $t->graceful;
    is(staple_of($t->s_client), '',
       "replaced, the responder answers $answer, graceful: no staple at all");
    is($t->curl_status, 91, 'curl --cert-status: no staple');
    like(substr($t->error_log, $before), qr/SG01\d\d: CN=localhost: [^\n]*$answer/i,
         "the \"$answer\" answer is logged");
}

# `openssl ocsp` does not know the next one: it answers "unknown".
replaced_unanswered('unlisted', 'unknown');

# A full restart: the store holds the previous certificate's response.
$t->stop_httpd;
$t->start_httpd;
is(staple_of($t->s_client), '',
   'full restart, the store has the old certificate\'s response: no staple');

# A responder that answers "unauthorized", like a CA that has not yet
# heard of a new certificate; then answers well.
$t->stop_responder;
$t->start_responder(mode => 'status 6');
replaced_unanswered('later', 'unauthorized');
$t->set_mode('good');
my $r;
ok(SGTest::wait_for(sub { $r = $t->s_client; $r->{stapled} }, 10),
   'once the responder answers, the fetcher gets it');
is(staple_of($r), 'later', '... the new certificate\'s own response');

$t->stop_httpd;
done_testing;
