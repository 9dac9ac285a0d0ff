#!/usr/bin/perl
# Name resolution inside the fetch's deadline. In namespaces of its own,
# the test gives httpd its own /etc/resolv.conf (a DNS server that reads
# queries and never answers) and /etc/hosts (a name with ::1, where
# nothing listens, before 127.0.0.1, where the responder is; and a name
# with only an IPv6 address that has no route).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns_and_mounts() }
use Test::More;
use Time::HiRes qw(time);

my $STARTUP = 3;            # StapleGuardStartupTimeout
my $SLACK = 2.5;            # httpd's own start, beside the budget
my $DNS = '127.0.0.53';
my $D = 'sg-resolver.test';

my $t = SGTest->new;
# Without namespaces of its own the test cannot change /etc for httpd
# alone: under CI (CI=true) that fails, with unshare's reason, so that a
# machine that hides this area is seen; elsewhere it is a skip that says
# the same.
if (!$t->bind_etc('hosts', "127.0.0.1 localhost\n::1 localhost\n"
                           . "::1 dual.$D\n127.0.0.1 dual.$D\n2001:db8::1 v6only.$D\n")) {
    my $why = 'needs its own network and mount namespaces (unshare -n -m '
            . '--propagation private): ' . ($ENV{SG_NETNS_WHY} // 'bind mount failed');
    $why .= ' (in a chroot, its root must be a mount point: mount --bind DIR DIR,'
          . ' as scripts/test-on.sh does)' if $why =~ /propagation: Invalid/;
    plan skip_all => $why if ($ENV{CI} // '') ne 'true';
    fail($why);
    done_testing;
    exit 1;
}
# glibc alone would wait timeout x attempts = 90 s for this server.
$t->bind_etc('resolv.conf', "nameserver $DNS\noptions timeout:30 attempts:3\n")
    or BAIL_OUT('cannot bind-mount resolv.conf');
$t->issue_cert('v6only', cn => 'v6only.localhost');
my $rport = $t->rport;

# The black hole: counts the queries it reads, answers none.
my $queries = "@{[$t->dir]}/logs/dns.log";
$t->spawn($queries, $^X, '-MIO::Socket::INET', '-e', <<"EOF");
\$| = 1;
my \$s = IO::Socket::INET->new(LocalAddr => '$DNS', LocalPort => 53,
                               Proto => 'udp') or die "bind: \$!";
print "READY\\n";
while (defined \$s->recv(my \$q, 512)) { print "query\\n" }
EOF
SGTest::wait_for(sub { SGTest::slurp($queries) =~ /READY/ })
    or BAIL_OUT('the black-hole DNS server did not start: ' . SGTest::slurp($queries));
$t->start_responder(mode => 'good');

sub conf {
    my (%o) = @_;
    $t->write_conf(global => <<"EOF" . ($o{global} // ''), vhosts => [
StapleGuardStartupTimeout $STARTUP
StapleGuardResponderTimeout 8
StapleGuardRetryMin 1
StapleGuardRetryMax 1
StapleGuardStoreDir none
EOF
        { name => 'localhost', cert => 'leaf',
          extra => "    StapleGuardResponderURL http://dual.$D:$rport/" },
        { name => 'v6only.localhost', cert => 'v6only',
          extra => "    StapleGuardResponderURL http://v6only.$D:$rport/" },
        @{$o{vhosts} // []},
    ]);
}

# 1. A Must-Staple certificate holds the start, and its responder's name
#    goes to a DNS server that never answers.
conf(vhosts => [{ name => 'must-staple.localhost', cert => 'ms',
                  extra => "    StapleGuardResponderURL http://blackhole.$D:$rport/" }]);
my $t0 = time();
$t->start_httpd(no_fetch_wait => 1);
my $took = time() - $t0;
ok($took < $STARTUP + $SLACK,
   sprintf('startup took %.2f s with a silent DNS server (budget %d s)', $took, $STARTUP));
diag(sprintf('start command to "resuming normal operations": %.2f s', $took));
like(SGTest::slurp($queries), qr/query/, 'the name was asked of the silent server');
like($t->error_log, qr/SG0102: CN=must-staple\.localhost[^\n]*blackhole\.\Q$D\E: name resolution timed out/,
     'logged: SG0102, name resolution timed out');

# Other certificates are fetched meanwhile by the background fetcher,
# which the black hole does not stall.
ok(SGTest::wait_for(sub { $t->s_client->{stapled} }, 8),
   'the other certificate is stapled (::1 refused first, then 127.0.0.1)');
is($t->curl_status, 0, 'curl --cert-status accepts it');
like($t->error_log, qr/SG0103: CN=v6only\.localhost[^\n]*2001:db8::1[^\n]*unreachable/i,
     'a name with only an unroutable IPv6 address: SG0103, naming it');
my $seen = SGTest::wait_for(sub {
    my @n = ($t->error_log =~ /SG0102: CN=must-staple[^\n]*timed out/g);
    @n >= 2 }, 15);
ok($seen, 'the background fetcher retries the silent name within its deadline');
$t->stop_httpd;

# 2. StapleGuardAddressFamily ipv4: ::1 is never tried. Something now
#    listens on [::1]:port and hangs up at once: trying it would fail.
truncate($t->dir . '/logs/error.log', 0);
my $v6log = "@{[$t->dir]}/logs/v6.log";
$t->spawn($v6log, $^X, '-MIO::Socket::IP', '-e', <<"EOF");
\$| = 1;
my \$s = IO::Socket::IP->new(LocalHost => '::1', LocalPort => $rport,
                             Listen => 5, ReuseAddr => 1) or die "listen: \$!";
print "READY\\n";
while (my \$c = \$s->accept) { print "accepted\\n"; close \$c }
EOF
SGTest::wait_for(sub { SGTest::slurp($v6log) =~ /READY/ })
    or BAIL_OUT('the IPv6 listener did not start: ' . SGTest::slurp($v6log));
conf(global => "StapleGuardAddressFamily ipv4\n");
$t->start_httpd(no_fetch_wait => 1);
ok(SGTest::wait_for(sub { $t->s_client->{stapled} }, 8),
   'ipv4: stapled through 127.0.0.1');
unlike(SGTest::slurp($v6log), qr/accepted/, 'ipv4: ::1 was never tried');
ok(SGTest::wait_for(sub { $t->error_log =~ /SG0102: CN=v6only\.localhost/ }, 8),
   'ipv4: a name with only an IPv6 address does not resolve (SG0102)');

my ($rc, $out) = $t->apache('-t', '-C', "'StapleGuardAddressFamily ipv5'");
ok($rc != 0 && $out =~ /StapleGuardAddressFamily/, 'apache2 -t refuses a bad family')
    or diag($out);
done_testing;
