#!/usr/bin/perl
# The status page with many certificates (issue 11): the HTML shows one
# page of rows at a time (?page=N), in the table's order, and a filter
# (?state=...); the summary on top counts all of them whatever the view.
# Every format is written row by row: a request for all rows (?json,
# ?metrics, ?auto) costs the child no memory in proportion to them, which
# its peak resident size (VmHWM) shows.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;

my $CERTS = 500;
my $DEAD_N = 7;                 # with a responder that refuses
my $PAGE = 100;                 # SGH_STATUS_PAGE_ROWS
my $DEAD = 'http://127.0.0.1:9/dead';
# What one request for all rows may add to the child's peak: buffers, not
# rows. Rows kept for the request cost about 2 KiB each (their strings):
# 1,000 kB for 500. Seen: 8-160 kB alone, 264 kB once in the whole suite
# with the other release's run (t/38) beside it; 384 is still well short
# of rows held.
my $PEAK_GROWTH_KB = 384;
my $MKCERTS = "$SGTest::TOP/build/tools/sg_mkcerts";

my $t = SGTest->new;
$t->start_responder(mode => 'good');
my $many = $t->pkifile('many');
mkdir $many or die "$many: $!";
system($MKCERTS, $t->pkifile('inter.crt'), $t->pkifile('inter.key'),
       $t->url, $many, 'many.test', $CERTS) == 0 or die "sg_mkcerts failed";

# Many name-based hosts, as at a hosting provider; one child, so that the
# requests below are all served by the process whose memory is read.
my @vhosts = map {
    { name => "h$_.many.test", cert => "many/h$_",
      extra => $_ < $DEAD_N ? "StapleGuardResponderURL $DEAD\n" : '' }
} 0 .. $CERTS - 1;
$t->write_conf(
    global => "ServerLimit 1\nStartServers 1\nThreadsPerChild 8\n"
              . "MaxRequestWorkers 8\nMinSpareThreads 1\nMaxSpareThreads 8\n"
              . "StapleGuardRetryMin 3600\n"
              . SGTest::status_location('/sg-status'),
    vhosts => \@vhosts);
$t->start_httpd;

# A GET of the status page on the first host (whose name its certificate
# has): (code, body); with head, the response's header lines instead.
my $p = $t->hport;
my $NAME = 'h0.many.test';
sub get {
    my ($path, $head) = @_;
    my $r = $t->curl($path, servername => $NAME, timeout => 30);
    return ($r->{code}, $head ? $r->{head} : $r->{body});
}

my $good = $CERTS - $DEAD_N;
ok(SGTest::wait_for(sub {
       (get('/sg-status?auto'))[1] =~ /^StapleGuardState_good: $good$/m
   }, 60), "$good of $CERTS good")
    or diag((get('/sg-status?auto'))[1]);

# Rows of an HTML page: their subjects, in order.
sub rows {
    my ($body) = @_;
    return $body =~ m{<tr[^>]*><td class="cert"><b>CN=([^<]+)</b>}g;
}

sub html {
    my ($q) = @_;
    my ($code, $body) = get("/sg-status$q");
    return ($code, $body, [rows($body)]);
}

# ---- paging ----
my (%seen, @order);
for my $page (1 .. 5) {
    my ($code, $body, $rows) = html("?page=$page");
    is($code, 200, "page $page answers");
    like($body, qr{<b>$CERTS certificates:</b> <a class="b st-good" href="\?state=good">$good good</a>},
         "page $page: the summary counts all");
    my $want = $page <= 5 ? $PAGE : 0;
    is(scalar @$rows, $want, "page $page: $want rows");
    my $from = ($page - 1) * $PAGE + 1;
    like($body, qr{rows $from&ndash;${\($from + $want - 1)} of $CERTS},
         "page $page: says which rows") if $want;
    push @order, @$rows;
    $seen{$_}++ for @$rows;
}
is(scalar(keys %seen), $CERTS, 'the pages show every certificate');
is(scalar(grep { $_ > 1 } values %seen), 0, '... each once');
my @dead = map { "h$_.many.test" } 0 .. $DEAD_N - 1;
is_deeply([sort @order[0 .. $DEAD_N - 1]], \@dead,
          'those without a response come first');
