#!/usr/bin/perl
# Never another certificate's staple (issue 20): 361 certificates, each in
# a name-based virtual host of its own, fetched at once by the fetcher's
# worker threads, then ONE handshake per host with its name as SNI
# (build/tools/sg_staplecheck): the staple's CertID (hash algorithm,
# issuer name and key hashes, serial) must be the one of the certificate
# that host serves, and the staple a good response whose signature
# verifies under the test root. Two writers that took the same space in
# the shared table show up here as a host stapling its neighbour's
# response or a torn mix of two, while the status page says all is good.
#
# At StapleGuardFetchConcurrency 4 (the default) and 64 (its maximum),
# checked after: a cold start (empty store), a graceful restart, a
# refresh round (every response replaced in place, forced through the
# status page's refresh action), and a second server started with an
# empty store that takes every response from the shared cache (redis).
#
# Responses of many sizes: three responders, each on 11 ports (the module
# fetches at most 2 at once from one responder host: 33 of them let 64
# fetches run at once), for three groups of 120 certificates made by
# build/tools/sg_mkcerts -v (serials 3 to 19 bytes long, subjects with an
# OU of 1 to 64 characters):
#   direct     issued by the test intermediate, signed by it (no
#              certificate inside);
#   delegated  the same issuer, signed by its delegated responder (EC),
#              whose certificate is inside;
#   rsa        issued by a second intermediate with a long subject, signed
#              by its delegated RSA-2048 responder with a long subject,
#              whose certificate is inside;
# and the test PKI's localhost certificate (the status page's host).
#
# Run apart in a loop: SG_IDENTITY_ROUNDS=20 prove t/37-staple-identity.t
# makes 20 cold starts at each concurrency (each checked), then the other
# checkpoints once (SG_KEEP=1 keeps the directory to look at).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
use SGCache;
BEGIN { SGTest::enter_netns() }
use Test::More;
use JSON::PP;
use POSIX qw(strftime);
use Time::HiRes qw(time sleep);

my $PER_GROUP = 120;
my $PORTS_PER_GROUP = 11;
my @CONCURRENCY = (4, 64);      # the default, the maximum (directives.md)
my $ROUNDS = $ENV{SG_IDENTITY_ROUNDS} // 1;
my $DOMAIN = 'id.test';
my $VALIDITY = 86400;           # no refresh falls due by itself
my $WAIT_GOOD = 90;             # seconds for every certificate to be good
my $SHOWN_MAX = 20;             # failing hosts' lines shown
my $MKCERTS = "$SGTest::TOP/build/tools/sg_mkcerts";

die "SG_IDENTITY_ROUNDS must be a whole number from 1\n"
    unless $ROUNDS =~ /^[1-9]\d*$/;

my $t = SGTest->new;
my $second = SGTest->new(share => $t);
my $cache = SGCache::start($t, 'redis');
$t->start_responder(mode => 'good', validity => $VALIDITY);

# ---- the PKI: a second intermediate and an RSA responder under it ----
my $pki = $t->pkifile('');
my $LONG = 'Staple Guard Identity Test ' x 2;
system("cd $pki && ("
       . "openssl ecparam -name prime256v1 -genkey -noout -out inter2.key"
       . " && openssl req -new -config ca.cnf -key inter2.key"
       . " -subj '/CN=SG Test Intermediate Two/O=${LONG}CA/OU=${LONG}Issuing'"
       . " -out inter2.csr"
       . " && openssl x509 -req -in inter2.csr -CA root.crt -CAkey root.key"
       . " -set_serial 3 -days 30 -extfile ca.cnf -extensions ca_ext"
       . " -out inter2.crt"
       . " && openssl genrsa -out ocsp2.key 2048"
       . " && openssl req -new -config ca.cnf -key ocsp2.key"
       . " -subj '/CN=SG Test RSA Responder/O=${LONG}OCSP/OU=${LONG}Signing'"
       . " -out ocsp2.csr"
       . " && openssl x509 -req -in ocsp2.csr -CA inter2.crt -CAkey inter2.key"
       . " -set_serial 4 -days 30 -extfile ca.cnf -extensions ocsp_ext"
       . " -out ocsp2.crt && chmod 0644 inter2.key ocsp2.key"
       . ") >/dev/null 2>&1") == 0 or die "cannot make the second CA";

