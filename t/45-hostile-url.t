#!/usr/bin/perl
# Certificate data is data: a certificate whose OCSP URL holds a CR LF
# (request smuggling: "GET /x\r\nFLUSHALL\r\nX: y/... HTTP/1.0"), a space,
# or bytes outside ASCII, started in a real httpd. The URL is refused when
# the certificate is primed, in one line with its own id (SG0012) that
# shows it escaped; whatever listens at the URL's host and port (a
# listener of this test that records every byte) is never sent a byte;
# the status page tells the truth and ?json stays valid UTF-8. A good URL
# after a refused one is still asked and stapled. StapleGuardResponderURL
# with such characters is refused at `apache2 -t`, shown escaped.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;
use JSON::PP;

my $t = SGTest->new;
my $dir = $t->dir;
my $lport = SGTest::free_port();
my $heard = "$dir/logs/listener.bytes";
my $base = "http://127.0.0.1:$lport";

# The listener at the hostile URLs' host and port: it records each
# connection and every byte sent on it.
my $listener = $t->spawn("$dir/logs/listener.out", $^X, '-e', <<'PERL', $lport, $heard);
use IO::Socket::INET;
my ($port, $file) = @ARGV;
my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
                              Listen => 16, ReuseAddr => 1)
    or die "listen: $!";
$| = 1;
print "READY\n";
while (my $c = $s->accept) {
    open(my $fh, '>>', $file) or die;
    syswrite($fh, "CONNECT\n");
    my $buf;
    eval {
        local $SIG{ALRM} = sub { die "timeout\n" };
        alarm 2;
        syswrite($fh, $buf) while sysread($c, $buf, 4096);
        alarm 0;
    };
    close $fh;
    close $c;
}
PERL
SGTest::wait_for(sub { SGTest::slurp("$dir/logs/listener.out") =~ /READY/ })
    or BAIL_OUT('the listener did not start: '
                . SGTest::slurp("$dir/logs/listener.out"));

