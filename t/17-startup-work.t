#!/usr/bin/perl
# The startup work (httpd/sgh_warm.c): with many certificates, each is
# parsed and its held response validated by helper processes beside
# mod_ssl (httpd/sgh_helper.c), and each
# virtual host still staples its own certificate's response, from the
# store after a full restart and from memory after a graceful one, with
# the responder down.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;

my $N = 24;                     # certificates, one virtual host each
my $SERIAL0 = 0x5000;           # their serials: $SERIAL0 + i
my $HELPERS_MAX = 8;            # SGH_WARM_HELPERS_MAX in httpd/sgh_warm.c

my $t = SGTest->new;
my $pki = $t->pkifile('');
# Issued by the test intermediate with one key: stapling does not look at
# the key, and `openssl x509 -req` is quick.
for my $i (0 .. $N - 1) {
    my $serial = $SERIAL0 + $i;
    system("cd $pki && openssl req -new -config ca.cnf -key leaf.key "
           . "-subj /CN=h$i.localhost -out h$i.csr 2>/dev/null "
           . "&& openssl x509 -req -in h$i.csr -CA inter.crt -CAkey inter.key "
           . "-set_serial $serial -days 30 -extfile ca.cnf -extensions leaf_ext "
           . "-out h$i.crt 2>/dev/null && cat h$i.crt inter.crt > h$i-chain.pem "
           . "&& cp leaf.key h$i.key") == 0 or die "cannot issue h$i";
}
my @vhosts = map { { name => "h$_.localhost", cert => "h$_" } } 0 .. $N - 1;
my $store = $t->dir . '/store';
$t->write_conf(global => "StapleGuardStoreDir $store\n", vhosts => \@vhosts);

# Every name staples a good response for its own certificate (the serial
# in the response's CertID is the certificate's).
sub each_own {
    my $ok = 0;
    for my $i (0 .. $N - 1) {
        my $r = $t->s_client(servername => "h$i.localhost");
        my ($serial) = $r->{out} =~ /Serial Number: ([0-9A-F]+)/;
        if ($r->{stapled} && ($r->{cert_status} // '') eq 'good'
            && defined $serial && hex($serial) == $SERIAL0 + $i) {
            $ok++;
        }
        else {
            diag("h$i.localhost: " . ($r->{stapled} ? "serial "
                 . ($serial // '?') : 'no staple'));
        }
    }
    return $ok;
}

sub count_in_log {
    my ($re) = @_;
    my @m = ($t->error_log =~ /$re/g);
    return scalar @m;
}

# Cold: everything fetched at startup.
$t->start_responder(mode => 'good');
$t->start_httpd;
is(each_own(), $N, "cold start: all $N names staple their own response");
$t->stop_httpd;
$t->stop_responder;

# Warm, full restart, responder down: from the store, through the helpers.
my $before = length $t->error_log;
$t->start_httpd;
is(each_own(), $N, "full restart, responder down: all $N from the store");
my $log = substr($t->error_log, $before);
my @stored = ($log =~ /SG0023: [^\n]*response from store kept/g);
is(scalar @stored, $N, 'each validated and kept from the store once');
# what the module counts: the processors it may run on (sched_getaffinity)
my $cpus = (`nproc` =~ /(\d+)/)[0] || 1;
my $helpers = $cpus - 1 > $HELPERS_MAX ? $HELPERS_MAX : $cpus - 1;
my ($total, $early, $nhelpers, $late, $waited) = $log =~
    /SG0008: startup work for (\d+) certificates: (\d+) done by (\d+) helper processes, (\d+) in httpd's thread; waited (\d+) ms for the helpers' last results/;
ok(defined $waited, "SG0008 says how long httpd's thread waited for the helpers");
is($total, $N, 'the startup work covered every certificate');
is($nhelpers, $helpers, "$helpers startup helpers on $cpus processors");
is($early + $late, $N, 'each done once, by a helper or by httpd');
is($late, $helpers ? 0 : $N, 'the helpers did it all (when there are any)');
diag("$early of $N done by helpers, $late in httpd's thread; waited "
     . ($waited // '?') . " ms");

# Graceful, responder still down: from memory, through the helpers too.
$before = length $t->error_log;
$t->graceful;
is(each_own(), $N, "graceful restart, responder down: all $N from memory");
$log = substr($t->error_log, $before);
my @carried = ($log =~ /SG0023: [^\n]*response from carried kept/g);
is(scalar @carried, $N, 'each validated and kept from memory once');
unlike($log, qr/SG0023: [^\n]*response from store kept/,
       'the store is not read when memory has a valid response');

is(count_in_log(qr/SG000[179]|SG0051|SG0024/), 0,
   'no certificate refused, no stored response refused, helpers started '
   . 'and none lost');
$t->stop_httpd;
done_testing;
