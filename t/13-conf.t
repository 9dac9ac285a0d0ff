#!/usr/bin/perl
# The shipped a2enmod files work as they are: conf/staple_guard.load with
# the module path replaced by the built one, conf/staple_guard.conf as is
# (its store directory moved into the test directory).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;

my $t = SGTest->new;
my $load = SGTest::slurp("$SGTest::TOP/conf/staple_guard.load");
like($load, qr{^LoadModule staple_guard_module /usr/lib/apache2/modules/mod_staple_guard\.so$}m,
     'the .load file points where make install puts the module');
$load =~ s{/usr/lib/apache2/modules/mod_staple_guard\.so}{$SGTest::MODULE};
my $conf = SGTest::slurp("$SGTest::TOP/conf/staple_guard.conf");
my $store = $t->dir . '/var-lib-staple-guard';
$conf =~ s{/var/lib/apache2/staple-guard}{$store};
$t->write_file('staple_guard.load', $load);
$t->write_file('staple_guard.conf', $conf);
$t->start_responder(mode => 'good');
$t->write_conf(no_module => 1, loglevel => 'info ssl:warn',
               modules => 'Include ' . $t->dir . "/staple_guard.load\n",
               global => 'Include ' . $t->dir . "/staple_guard.conf\n");
my ($rc, $out) = $t->apache('-t');
is($rc, 0, 'apache2 -t accepts the shipped configuration') or diag($out);
$t->start_httpd;
ok($t->s_client->{stapled}, 'stapled with the shipped configuration');
ok(-d $store, 'the store directory of the shipped configuration is used');
my (undef, $auto) = $t->https_get('/staple-status?auto');
like($auto, qr/^StapleGuardState_good: 1$/m, 'the status page answers local requests');
$t->stop_httpd;
done_testing;
