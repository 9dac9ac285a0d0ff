#!/usr/bin/perl
# A shared cache that cannot be initialised at startup (issue 11, "bad
# input"): one error line (SG0073), the server starts and staples alone,
# and the status page says the cache is unavailable. Debian's socache
# providers never fail in init, so the provider here is a test module
# whose init always does (t/tools/mod_sg_failcache.c).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;

my $FAILCACHE = "$SGTest::TOP/build/tools/mod_sg_failcache.so";
-r $FAILCACHE or BAIL_OUT("$FAILCACHE is not built (make tools)");

my $t = SGTest->new;
$t->start_responder(mode => 'good');
$t->write_conf(global => "LoadModule sg_failcache_module $FAILCACHE\n"
                         . "StapleGuardSharedCache sgfail:nowhere\n"
                         . SGTest::status_location('/sg-status'));
my ($rc, $out) = $t->apache('-t');
is($rc, 0, 'apache2 -t takes a loaded provider') or diag($out);

$t->start_httpd;
my $r = $t->s_client;
ok($r->{stapled} && ($r->{cert_status} // '') eq 'good',
   'the server staples on its own');
my @lines = ($t->error_log =~ /^.*SG0073.*$/mg);
is(scalar @lines, 1, 'one SG0073 line');
like($lines[0] // '', qr/SG0073: the shared cache sgfail:nowhere cannot be initialised; this server works alone/,
     'naming the cache and saying the server works alone');
like($lines[0] // '', qr/\[staple_guard:error\]/, 'at level error');
my (undef, $auto) = $t->https_get('/sg-status?auto');
like($auto, qr/^StapleGuardSharedCache: unavailable$/m,
     'the status page says the cache is unavailable');

# A graceful restart tries again, and says so once more.
$t->graceful;
@lines = ($t->error_log =~ /SG0073/g);
is(scalar @lines, 2, 'tried again at the graceful restart: one line more');
$r = $t->s_client;
ok($r->{stapled}, 'still stapling after the restart');
$t->stop_httpd;
done_testing;