my ($code, $body, $rows) = html('?page=6');
is(scalar @$rows, 0, 'past the last page: no rows');
like($body, qr{<a href="\?page=5">previous</a>}, '... and a way back');
($code, $body) = html('?page=2');
like($body, qr{<a href="\?page=1">previous</a> <a href="\?page=3">next</a>},
     'a middle page links both ways');
($code, $body, $rows) = html('?page=bogus');
is(scalar @$rows, $PAGE, 'a page that is no number is the first');
is($rows->[0], $order[0], '... from the top');

# ---- filter ----
($code, $body, $rows) = html('?state=no_response_yet');
is($code, 200, 'the filter answers');
is_deeply([sort @$rows], \@dead, '?state=no_response_yet: exactly those');
like($body, qr{<b>$CERTS certificates:</b>}, '... under the summary of all');
like($body, qr{certificates 1&ndash;$DEAD_N of $DEAD_N \(no_response_yet\)},
     '... and says what it shows');
like($body, qr{<a href="\?">all</a>}, '... with the way back to all');
($code, $body, $rows) = html('?state=good&page=5');
is(scalar @$rows, $good - 4 * $PAGE, '?state=good&page=5: the rest of the good');
ok(!grep({ $_ =~ /^h[0-6]\./ } @$rows), '... none of the others');
like($body, qr{<a href="\?state=good&amp;page=4">previous</a>},
     '... its links keep the filter');
($code, $body, $rows) = html('?state=good&page=1');
ok(!grep({ $_ =~ /^h[0-6]\./ } @$rows), '?state=good&page=1: only good ones');
($code, $body, $rows) = html('?state=failing');
is(scalar @$rows, 0, '?state=failing: none');
($code) = html('?state=bogus');
is($code, 400, 'an unknown state is refused');

# ---- memory per request ----
# The fetcher's first round runs in the same child (the dead responder's
# certificates come last): over before the peak is read, so that what
# grows is the status page's, not a fetch thread's.
ok(SGTest::wait_for(sub { $t->error_log =~ /SG0041: background fetcher started/ },
                    60), "the fetcher's first round is over");
my $ppid = $t->httpd_pid;
my @kids = SGTest::children($ppid);
is(scalar @kids, 1, 'one child serves every request');
sub peak_kb {
    return (SGTest::slurp("/proc/$kids[0]/status") =~ /^VmHWM:\s+(\d+)/m)[0];
}
# Warm the child up: connections, TLS, one small page of each kind.
html('?state=no_response_yet') for 1 .. 3;
my $before = peak_kb();
for my $q ('?json', '?metrics', '?auto', '?page=3') {
    my ($c, $b) = get("/sg-status$q");
    is($c, 200, "$q answers");
    my $n = () = $b =~ /h\d+\.many\.test/g;
    cmp_ok($n, '>=', $q eq '?page=3' ? $PAGE : $CERTS, "$q has the rows");
}
my $growth = peak_kb() - $before;
SKIP: {
    # AddressSanitizer keeps freed memory aside (its quarantine) rather
    # than reuse it, so the peak grows with what was ever allocated, not
    # with what was held at once: measured 3096 kB here under SG_ASAN.
    skip 'the peak is not a measure under AddressSanitizer', 1
        if $SGTest::ASAN;
    cmp_ok($growth, '<', $PEAK_GROWTH_KB,
           "all rows of $CERTS certificates raised the child's peak by "
           . "$growth kB, not in proportion to them");
}

# No length is announced. This passes for a page built whole in memory
# too (httpd chunks any large answer); what tells streaming apart is the
# peak above, which the old, buffering code failed (480 kB against 96).
my (undef, $head) = get('/sg-status?json', 1);
like($head, qr/^transfer-encoding: chunked\r?$/mi,
     '?json is sent chunked (not by itself proof of streaming)');
unlike($head, qr/^content-length:/mi, '... without a length');

$t->stop_httpd;
done_testing;
