#!/usr/bin/perl
# Responders reached through an HTTP proxy (StapleGuardProxy): a real
# squid on loopback, which alone can resolve the responder's name (its own
# hosts_file); httpd cannot. Every refusal of the proxy has its own id,
# credentials are never shown, bypassed hosts go direct.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;
use Time::HiRes qw(time);

my $SQUID = '/usr/sbin/squid';
plan skip_all => 'squid is not installed (scripts/deps.sh)' unless -x $SQUID;

my $t = SGTest->new;
my $rport = $t->rport;
my $sq = "@{[$t->dir]}/squid";
my $sport = SGTest::free_port();
my $dead = SGTest::free_port();         # nothing listens there
my $fport = SGTest::free_port();        # a "proxy" that answers nonsense
my $NAME = 'ocsp.sg-proxy.test';        # known to squid only
my $PASS = 'pr0xy-s3cret';

# squid drops to its own user: its files must be writable by it.
mkdir $sq;
chmod 0777, $sq;
$t->write_file("$sq/hosts", "127.0.0.1 $NAME forbidden.sg-proxy.test\n");
my $hash = `openssl passwd -apr1 $PASS`;
chomp $hash;
# a second account whose password holds '@', '/', ':' and '#': written
# percent-encoded (and its '@' raw) in StapleGuardProxy
my $PASS2 = 'p@ss/w:rd#1';
my $hash2 = `openssl passwd -apr1 '$PASS2'`;
chomp $hash2;
$t->write_file("$sq/passwd", "sg:$hash\nsg2:$hash2\n");
$t->write_file("$sq/squid.conf", <<"EOF");
http_port 127.0.0.1:$sport
pid_filename $sq/squid.pid
cache_log $sq/cache.log
access_log stdio:$sq/access.log squid
cache deny all
cache_mem 8 MB
hosts_file $sq/hosts
dns_nameservers 127.0.0.1
coredump_dir $sq
netdb_filename none
pinger_enable off
shutdown_lifetime 0 seconds
auth_param basic program /usr/lib/squid/basic_ncsa_auth $sq/passwd
acl authed proxy_auth REQUIRED
acl forbidden dstdomain forbidden.sg-proxy.test
http_access deny forbidden
http_access allow authed
http_access deny all
EOF
chmod 0644, "$sq/$_" for qw(hosts passwd squid.conf);

# Refused at `apache2 -t`, naming the directive, never the password.
for my $bad (["StapleGuardProxy ftp://sg:$PASS\@127.0.0.1:$sport", 'a scheme'],
             ["StapleGuardProxy http://sg:$PASS\@127.0.0.1:$sport/path", 'a path'],
             ["StapleGuardProxy http://sg:$PASS\@127.0.0.1:99999", 'a port'],
             ['StapleGuardProxyBypass good.host bad/host', 'a bypass entry']) {
    $t->write_conf(global => "$bad->[0]\n");
    my ($rc, $out) = $t->apache('-t');
    ok($rc != 0 && $out =~ /StapleGuardProxy/ && $out !~ /\Q$PASS\E/,
       "apache2 -t refuses $bad->[1], names the directive, hides the password")
        or diag($out);
}
# Passwords that hold what ends a part of a URL, written raw: RFC 3986
# ends the authority at the first '/', '?' or '#', the userinfo at the
# last '@'. Each is refused (or taken), and no part of the password is
# ever in what apache2 -t prints.
my ($p1, $p2) = ('pr0xy', 's3cret');
for my $bad (["http://sg:$p1/$p2\@127.0.0.1:$sport", 'a raw /'],
             ["http://sg:$p1?$p2\@127.0.0.1:$sport", 'a raw ?'],
             ["http://sg:$p1#$p2\@127.0.0.1:$sport", 'a raw #'],
             ["http://sg:$p1\@$p2\@127.0.0.1:99999", 'an @, then a bad port'],
             ["http://sg:$p1:$p2\@127.0.0.1:0", 'a :, then a bad port'],
             ["http://sg:$p1%40$p2\@:$sport", 'a %40, then no host'],
             ["\"http://sg:$p1 $p2\@127.0.0.1:$sport\"", 'a raw space'],
             ["http://sg:$p1%0a$p2\@127.0.0.1:$sport", 'an encoded LF']) {
    $t->write_conf(global => "StapleGuardProxy $bad->[0]\n");
    my ($rc, $out) = $t->apache('-t');
    ok($rc != 0 && $out =~ /StapleGuardProxy/ && $out !~ /\Q$p1\E|\Q$p2\E/,
       "apache2 -t refuses a password with $bad->[1], never shows it")
        or diag($out);
}
for my $good ("http://sg:$p1%2F$p2\@127.0.0.1:$sport",
              "http://sg:$p1\@$p2\@127.0.0.1:$sport",
              "http://sg:$p1:$p2\@127.0.0.1:$sport") {
    $t->write_conf(global => "StapleGuardProxy $good\n");
    my ($rc, $out) = $t->apache('-t');
    ok($rc == 0 && $out !~ /\Q$p1\E|\Q$p2\E/,
       "apache2 -t takes $good") or diag($out);
}

my @certs = qw(noauth wrongpw down forbidden bypass upstream html atpass
               atraw);
$t->issue_cert($_, cn => "$_.localhost") for @certs;
$t->start_responder(mode => 'good');
my $fake = $t->spawn("@{[$t->dir]}/logs/fake-proxy.out", $SGTest::RESPONDER,
                     '-p', $fport, '-i', $t->pkifile('inter.crt'),
                     '-s', $t->pkifile('ocsp.crt'), '-k', $t->pkifile('ocsp.key'),
                     '-m', "@{[$t->dir]}/fake-mode", '-l', "@{[$t->dir]}/fake.log");
