#!/usr/bin/perl
# The shared cache (StapleGuardSharedCache) with real redis-server and
# memcached and two httpd servers sharing them: the second server staples
# its first handshake from the cache without a responder request; poisoned
# entries written straight into the cache are never stapled, are logged
# once and are replaced by the next good fetch; the cache killed and
# restarted, or frozen, changes nothing a client sees and is said once when
# sharing stops and once when it resumes; bad directives fail apache2 -t.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
use SGCache;
BEGIN { SGTest::enter_netns() }
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep time);

use constant RESPONSE_MAX => 16384;     # SG_RESPONSE_MAX

my $a = SGTest->new;
my $b = SGTest->new(share => $a);
my %cache = (redis => SGCache::start($a, 'redis'),
             memcache => SGCache::start($a, 'memcache'));
$a->start_responder(mode => 'good', validity => 3600);
my $key = SGCache::key($a, 'leaf');

sub asked { scalar @{$a->requests} }
sub count_log { my ($t, $re) = @_; my @m = $t->error_log =~ /$re/g; scalar @m }
sub stored { my ($t) = @_;
             $t->store_decode(SGTest::slurp($t->dir . '/store/'
                                            . $t->store_name('leaf'))) }
sub conf {
    my ($t, $spec, $extra) = @_;
    $t->write_conf(
        modules => SGCache::load_line('redis') . SGCache::load_line('memcache'),
        global => "StapleGuardSharedCache $spec\n"
                  . "StapleGuardStoreDir " . $t->dir . "/store\n"
                  . "StapleGuardRetryMin 1\n" . ($extra // '')
                  . SGTest::status_location('/sg-status',
                                            "    StapleGuardStatusActions On\n"));
}
# A server with nothing of its own: no store, an empty log.
sub fresh {
    my ($t) = @_;
    $t->stop_httpd;
    system('rm', '-rf', $t->dir . '/store');
    truncate($t->dir . '/logs/error.log', 0);
}
sub shared_json {
    my ($t) = @_;
    my ($code, $body) = $t->https_get('/sg-status?json');
    return (eval { decode_json($body) } // {})->{shared_cache} // {};
}

# ---- A warm fleet: the second server asks no responder ----
for my $kind (qw(redis memcache)) {
    my $c = $cache{$kind};
    SGCache::flush($c);
    for my $t ($a, $b) { fresh($t); conf($t, SGCache::spec($c)) }
    my $n0 = asked();
    $a->start_httpd;
    ok($a->s_client->{stapled}, "$kind: the first server staples");
    my $n = asked();
    is($n - $n0, 1, "$kind: it asked the responder once");
    my $v = SGCache::get($c, $key);
    ok(defined $v && $v eq stored($a),
       "$kind: it published its response under <prefix>:<certificate hash>");
    $b->start_httpd(no_fetch_wait => 1);
    my $first = $b->s_client;
    ok($first->{stapled} && $first->{cert_status} eq 'good',
       "$kind: the second server's first handshake is stapled");
    is($b->curl_status, 0, "$kind: with a valid staple (curl --cert-status)");
    SGTest::wait_for(sub { $b->count_fetcher_started > 0 }, 30);
    is(asked(), $n, "$kind: and no responder request came from it");
    like($b->error_log, qr/SG0023: CN=localhost: response from shared kept/,
         "$kind: it says where the response came from");
    is(stored($b), $v, "$kind: and kept it in its own store");
    my $j = shared_json($b);
    is_deeply([@$j{qw(provider state hits)}], [$kind, 'up', 1],
              "$kind: its status page shows the cache up, one hit");
    my (undef, $auto) = $b->https_get('/sg-status?auto');
    like($auto, qr/^StapleGuardSharedCache: up\nStapleGuardSharedCache_hits: 1\n/m,
         "$kind: so does ?auto");
    my (undef, $html) = $b->https_get('/sg-status');
    like($html, qr/<h2>Shared cache<\/h2>\n<p>$kind 127\.0\.0\.1:$c->{port} \(prefix sg1\): <b>up<\/b>/,
         "$kind: and the HTML page");
    my (undef, $prom) = $b->https_get('/sg-status?metrics');
    my $f = $b->write_file('metrics.txt', $prom);
    my $lint = `promtool check metrics < $f 2>&1`;
    ok($? == 0 && $prom =~ /^staple_guard_shared_cache_up\{provider="$kind",address="127\.0\.0\.1:$c->{port}"\} 1$/m
       && $prom =~ /^staple_guard_shared_cache_total\{result="hits"\} 1$/m,
       "$kind: and ?metrics, which promtool accepts") or diag($lint);
}

# ---- Poisoned entries (redis): never stapled, said once, replaced ----
my $r = $cache{redis};
for my $t ($a, $b) { fresh($t); conf($t, SGCache::spec($r)) }
SGCache::flush($r);
$a->start_httpd;
my $good = stored($a);
my $dir = $a->dir;
$a->fetch_der('ms', "$dir/ms.der") or die;
$a->set_mode('expired');
$a->fetch_der('leaf', "$dir/expired.der") or die;
$a->set_mode('good');
my $badsig = $good;
substr($badsig, -6, 1) = chr(ord(substr($badsig, -6, 1)) ^ 0x55);
my %poison = (
    "another certificate's response" => SGTest::slurp("$dir/ms.der"),
    'a bad signature' => $badsig,
    'an expired response' => SGTest::slurp("$dir/expired.der"),
    'random bytes' => join('', map { chr(int(rand(256))) } 1 .. 900),
    'an oversized value' => 'x' x (RESPONSE_MAX + 1),
);
for my $what (sort keys %poison) {
    fresh($b);
    ok(SGCache::set($r, $key, $poison{$what}), "$what: planted");
    my $n = asked();
    $b->start_httpd;
    is($b->curl_status, 0, "$what: never stapled, the staple is valid");
    is(asked(), $n + 1, "$what: the server asked the responder instead");
    is(count_log($b, qr/SG0070: CN=localhost: the shared cache's entry/), 1,
       "$what: said once (SG0070)");
    my $now = SGCache::get($r, $key);
    ok(defined $now && $now ne $poison{$what} && $now eq stored($b),
       "$what: replaced by the good fetch");
    # read twice: at startup, and by the fetcher before it asked
    ok(shared_json($b)->{refused} >= 1, "$what: counted as refused");
}

# An older response than the one held: refused at a refresh.
fresh($b);
SGCache::flush($r);
$a->fetch_der('leaf', "$dir/older.der") or die;
sleep(1.1);                                 # thisUpdate counts seconds
$b->start_httpd;
my $held = stored($b);
ok(SGCache::set($r, $key, SGTest::slurp("$dir/older.der")), 'older: planted');
my $n = asked();
$b->https_request('/sg-status', data => 'action=refresh&cert=all',
                  headers => ['X-Staple-Guard-Action: refresh']);
SGTest::wait_for(sub { asked() > $n }, 20);
SGTest::wait_for(sub { count_log($b, qr/SG0070: /) }, 10);
like($b->error_log, qr/SG0070: CN=localhost: .*older than the one already held/,
     'older: refused as older than the one held (SG0070)');
is($b->curl_status, 0, 'older: the staple stays valid');
isnt(SGCache::get($r, $key), SGTest::slurp("$dir/older.der"),
     'older: replaced by the good fetch');

# ---- The cache killed and restarted mid-run (redis) ----
# Responses valid 16 s: each server refreshes every 8 s or so.
$a->stop_responder;
$a->start_responder(mode => 'good', validity => 16);
for my $t ($a, $b) { fresh($t) }
SGCache::flush($r);
$a->start_httpd;
$b->start_httpd;
my ($tries, $fails) = (0, 0);
my $probe = sub {
    for my $t ($a, $b) { $tries++; $fails++ if $t->curl_status != 0 }
};
my $both = sub { my $re = shift;
                 sub { $probe->(); count_log($a, $re) && count_log($b, $re) } };
SGCache::stop($a, $r);
ok(SGTest::wait_for($both->(qr/SG0071: shared cache redis:/), 40),
   'killed: both servers say sharing stops (SG0071)');
$r = $cache{redis} = SGCache::start($a, 'redis', port => $r->{port});
ok(SGTest::wait_for($both->(qr/SG0072: shared cache redis:/), 40),
   'restarted: both servers say sharing resumes (SG0072)');
$probe->() for 1 .. 3;
is($fails, 0, "clients saw a valid staple throughout ($tries handshakes)");
for my $t ($a, $b) {
    is(count_log($t, qr/SG0071: /), 1, 'sharing stops: said once');
    is(count_log($t, qr/SG0072: /), 1, 'sharing resumes: said once');
}
ok(defined SGCache::get($r, $key), 'the restarted cache is filled again');

# ---- A frozen cache (memcached stopped with SIGSTOP) ----
# apr_memcache waits for an answer without limit: the call must be left
# behind after StapleGuardSharedCacheTimeout, the start not held.
$a->stop_httpd;
my $mc = $cache{memcache};
fresh($b);
conf($b, SGCache::spec($mc), "StapleGuardSharedCacheTimeout 1\n");
kill('STOP', $mc->{pid});
my $t0 = time();
$b->start_httpd(no_fetch_wait => 1);
my $took = time() - $t0;
# one call left behind (StapleGuardSharedCacheTimeout 1 s), then none
ok($took < 4, sprintf('frozen: the start took %.1f s', $took));
SGTest::wait_for(sub { $b->curl_status == 0 }, 30);
is($b->curl_status, 0, 'frozen: the server staples from its own fetch');
like($b->error_log, qr/SG0071: shared cache memcache:.*no answer within/,
     'frozen: sharing stops, no answer in time (SG0071)');
# The parent's call left behind was ended: a restart unloads the provider.
$b->graceful;
is($b->curl_status, 0, 'frozen: a graceful restart, still stapled');
kill('CONT', $mc->{pid});

# ---- Nothing listening at startup: one line, the server works alone ----
fresh($b);
conf($b, 'redis:127.0.0.1:' . SGTest::free_port());
$b->start_httpd;
is($b->curl_status, 0, 'no cache server: stapled from its own fetch');
is(count_log($b, qr/SG0071: /), 1, 'no cache server: said once (SG0071)');
is(shared_json($b)->{state}, 'down', 'no cache server: the page says down');
$b->stop_httpd;

# ---- Bad input: refused at apache2 -t, naming what is wrong ----
my %bad = (
    'foo:127.0.0.1:1' => [qr/no socache provider 'foo' is loaded/, 1],
    'redis:127.0.0.1:port' => [qr/the redis address .* is not host:port/, 1],
    'redis:' => [qr/is not provider:address/, 1],
    'memcache:127.0.0.1' => [qr/is not host:port/, 1],
    'redis:127.0.0.1:6379 bad/prefix' => [qr/the prefix 'bad\/prefix'/, 1],
    'shmcb:/tmp/x(512000)' => [qr/'shmcb' is local to one server/, 1],
    'redis:127.0.0.1:6379' => [qr/no socache provider 'redis' is loaded.*LoadModule socache_redis_module/, 0],
);
for my $spec (sort keys %bad) {
    my ($re, $loaded) = @{$bad{$spec}};
    $b->write_conf(
        modules => $loaded ? SGCache::load_line('redis')
                             . SGCache::load_line('memcache') : '',
        global => "StapleGuardSharedCache $spec\n");
    my ($rc, $out) = $b->apache('-t');
    ok($rc != 0 && $out =~ /StapleGuardSharedCache: / && $out =~ $re,
       "apache2 -t refuses '$spec'" . ($loaded ? '' : ' without its module'))
        or diag($out);
}

done_testing;
