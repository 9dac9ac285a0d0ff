#!/usr/bin/perl
# Refresh now, from the status page: a POST where StapleGuardStatusActions
# is On makes the fetcher ask the responder at its next look (seen at the
# responder), whatever the schedule says; a GET with an action (405), a
# POST where actions are off (403), an unknown certificate (404) schedule
# nothing. Only requests no web page of another site can make are taken:
# with the module's header (X-Staple-Guard-Action: refresh), or from the
# page's own origin; a cross-site POST, or one that says nothing of where
# it comes from (a plain `curl -d`), gets 403 and SG0063 - tried with
# curl and with a real browser (chromium, headless).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;
use JSON::PP;
use Time::HiRes qw(sleep);

my $t = SGTest->new;
# A day of validity: no refresh is due during the test on its own.
$t->start_responder(mode => 'good', validity => 86400);
$t->write_conf(
    global => SGTest::status_location('/sg-status',
                                      "    StapleGuardStatusActions On\n")
              . SGTest::status_location('/sg-off'),
    vhosts => [
        { name => 'localhost', cert => 'leaf' },
        { name => 'must-staple.localhost', cert => 'ms' },
        { name => 'no-ocsp.localhost', cert => 'noocsp' },
    ]);
$t->start_httpd;

my $leaf = unpack('H*', $t->cert_hash('leaf'));
my $noocsp = unpack('H*', $t->cert_hash('noocsp'));
sub count { scalar @{$t->requests} }
sub asked { () = $t->error_log =~ /SG0060: /g }
sub refused { () = $t->error_log =~ /SG0063: /g }

# A POST as a script sends it: with the module's header unless told.
my $MINE = 'X-Staple-Guard-Action: refresh';
sub post {
    my ($path, $data, @headers) = @_;
    return $t->https_request($path, data => $data,
                             headers => @headers ? \@headers : [$MINE]);
}

# Nothing is due: the count stays put while nothing is asked.
my $n0 = count();
is($n0, 2, 'one fetch per certificate with a URL at the start');

