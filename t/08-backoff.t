#!/usr/bin/perl
# The request times a failing responder sees follow the configured backoff:
# RetryMin, doubling up to RetryMax, each spread by +-25%; and after the
# first error answer to a GET, only POSTs (CDNs cache GETs).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;

my ($min, $max) = (1, 8);
my @expected = (1, 2, 4, 8, 8);
my $t = SGTest->new;
$t->start_responder(mode => 'status 6');
$t->write_conf(global => "StapleGuardRetryMin $min\nStapleGuardRetryMax $max\n");
$t->start_httpd;
my $total = 0;
$total += $_ * 1.25 + 1 for @expected;
SGTest::wait_for(sub { @{$t->requests} > @expected }, $total + 5);
my @req = @{$t->requests};
ok(@req > @expected, scalar(@req) . ' requests seen');
for my $i (0 .. $#expected) {
    my $gap = $req[$i + 1][0] - $req[$i][0];
    my $e = $expected[$i];
    # +-25% jitter; the watchdog looks once a second, so up to 1 s later.
    ok($gap >= 0.75 * $e - 0.1 && $gap <= 1.25 * $e + 1.1,
       sprintf('retry %d came %.2f s after the one before (expected %d s +-25%%)',
               $i + 1, $gap, $e));
}
is($req[0][1], 'GET', 'the first request is a GET');
is(scalar(grep { $_->[1] ne 'POST' } @req[1 .. $#req]), 0,
   'after the error answer, only POSTs');
my @lines = ($t->error_log =~ /staple_guard:(?:error|crit).*SG0115/g);
is(scalar @lines, 1, scalar(@req) . ' failed attempts, one error line');

# Success resets the backoff and goes back to GET.
$t->set_mode('good');
ok(SGTest::wait_for(sub { $t->s_client->{stapled} }, $max * 1.25 + 3),
   'stapled once the responder answers');
$t->stop_httpd;
done_testing;