# Certificates whose AIA says these (OpenSSL's configuration reader turns
# \r and \n into CR and LF; the other bytes are written as they are).
my $good = $t->url;
my %aia = (
    crlf  => "OCSP;URI:$base/x\\r\\nFLUSHALL\\r\\nX: y",
    space => "OCSP;URI:$base/a b",
    bytes => "OCSP;URI:$base/caf\xc3\xa9\xff\x01",
    # (OpenSSL's list parser stops splitting at a CR or LF)
    mixed => "OCSP;URI:$base/m\x01y z,OCSP;URI:$good",
);
# ... and how SG0012 shows them
my %shown = (
    crlf  => "$base/x\\x0d\\x0aFLUSHALL\\x0d\\x0aX: y",
    space => "$base/a b",
    bytes => "$base/caf\\xc3\\xa9\\xff\\x01",
    mixed => "$base/m\\x01y z",
);
# httpd escapes what goes into its error log (and `apache2 -t` prints
# through it): the module's escaping comes out with each backslash
# doubled ("\\x0d"), and nothing raw ever reaches the file.
sub logged { (my $s = $_[0]) =~ s/\\/\\\\/g; return $s }
my $cnf = SGTest::slurp($t->pkifile('ca.cnf'));
my ($leaf) = $cnf =~ /^\[ leaf_ext \]\n(.*?)^\[/ms;
$leaf =~ s/^authorityInfoAccess.*\n//m;
$t->write_file($t->pkifile('ca.cnf'),
               $cnf . join('', map { "[ ${_}_ext ]\n${leaf}authorityInfoAccess"
                                     . " = $aia{$_}\n" } sort keys %aia));
$t->issue_cert($_, cn => "$_.localhost", ext => "${_}_ext") for keys %aia;

$t->start_responder(mode => 'good');
$t->write_conf(
    vhosts => [{ name => 'localhost', cert => 'mixed' },
               map { { name => "$_.localhost", cert => $_ } }
               qw(crlf space bytes)],
    global => SGTest::status_location('/sg-status'));
$t->start_httpd;

my $log = $t->error_log;
for my $c (sort keys %aia) {
    my @lines = grep { /SG0012: CN=\Q$c\E\.localhost:/ } split /\n/, $log;
    is(scalar(@lines), 1, "$c: one SG0012 line") or diag($log);
    like($lines[0] // '', qr/OCSP URL refused, never asked: "\Q${\logged($shown{$c})}\E" has a character that RFC 3986 does not allow/,
         "$c: the line shows the URL escaped");
}
like($log, qr/SG0012: CN=mixed\.localhost:.*; asking \Q$good\E instead/,
     'mixed: the usable URL after the refused one is asked');
like($log, qr/SG0012: CN=crlf\.localhost:.*no usable responder is left/,
     'crlf: said to have no usable responder');
unlike($log, qr/SG0010: CN=(crlf|space|bytes)\./,
       'no second line (SG0010) for a refused URL');
unlike($log, qr/[\r\x80-\xff]/, 'no CR and no byte outside ASCII in the log');
unlike($log, qr/^FLUSHALL/m, 'no line of the certificate\'s making');

# The fetcher's first round is done (start_httpd waits for it), and the
# good responder was asked for mixed: nothing reached the listener.
ok($t->curl_status == 0, 'mixed: a valid staple from the usable URL');
sleep 1;
ok(!-e $heard, 'the listener at the hostile URLs received nothing')
    or diag(SGTest::slurp($heard));

my ($code, $body) = $t->https_get('/sg-status?json');
is($code, 200, '?json answers');
my $json = eval { JSON::PP->new->utf8->decode($body) };
ok($json, '?json is valid JSON in UTF-8') or diag("$@\n$body");
my %row = map { $_->{subject} => $_ } @{ $json->{certificates} // [] };
for my $c (qw(crlf space bytes)) {
    my $r = $row{"CN=$c.localhost"} // {};
    is($r->{state}, 'no OCSP URL', "$c: state says it has no usable URL");
    is_deeply($r->{ocsp_urls}, [], "$c: no URL to ask");
    is_deeply($r->{ocsp_urls_refused}, [$shown{$c}],
              "$c: the refused URL, escaped");
    is($r->{ocsp_url}, undef, "$c: ocsp_url null");
}
my $m = $row{'CN=mixed.localhost'} // {};
is($m->{state}, 'good', 'mixed: good');
is_deeply($m->{ocsp_urls}, [$good], 'mixed: asks the usable URL only');
is_deeply($m->{ocsp_urls_refused}, [$shown{mixed}], 'mixed: one refused');

($code, $body) = $t->https_get('/sg-status');
like($body, qr/refused, never asked[^<]*: \Q$base\E\/x\\x0d\\x0aFLUSHALL/,
     'the HTML page lists the refused URL, escaped');
unlike($body, qr/[\r\x80-\xff]/, 'the HTML page has no CR nor raw bytes');

# A graceful restart says nothing again (the certificates are carried),
# and still asks nothing of the listener.
$t->graceful;
my $again = () = $t->error_log =~ /SG0012: /g;
is($again, 4, 'a graceful restart does not repeat SG0012');
ok(!-e $heard, 'nothing reached the listener after the restart either');
$t->stop_httpd;

# The command says the same of such a certificate, asks nothing, and
# writes nothing raw either.
my ($rc, $out, $err) = $t->cli('check', 'crlf-chain.pem');
is($rc, 1, 'staple-guard check: a certificate with no usable URL, exit 1');
like($out, qr/^SG0012 OCSP URL refused: CN=crlf\.localhost: "\Q$shown{crlf}\E" has a character that RFC 3986 does not allow/m,
     'staple-guard check: SG0012, the URL escaped') or diag("$out$err");
unlike($out . $err, qr/[\r\x80-\xff]/, 'staple-guard check: nothing raw');
($rc, $out, $err) = $t->cli('check', 'mixed-chain.pem');
is($rc, 0, 'staple-guard check: the usable URL answers good')
    or diag("$out$err");
ok(!-e $heard, 'the command asked nothing of the listener');

# StapleGuardResponderURL: refused at `apache2 -t`, naming the directive,
# the URL escaped.
for my $bad (['"http://127.0.0.1:1/a b"', "http://127.0.0.1:1/a b"],
             ["http://127.0.0.1:1/caf\xc3\xa9", "http://127.0.0.1:1/caf\\xc3\\xa9"],
             ["\"http://127.0.0.1:1/a\tb\"", "http://127.0.0.1:1/a\\x09b"],
             ["http://127.0.0.1:1/a\x01b", "http://127.0.0.1:1/a\\x01b"]) {
    $t->write_conf(global => "StapleGuardResponderURL $bad->[0]\n");
    my ($rc, $out) = $t->apache('-t');
    ok($rc != 0 && $out =~ /StapleGuardResponderURL: '\Q${\logged($bad->[1])}\E' has a character that RFC 3986 does not allow/
       && $out !~ /[\x00-\x08\x0b-\x1f\x80-\xff]/,
       "apache2 -t refuses $bad->[1], escaped") or diag($out);
}

done_testing();