# The id as the page shows it.
my ($code, $body) = $t->https_get('/sg-status?json');
my %shown = map { $_->{subject} => $_->{sha256} }
            @{(eval { decode_json($body) } // {})->{certificates} // []};
is($shown{'CN=localhost'}, $leaf, 'the page shows the id the form takes');

# Refused, each with its status and a reason; nothing scheduled.
my $type;
($code, $body) = $t->https_request("/sg-status?action=refresh&cert=$leaf",
                                   method => 'GET');
is($code, 405, 'a GET with an action: 405');
($code, $body) = post('/sg-off', "action=refresh&cert=$leaf");
is($code, 403, 'actions not enabled: 403');
like($body, qr/StapleGuardStatusActions/, '... naming the directive');
($code, $body) = post('/sg-status', 'action=refresh&cert=' . ('ab' x 32));
is($code, 404, 'an unknown id: 404');
like($body, qr/no certificate abab/, '... naming it');
($code, $body) = post('/sg-status', "action=refresh&cert=$noocsp");
is($code, 409, 'a certificate without a URL: 409');
($code, $body) = post('/sg-status', "action=drop&cert=all");
is($code, 400, 'an unknown action: 400');

# Requests a web page of another site can make: refused, and said once.
# First a real one: a page at https://localhost:P (another site to the
# browser than 127.0.0.1) that POSTs the form in a way needing no CORS
# preflight. The browser sends it; the page cannot read the answer.
my $own_ip = 'https://127.0.0.1:' . $t->hport;
sub page {
    my ($name, $to) = @_;
    $t->write_file("htdocs/$name.html", <<"EOF");
<!DOCTYPE html><html><body><p id="r">pending</p><script>
var x = new XMLHttpRequest(), r = document.getElementById('r');
try {
  x.open('POST', '$to', false);
  x.setRequestHeader('Content-Type', 'application/x-www-form-urlencoded');
  x.send('action=refresh&cert=all');
  r.textContent = 'answered ' + x.status + ': ' + x.responseText;
} catch (e) { r.textContent = 'not readable: ' + e.name; }
</script></body></html>
EOF
    return $name;
}
my ($done, $dom) = $t->chromium('https://localhost:' . $t->hport . '/'
                                . page('other-site', "$own_ip/sg-status")
                                . '.html', '--dump-dom');
ok($done && $dom =~ /not readable/, 'a page of another site POSTs the form (the browser hides the answer)')
    or diag($dom);
my ($line) = SGTest::wait_for(sub { refused() }, 3) && $t->error_log =~ /(SG0063: .*)/;
like($line // '', qr/SG0063: refused an action from 127\.0\.0\.1 at the status page \/sg-status: the browser says another site sent it \(Sec-Fetch-Site: cross-site\); nothing is scheduled \(a script sends X-Staple-Guard-Action: refresh; 0 more refused since the last line\)/,
     'SG0063 names the client, the page and why');

# The same with curl, every way a page could be told apart.
my $own = 'https://localhost:' . $t->hport;
for my $case (
    ['a cross-site Origin', qr/another origin \(Origin: https:\/\/evil\.example, not \Q$own\E\)/,
     'Origin: https://evil.example'],
    ['another port is another origin', qr/another origin/,
     'Origin: https://localhost:1'],
    ['Origin: null (a sandboxed page)', qr/another origin/, 'Origin: null'],
    ['Sec-Fetch-Site: cross-site', qr/Sec-Fetch-Site: cross-site/,
     'Sec-Fetch-Site: cross-site'],
    ['Sec-Fetch-Site: same-site, Origin our own', qr/Sec-Fetch-Site: same-site/,
     'Sec-Fetch-Site: same-site', "Origin: $own"],
    ['the module header with another value', qr/neither/,
     'X-Staple-Guard-Action: yes'],
    ['no header and no Origin (curl -d)', qr/neither X-Staple-Guard-Action nor Origin/,
     'Accept: */*']) {
    my ($what, $why, @headers) = @$case;
    ($code, $body) = post('/sg-status', 'action=refresh&cert=all', @headers);
    is($code, 403, "$what: 403");
    like($body, qr/^refused: .*$why.*; send the header X-Staple-Guard-Action: refresh$/m,
         '... saying why, and what to send');
}
# once per minute per child: each child said it once at most
my @by = $t->error_log =~ /\[pid (\d+):tid \d+\] SG0063: /g;
my %by;
$by{$_}++ for @by;
is_deeply([grep { $by{$_} > 1 } keys %by], [],
          sprintf('SG0063 is rate-limited: %d lines from %d children for 8 refusals',
                  scalar @by, scalar keys %by));
sleep 2.5;      # the fetcher looked at least twice meanwhile
is(count(), $n0, 'none of those scheduled a fetch: the responder was not asked');
is(asked(), 0, 'nor logged a request (SG0060)');

# One certificate, answered in JSON; seen at the responder within ~2 s.
($code, $body, $type) = post('/sg-status?json', "action=refresh&cert=$leaf");
is($code, 200, 'refresh one: 200');
like($type, qr{^application/json}, '... in JSON when asked');
is((eval { decode_json($body) } // {})->{scheduled}, 1, '... one scheduled');
my $ok = SGTest::wait_for(sub { count() > $n0 }, 3);
ok($ok, 'the responder was asked within 3 s');
sleep 1.5;
is(count(), $n0 + 1, 'exactly once');
like($t->error_log, qr/SG0060: refresh requested from the status page for 1 certificates by 127\.0\.0\.1/,
     'SG0060 names the count and the client');

# All, in text (upper-case id works too: it is compared as hex).
($code, $body, $type) = post('/sg-status', 'action=refresh&cert=all',
                             "Origin: $own");
is($code, 200, 'refresh all, from the page\'s own origin (no header): 200');
like($type, qr{^text/plain}, '... in text');
like($body, qr/refresh scheduled for 2 certificates/, '... both with a URL');
ok(SGTest::wait_for(sub { count() >= $n0 + 3 }, 3),
   'both were fetched within 3 s');
($code) = post('/sg-status', 'action=refresh&cert=' . uc $leaf,
               'Sec-Fetch-Site: same-origin', "Origin: $own");
is($code, 200, 'the id is taken in upper case too (Sec-Fetch-Site: same-origin)');
ok(SGTest::wait_for(sub { count() >= $n0 + 4 }, 3), 'and fetched');
is(asked(), 3, 'one SG0060 per accepted request');

# A failure puts the next attempt StapleGuardRetryMin (60 s) away; a
# request is fetched now all the same.
$t->set_mode('garbage');
post('/sg-status', "action=refresh&cert=$leaf");
ok(SGTest::wait_for(sub { $t->error_log =~ /CN=localhost: http\S+: .*attempt 1, next/ }, 3),
   'a refresh that fails backs off');
my $n1 = count();
post('/sg-status', "action=refresh&cert=$leaf");
ok(SGTest::wait_for(sub { count() > $n1 }, 3),
   'and a request is fetched at once, whatever the backoff says');
$t->set_mode('good');
is($t->curl_status, 0, 'handshakes still get a valid staple');

# A page of the server's own origin may POST without the header: the
# browser says where it comes from (Origin, Sec-Fetch-Site: same-origin).
$n1 = count();
($done, $dom) = $t->chromium("$own_ip/" . page('own', '/sg-status')
                             . '.html', '--dump-dom');
like($dom, qr/answered 200: refresh scheduled for 2 certificates/,
     'a page of the same origin: 200, and it reads the answer');
ok(SGTest::wait_for(sub { count() >= $n1 + 2 }, 3), '... both fetched');

done_testing;
