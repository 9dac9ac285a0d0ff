#!/usr/bin/perl
# The HTML status page in a real browser (Debian's chromium, headless):
# certificates in five states, the one-line summary counts them, those
# that need attention come first, each state is named in words, and the
# page renders at 1280x900. One DOM dump and one screenshot: chromium is
# slow to start. Without chromium this test fails (scripts/deps.sh).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;

my ($WIDTH, $HEIGHT) = (1280, 900);
my $DEAD = 'http://127.0.0.1:9/dead';    # the discard port: refused

my $chromium = `sh -c 'command -v chromium'`;
if (!ok($chromium, 'chromium is installed (scripts/deps.sh)')) {
    done_testing;
    exit 1;
}

my $t = SGTest->new;
$t->issue_cert('failing', cn => 'failing.localhost');

# "failing" needs a good response held and a responder that fails: plant
# one in the store, made 10 minutes ago ("old") and valid 5 more, so
# that its refresh (half its time) was due before the start; its
# responder is dead.
my $store = $t->dir . '/store';
my $der = $t->dir . '/failing.der';
$t->start_responder(mode => 'old', validity => 300);
ok($t->fetch_der('failing', $der), 'a response to plant in the store');
$t->stop_responder;
mkdir $store, 0700 or die "$store: $!";
my $planted = "$store/" . $t->store_name('failing');
$t->write_file($planted, $t->store_encode('failing', SGTest::slurp($der)));
if ($> == 0) {
    my ($uid, $gid) = (getpwnam('nobody'))[2, 3];
    chown $uid, $gid, $store, $planted;
}
chmod 0600, $planted;

$t->start_openssl_ocsp;     # good and revoked, as the CA's index says
# in an order unlike the page's, so that the page's order is its own
$t->write_conf(
    global => "StapleGuardStoreDir $store\nStapleGuardRetryMin 1\n"
              . SGTest::status_location('/sg-status'),
    vhosts => [
        { name => 'localhost', cert => 'leaf' },
        { name => 'no-ocsp.localhost', cert => 'noocsp' },
        { name => 'failing.localhost', cert => 'failing',
          extra => "StapleGuardResponderURL $DEAD" },
        { name => 'revoked.localhost', cert => 'revoked' },
        { name => 'must-staple.localhost', cert => 'ms',
          extra => "StapleGuardResponderURL $DEAD" },
    ]);
$t->start_httpd;
# The planted response's refresh (RetryMin, a second) fails: failing.
ok(SGTest::wait_for(sub {
       ($t->https_get('/sg-status?auto'))[1] =~ /^StapleGuardState_failing: 1$/m
   }, 15), 'the planted response is held and its refresh failed')
    or diag(($t->https_get('/sg-status?auto'))[1]);

# The DOM as chromium built it, reduced to its text.
my ($done, $dom) = $t->chromium($t->https_url('/sg-status'), '--dump-dom');
ok($done, 'chromium dumped the page in time')
    or diag(SGTest::slurp($t->dir . '/logs/chromium.err'));
like($dom, qr/<table/, 'the DOM has the table') or diag($dom);
(my $text = $dom) =~ s/<style.*?<\/style>//gs;
$text =~ s/<(?:br|\/?(?:t[dhr]|p|h1|table))\b[^>]*>/ /g;   # blocks and breaks
$text =~ s/<[^>]*>//g;
$text =~ s/&amp;/&/g;
$text =~ s/\s+/ /g;
like($text, qr/5 certificates: 1 good, 1 failing, 0 expired, 1 revoked, 1 at risk, 1 no OCSP URL, 1 no response yet\b/,
     'the summary counts each state, and at risk')
    or diag($text);

# The rows, in the order the browser shows them: the subject opens each.
my @order = $text =~ /\b(CN=[\w.-]+) (?:Must-Staple )?serial /g;
is_deeply(\@order, ['CN=must-staple.localhost', 'CN=revoked.localhost',
                    'CN=failing.localhost', 'CN=localhost',
                    'CN=no-ocsp.localhost'],
          'attention first: at risk, revoked, failing, then good, then no URL');
for (['must-staple\.localhost', 'no response yet at risk'],
     ['revoked\.localhost', 'revoked'], ['failing\.localhost', 'failing'],
     ['localhost', 'good'], ['no-ocsp\.localhost', 'no OCSP URL']) {
    my ($cn, $words) = @$_;
    # within the row: no other row's "serial" between
    like($text, qr/\bCN=$cn (?:Must-Staple )?serial (?:(?! serial ).)*? \Q$words\E response: /,
         "CN=$cn: the state in words ($words)");
}
my @attn = $dom =~ /<tr class="attn">/g;
is(scalar @attn, 3, 'three rows are marked for attention (colour)');
like($dom, qr/class="b st-revoked">revoked</, 'a state has its colour class');
like($dom, qr/class="b risk">at risk</, 'at risk has its own');
unlike($dom, qr/<(?:script|link|img|iframe)\b|\bsrc=|url\(/i,
       'nothing loaded from elsewhere, no script');

# A screenshot at 1280x900: a PNG of that size.
my $png = $t->dir . '/status-page.png';
($done) = $t->chromium($t->https_url('/sg-status'), "--screenshot=$png",
                       "--window-size=$WIDTH,$HEIGHT", '--hide-scrollbars');
ok($done && -s $png, 'chromium took a screenshot');
my $head = substr(SGTest::slurp($png), 0, 24);
is(substr($head, 0, 8), "\x89PNG\r\n\x1a\n", 'it is a PNG');
is_deeply([unpack('NN', substr($head, 16, 8))], [$WIDTH, $HEIGHT],
          "of ${WIDTH}x$HEIGHT");
if ($ENV{SG_SCREENSHOT}) {      # to refresh docs/status-page.png
    system('cp', $png, $ENV{SG_SCREENSHOT}) == 0 or diag("cp: $?");
}
$t->stop_httpd;
done_testing;
