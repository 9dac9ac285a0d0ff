#!/usr/bin/perl
# kill -9 of the whole server while it refreshes every second never leaves
# a damaged store file: the file is replaced by rename, or not at all.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;
use Time::HiRes qw(sleep);

my $kills = 10;
my $t = SGTest->new;
my $store = $t->dir . '/store';
my $file = "$store/" . $t->store_name('leaf');
$t->start_responder(mode => 'good', validity => 8);
$t->write_conf(global => <<"EOF");
StapleGuardStoreDir $store
StapleGuardRefreshAt 10
StapleGuardRetryMin 1
EOF
my ($intact, $stapled) = (0, 0);
for my $i (1 .. $kills) {
    $t->start_httpd;
    $stapled++ if $t->s_client->{stapled};
    sleep(1 + rand(3));
    my $pid = $t->httpd_pid;
    kill('KILL', -$pid);    # the parent and every child, mid-refresh or not
    SGTest::wait_for(sub { !kill(0, $pid) }, 10);
    $t->untrack_httpd;
    unlink $t->dir . '/run/httpd.pid';
    $intact++ if defined $t->store_decode(SGTest::slurp($file));
}
my $writes = scalar @{$t->requests};
ok($writes > $kills, "the server refreshed $writes times between kills");
is($intact, $kills, "after each of $kills kill -9, the store file is intact");
is($stapled, $kills, 'and each start stapled');
opendir(my $dh, $store);
my @left = grep { /\.tmp\./ } readdir $dh;
ok(@left <= 1, 'at most one temporary file left behind (' . scalar(@left)
   . '), and it is replaced on the next write');
$t->start_httpd;
ok($t->s_client->{stapled}, 'a clean start after all that staples');
$t->stop_httpd;
done_testing;