$t->write_file('fake-mode', "html\n");
my $squid = $t->spawn("$sq/squid.out", $SQUID, '-N', '-f', "$sq/squid.conf");
SGTest::wait_for(sub { SGTest::slurp("$sq/cache.log") =~ /Accepting HTTP Socket/ }, 20)
    or BAIL_OUT("squid did not start: " . SGTest::slurp("$sq/cache.log"));

my $via = "http://sg:$PASS\@127.0.0.1:$sport";
my %vhost = (
    noauth => "StapleGuardProxy http://127.0.0.1:$sport",
    wrongpw => "StapleGuardProxy http://sg:wrong\@127.0.0.1:$sport",
    down => "StapleGuardProxy http://sg:$PASS\@127.0.0.1:$dead",
    forbidden => "StapleGuardResponderURL http://forbidden.sg-proxy.test:$rport/",
    bypass => "StapleGuardResponderURL http://127.0.0.1:$rport/\n"
              . "    StapleGuardProxyBypass other.test 127.0.0.1",
    upstream => "StapleGuardResponderURL http://$NAME:$dead/",
    html => "StapleGuardProxy http://127.0.0.1:$fport",
    atpass => "StapleGuardProxy http://sg2:p%40ss%2Fw:rd%231\@127.0.0.1:$sport",
    atraw => "StapleGuardProxy http://sg2:p\@ss%2Fw:rd%231\@127.0.0.1:$sport",
);
$t->write_conf(global => <<"EOF", vhosts => [
StapleGuardResponderURL http://$NAME:$rport/
StapleGuardProxy $via
StapleGuardResponderTimeout 3
StapleGuardRetryMin 1
StapleGuardRetryMax 1
<Location /sg-status>
SetHandler staple-guard-status
</Location>
EOF
    { name => 'localhost', cert => 'leaf' },
    map { { name => "$_.localhost", cert => $_, extra => "    $vhost{$_}" } } @certs,
]);
my $t0 = time();
$t->start_httpd;
my $r = $t->s_client;
ok($r->{stapled} && ($r->{cert_status} // '') eq 'good',
   'stapled through the proxy on the first handshake');
is($t->curl_status, 0, 'curl --cert-status accepts it');
my $access = SGTest::slurp("$sq/access.log");
like($access, qr{TCP_MISS/200 \d+ (GET|POST) http://\Q$NAME:$rport\E/}, 'squid saw the absolute-form request');
my $log = $t->error_log;
unlike($log, qr/SG0102/, 'httpd never resolved the responder name itself');

my %want = (noauth => ['SG0132', '407 without credentials'],
            wrongpw => ['SG0132', '407 with wrong credentials'],
            down => ['SG0131', 'proxy down'],
            forbidden => ['SG0133', 'proxy forbids the host (403)'],
            upstream => ['SG0135', 'the responder behind the proxy is down'],
            html => ['SG0106', 'a proxy answering 200 with an HTML page']);
for my $c (sort keys %want) {
    my ($id, $what) = @{$want{$c}};
    like($log, qr/\b$id\b[^\n]*CN=$c\.localhost/, "$what: $id");
}
for my $c (qw(atpass atraw)) {
    $r = $t->s_client(servername => "$c.localhost");
    ok($r->{stapled}, "$c: a password with \@ / : # reaches the proxy as "
       . 'it is (squid took it): stapled');
}
$r = $t->s_client(servername => 'bypass.localhost');
ok($r->{stapled}, 'a bypassed responder is asked directly: stapled');
unlike(SGTest::slurp("$sq/access.log"), qr{127\.0\.0\.1:$rport/},
       'squid never saw the bypassed request');
$r = $t->s_client(servername => 'html.localhost');
ok($r->{handshake} && !$r->{stapled}, 'HTML page: handshake fine, no staple');

# The fake proxy closes, answers garbage, or nothing: one line with an id
# each.
for my $m (['close', 'SG0109'], ['garbage', 'SG0110'], ['hang', 'SG0134']) {
    $t->write_file('fake-mode', "$m->[0]\n");
    ok(SGTest::wait_for(sub { $t->error_log =~ /\b$m->[1]\b[^\n]*CN=html\.localhost/ }, 10),
       "a proxy that answers '$m->[0]': $m->[1]");
}

# Media types may carry parameters: "Application/OCSP-Response;
# charset=binary" is application/ocsp-response (the fake proxy answers as
# a responder would).
$t->write_file('fake-mode', "typeparams\n");
ok(SGTest::wait_for(sub { $t->s_client(servername => 'html.localhost')->{stapled} }, 10),
   'Content-Type with parameters and other case: accepted, stapled');

my ($code, $page) = $t->https_get('/sg-status?json');
is($code, 200, 'status page served');
unlike($t->error_log . $page, qr/\Q$PASS\E|sg:wrong|p\@ss|ss%2F/,
       'credentials are in neither the error log nor the status page');
like($t->error_log, qr{via proxy http://127\.0\.0\.1:$sport}, 'the log names the proxy, without credentials');
like($page, qr{"proxy":"http://127\.0\.0\.1:$sport"},
     'the status page names the proxy, without credentials');

$t->stop_httpd;
$t->kill_group($squid);
$t->kill_group($fake);
diag(sprintf('proxy test: %.1f s from the start of httpd', time() - $t0));
done_testing;
