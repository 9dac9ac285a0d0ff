#!/usr/bin/perl
# No fetch can hang. In namespaces of its own, the test gives a
# responder's name two addresses (/etc/hosts, and /etc/gai.conf to keep
# their order): the first is routed into lo where nothing takes it, so
# connection attempts vanish (black-holed); the second accepts and never
# answers (a listener of the test's that reads nothing). The fetch of
# that certificate must end within its deadline, and the certificates
# after it in the batch (one fetch at a time) must still be fetched.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns_and_mounts() }
use Test::More;

my $HOLE = '10.99.0.2';     # routed into lo: no one answers, no refusal
my $SILENT = '10.98.0.1';   # an address of lo's, where the listener is
my $D = 'sg-silent.test';

my $t = SGTest->new;
$t->bind_etc('hosts', "127.0.0.1 localhost\n$HOLE silent.$D\n$SILENT silent.$D\n")
    or plan skip_all => 'needs its own network and mount namespaces (unshare -n -m)';
# glibc sorts a name's addresses (RFC 3484); this table puts the black
# hole first, as the listing does (glibc's defaults, and one line more).
$t->bind_etc('gai.conf', join('', map { "precedence $_\n" }
    '::1/128 50', '::/0 40', '2002::/16 30', '::/96 20',
    "::ffff:$HOLE/128 15", '::ffff:0:0/96 10'))
    or BAIL_OUT('cannot bind-mount gai.conf');
system('ip', 'addr', 'add', "$SILENT/32", 'dev', 'lo') == 0
    or BAIL_OUT("cannot give lo $SILENT");
system('ip', 'route', 'add', "$HOLE/32", 'dev', 'lo') == 0
    or BAIL_OUT("cannot route $HOLE into lo");
is(`getent ahostsv4 silent.$D` =~ /^(\S+)\s+STREAM/ ? $1 : '', $HOLE,
   'the black-holed address comes first');

# Accepts, reads nothing, answers nothing, holds every connection.
my $sport = SGTest::free_port();
my $slog = "@{[$t->dir]}/logs/silent.log";
$t->spawn($slog, $^X, '-MIO::Socket::INET', '-e', <<"EOF");
\$| = 1;
my \$s = IO::Socket::INET->new(LocalAddr => '$SILENT', LocalPort => $sport,
                               Listen => 16, ReuseAddr => 1) or die "listen: \$!";
print "READY\\n";
my \@held;
while (my \$c = \$s->accept) { print "accepted\\n"; push \@held, \$c }
EOF
SGTest::wait_for(sub { SGTest::slurp($slog) =~ /READY/ })
    or BAIL_OUT('the silent listener did not start: ' . SGTest::slurp($slog));
$t->issue_cert('silent', cn => 'silent.localhost');
$t->issue_cert('second', cn => 'second.localhost');
$t->start_responder(mode => 'good');
$t->write_conf(global => <<"EOF", vhosts => [
StapleGuardFetchConcurrency 1
StapleGuardResponderTimeout 4
StapleGuardRetryMin 1
StapleGuardRetryMax 2
StapleGuardStoreDir none
EOF
    { name => 'silent.localhost', cert => 'silent',
      extra => "    StapleGuardResponderURL http://silent.$D:$sport/" },
    { name => 'localhost', cert => 'leaf' },
    { name => 'second.localhost', cert => 'second' },
]);

# start_httpd waits for the fetcher's first round to end (SG0041): a
# fetch that hung would keep it from ever ending.
$t->start_httpd;
like($t->error_log, qr/SG0041: background fetcher started for 3 certificates/,
     "the first round ended");
for my $sn ('localhost', 'second.localhost') {
    my $r = $t->s_client(servername => $sn);
    ok($r->{stapled} && ($r->{cert_status} // '') eq 'good',
       "$sn, after the silent responder's certificate in the batch: stapled");
}
# (the test PKI's certificates all name localhost as subjectAltName)
is($t->curl_status, 0, 'localhost: curl --cert-status accepts its staple');
like(SGTest::slurp($slog), qr/accepted/,
     'the second address was reached after the black-holed first');
like($t->error_log, qr/SG0104: CN=silent\.localhost: \S*silent\.\Q$D\E/,
     'the silent responder: SG0104, a timeout');
ok(!$t->s_client(servername => 'silent.localhost')->{stapled},
   'silent.localhost: no staple');

# Later rounds go on: the certificate is retried (and reaches the silent
# address again), the fetcher is not stuck in it.
ok(SGTest::wait_for(sub { (() = SGTest::slurp($slog) =~ /accepted/g) >= 2 }, 30),
   'the silent responder is asked again at the retry');
ok(SGTest::wait_for(sub {
       $t->error_log =~ /silent\.localhost[^\n]*attempt [2-9],/ }, 30),
   'and that attempt ends too');
ok($t->s_client(servername => 'second.localhost')->{stapled},
   'second.localhost: still stapled');
$t->stop_httpd;
done_testing;