my @GROUPS = (
    { name => 'direct', issuer => 'inter', signer => 'inter', inside => 0 },
    { name => 'delegated', issuer => 'inter', signer => 'ocsp', inside => 1 },
    { name => 'rsa', issuer => 'inter2', signer => 'ocsp2', inside => 1 },
);

my %taken = map { $_ => 1 } ($t->rport, $t->hport, $second->hport, $cache->{port});
sub ports {
    my @p;
    while (@p < $PORTS_PER_GROUP) {
        my $port = SGTest::free_port();
        push @p, $port unless $taken{$port}++;
    }
    return @p;
}

my $many = $t->pkifile('many');
mkdir $many or die "$many: $!";
for my $k (0 .. $#GROUPS) {
    my $g = $GROUPS[$k];
    my @urls = $t->start_responder_on($g->{name}, ports => [ports()],
                                      issuer => $g->{issuer},
                                      signer => $g->{signer},
                                      validity => $VALIDITY);
    system($MKCERTS, '-v', '-f', $k * $PER_GROUP,
           map({ ('-u', $_) } @urls[1 .. $#urls]),
           $t->pkifile("$g->{issuer}.crt"), $t->pkifile("$g->{issuer}.key"),
           $urls[0], $many, $DOMAIN, $PER_GROUP) == 0
        or die "sg_mkcerts failed";
}
my @names = map { "h$_.$DOMAIN" } 0 .. @GROUPS * $PER_GROUP - 1;
my @hosts = ('localhost', @names);
my $N = @hosts;
sub group_of {
    my ($host) = @_;
    return $host =~ /^h(\d+)\./ ? $GROUPS[int($1 / $PER_GROUP)] : undef;
}
# The status page is served on the first host, whose certificate (the
# test PKI's) names localhost, as SGTest::https_get asks.
my @vhosts = ({ name => 'localhost', cert => 'leaf' },
              map { { name => "h$_.$DOMAIN", cert => "many/h$_" } }
                  0 .. $#names);

sub conf {
    my ($s, $conc, $shared) = @_;
    $s->write_conf(
        modules => $shared ? SGCache::load_line('redis') : '',
        global => "StapleGuardFetchConcurrency $conc\n"
                  . 'StapleGuardStoreDir ' . $s->dir . "/store\n"
                  . ($shared ? 'StapleGuardSharedCache '
                               . SGCache::spec($cache) . "\n" : '')
                  . SGTest::status_location('/sg-status',
                                            "    StapleGuardStatusActions On\n"),
        vhosts => \@vhosts);
}

sub json {
    my ($s) = @_;
    my (undef, $body) = $s->https_get('/sg-status?json');
    return eval { decode_json($body) } // {};
}

sub asked {
    my $n = scalar @{$t->requests};
    $n += $t->requests_of($_->{name}) for @GROUPS;
    return $n;
}

# What the status page says: every certificate good. (It said so in the
# bug too: what a client gets is checked next.)
sub all_good {
    my ($s, $label) = @_;
    my $auto = '';
    ok(SGTest::wait_for(sub {
           (undef, $auto) = $s->https_get('/sg-status?auto');
           $auto =~ /^StapleGuardState_good: $N$/m
       }, $WAIT_GOOD), "$label: the status page says all $N good")
        or diag($auto);
}

# One handshake per host: each staple must be its own certificate's,
# verified and good; a delegated signer's certificate is inside; with
# $o{since}, every staple's thisUpdate is at least that (refreshed).
# Returns how many hosts got something else.
my (%lens, @tally);
sub check {
    my ($s, $label, %o) = @_;
    my $r = $s->staple_check(\@hosts);
    my @bad = grep { ($r->{$_}{verdict} // '') ne 'ok' } @hosts;
    push @tally, sprintf('%s: %d of %d wrong', $label, scalar @bad, $N);
    is(scalar @bad, 0, "$label: each of $N hosts staples a verified good "
                       . 'response for its own certificate')
        or diag(join("\n", map { $r->{$_} ? $r->{$_}{line} : "$_: no line" }
                               @bad[0 .. ($#bad < $SHOWN_MAX ? $#bad
                                                   : $SHOWN_MAX - 1)]));
    my @shape = grep {
        my $g = group_of($_);
        $g && ($r->{$_}{verdict} // '') eq 'ok'
           && ($r->{$_}{certs} // '') ne $g->{inside};
    } @hosts;
    is(scalar @shape, 0, "$label: delegated signers' certificates inside, "
                         . 'none in the issuer\'s own')
        or diag(join("\n", map { $r->{$_}{line} } @shape));
    if (defined $o{since}) {
        my @old = grep { ($r->{$_}{this} // 0) !~ /^\d+$/
                         || $r->{$_}{this} < $o{since} } @hosts;
        is(scalar @old, 0, "$label: every staple is the refreshed one")
            or diag(join("\n", map { $r->{$_} ? $r->{$_}{line} : $_ }
                                   @old[0 .. ($#old < $SHOWN_MAX ? $#old
                                                   : $SHOWN_MAX - 1)]));
    }
    $lens{$_->{len}}++ for grep { $_->{verdict} eq 'ok' } values %$r;
    return scalar @bad;
}

sub cold_start {
    my ($conc, $label) = @_;
    $t->stop_httpd;
    system('rm', '-rf', $t->dir . '/store');
    # each start's log alone: a failure shows the start that failed
    truncate($t->dir . '/logs/error.log', 0);
    conf($t, $conc, 0);
    $t->start_httpd;        # returns once the fetcher's first round is done
    all_good($t, $label);
    check($t, $label);
}

my $t0 = time();
for my $conc (@CONCURRENCY) {
    my $c = "concurrency $conc";
    for my $round (1 .. $ROUNDS) {
        cold_start($conc, "$c, cold start" . ($ROUNDS > 1 ? " $round" : ''));
    }

    # A graceful restart lays the carried responses out afresh; the
    # shared cache is configured from here on (emptied first).
    SGCache::flush($cache);
    conf($t, $conc, 1);
    $t->graceful;
    all_good($t, "$c, graceful restart");
    check($t, "$c, graceful restart");

    # Every certificate refreshed at once: responses replaced in place,
    # and published to the cache. thisUpdate has whole seconds: the round
    # starts on a second of its own.
    my $since = int(time()) + 1;
    sleep($since - time());
    my $stamp = strftime('%Y-%m-%dT%H:%M:%SZ', gmtime($since));
    my ($code) = $t->https_request('/sg-status',
                                   data => 'action=refresh&cert=all',
                                   headers => ['X-Staple-Guard-Action: refresh']);
    is($code, 200, "$c: refresh of every certificate asked for");
    my $j = {};
    ok(SGTest::wait_for(sub {
           $j = json($t);
           my @c = @{$j->{certificates} // []};
           my @behind = grep { $_->{state} ne 'good'
                               || ($_->{this_update} // '') lt $stamp } @c;
           @c == $N && !@behind
               && ($j->{shared_cache}{published} // 0) >= $N
       }, $WAIT_GOOD), "$c: every response refreshed and published")
        or diag(JSON::PP->new->canonical->encode($j->{shared_cache} // {}));
    check($t, "$c, refresh round", since => $since);

    # A second server, empty store, takes every response from the cache.
    $second->stop_httpd;
    system('rm', '-rf', $second->dir . '/store');
    truncate($second->dir . '/logs/error.log', 0);
    conf($second, $conc, 1);
    my $n = asked();
    $second->start_httpd;
    all_good($second, "$c, second server from the shared cache");
    is(json($second)->{shared_cache}{hits}, $N,
       "$c: it took all $N responses from the cache");
    check($second, "$c, second server from the shared cache");
    is(asked(), $n, "$c: and asked no responder");
    $second->stop_httpd;
}

my @sizes = sort { $a <=> $b } keys %lens;
cmp_ok(scalar @sizes, '>=', 40, 'the staples came in ' . scalar(@sizes)
       . " sizes, $sizes[0] to $sizes[-1] bytes");
diag(join("\n", @tally, sprintf('%.0f s for all of it', time() - $t0)))
    if $ROUNDS > 1 || !Test::More->builder->is_passing;
done_testing;
