#!/usr/bin/perl
# A responder that refuses GET (HTTP 400, or a page in its place) is asked
# with POST in the same attempt, at once: the first staple after a cold
# start comes with the first round, not at the next attempt a minute
# later. The log line says POST answered, and why GET did not.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;

my $t = SGTest->new;
$t->start_responder(mode => 'get400');
# No store: every start is cold. The retry after a failed attempt would
# be a minute away (StapleGuardRetryMin's default), far past the checks.
$t->write_conf(global => "StapleGuardStoreDir none\n");

for my $case (['get400', 'http-status', 'HTTP 400'],
              ['gethtml', 'content-type', 'an HTML page']) {
    my ($mode, $why, $what) = @$case;
    $t->set_mode($mode);
    truncate($t->dir . '/logs/error.log', 0);
    my $before = @{$t->requests};
    $t->start_httpd;        # returns once the fetcher's first round is done
    my $r = $t->s_client;
    ok($r->{stapled}, "GET answered with $what: stapled after the first round");
    is($r->{cert_status}, 'good', "GET answered with $what: the staple says good");
    is($t->curl_status, 0, "GET answered with $what: curl --cert-status accepts it");
    my @asked = map { $_->[1] } @{$t->requests}[$before .. $#{$t->requests}];
    is_deeply([@asked[0, 1]], ['GET', 'POST'],
              "GET answered with $what: the same URL asked with POST next")
        or diag("requests: @asked");
    my $log = $t->error_log;
    like($log, qr/SG0020: CN=localhost: good response from \S+ \([^;]*; POST after GET got \Q$why\E/,
         "GET answered with $what: the log line names POST, and GET's $why");
    unlike($log, qr/SG010[56]: CN=localhost/,
           "GET answered with $what: no failed attempt before the staple");
    $t->stop_httpd;
}

# A responder that answers GET: GET, and the log says so.
$t->set_mode('good');
truncate($t->dir . '/logs/error.log', 0);
my $before = @{$t->requests};
$t->start_httpd;
ok($t->s_client->{stapled}, 'GET answered: stapled');
is_deeply([map { $_->[1] } @{$t->requests}[$before .. $#{$t->requests}]], ['GET'],
          'GET answered: one GET, no POST');
like($t->error_log, qr/SG0020: CN=localhost: good response from \S+ \([^;]*; GET\)/,
     'GET answered: the log line names GET');
$t->stop_httpd;
done_testing;
