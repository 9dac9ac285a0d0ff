#!/usr/bin/perl
# Every bad answer a responder can give: never a bad staple, never a crash,
# one clear log line with the reason's stable id.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;

my $t = SGTest->new;
$t->start_responder(mode => 'status 6');
# Retry every second so that each fault is seen quickly.
# A second certificate whose responder name does not resolve.
$t->write_conf(global => <<'EOF', vhosts => [
StapleGuardRetryMin 1
StapleGuardRetryMax 1
StapleGuardResponderTimeout 2
EOF
    { name => 'localhost', cert => 'leaf' },
    { name => 'revoked.localhost', cert => 'revoked',
      extra => 'StapleGuardResponderURL http://nonexistent.invalid/' },
]);
$t->start_httpd;
like($t->error_log, qr/SG0102: CN=revoked\.localhost: http:\/\/nonexistent\.invalid\//,
     'a responder name that does not resolve: SG0102, with the URL');

# mode => [message id, what it is]
my @faults = (
    ['status 6', 'SG0115', 'unauthorized'],
    ['status 1', 'SG0111', 'malformedRequest'],
    ['status 2', 'SG0112', 'internalError'],
    ['status 3', 'SG0113', 'tryLater'],
    ['status 5', 'SG0114', 'sigRequired'],
    ['http404', 'SG0105.*HTTP status 404', 'HTTP 404'],
    ['http500', 'SG0105.*HTTP status 500', 'HTTP 500'],
    ['garbage', 'SG0110', 'a body that is not OCSP'],
    ['wrongtype', 'SG0106', 'a wrong Content-Type'],
    ['empty', 'SG0108|SG0109|SG0110', 'an empty body'],
    ['oversize', 'SG0107', 'an oversize body'],
    ['hang', 'SG0104', 'a responder that never answers'],
    ['wrongkey', 'SG0120', 'a response signed by an unrelated key'],
    ['othercert', 'SG0123', 'a response for another certificate'],
    ['expired', 'SG0127', 'an expired response'],
    ['notyet', 'SG0125', 'a response not yet valid'],
    ['unknown', 'SG0124', 'status unknown'],
);

# One line per change of reason at error level; repeats only at debug.
sleep 3;
my @resolve = ($t->error_log =~ /staple_guard:error.*SG0102/g);
is(scalar @resolve, 1, 'the same failure again is not logged again');

for my $f (@faults) {
    my ($mode, $id, $what) = @$f;
    $t->set_mode($mode);
    my $seen = SGTest::wait_for(sub {
        $t->error_log =~ /\[staple_guard:\w+\].*\b(?:$id)\b/ }, 20);
    ok($seen, "$what: logged with its id ($id)");
    my $r = $t->s_client;
    ok($r->{handshake} && !$r->{stapled}, "$what: handshake fine, no staple");
    isnt($t->curl_status, 0, "$what: curl --cert-status sees no valid staple");
    # Clear the log so the next fault's id is new to the check above.
    truncate($t->dir . '/logs/error.log', 0);
}

# After an error answer to a GET, the next request is a POST (a CDN may
# cache the error for the GET URL).
my @r = @{$t->requests};
my $switched = 0;
for my $i (0 .. $#r - 1) {
    $switched++ if $r[$i][1] eq 'GET' && $r[$i][2] =~ /^status/
                && $r[$i + 1][1] eq 'POST';
}
ok($switched > 0, 'an error answer to GET is retried with POST');

# Responder certificates the issuer did not authorize.
for my $s (['ocsp-noeku', 'SG0121', 'a responder without OCSPSigning'],
           ['ocsp-expired', 'SG0122', 'an expired responder certificate'],
           ['ocsp-foreign', 'SG0120', 'a responder from another CA']) {
    my ($signer, $id, $what) = @$s;
    $t->stop_responder;
    $t->start_responder(mode => 'good', signer => $signer);
    ok(SGTest::wait_for(sub { $t->error_log =~ /\b$id\b/ }, 20),
       "$what: logged with its id ($id)");
    ok(!$t->s_client->{stapled}, "$what: no staple");
    truncate($t->dir . '/logs/error.log', 0);
}

# Nobody listening.
$t->stop_responder;
ok(SGTest::wait_for(sub { $t->error_log =~ /\bSG0103\b/ }, 20),
   'connection refused: logged as SG0103');

# And it recovers as soon as the responder does.
$t->start_responder(mode => 'good');
ok(SGTest::wait_for(sub { $t->s_client->{stapled} }, 20),
   'a good answer after all that is stapled');
is($t->curl_status, 0, 'and curl accepts it');
ok(kill(0, $t->httpd_pid), 'httpd is still running');
unlike($t->error_log, qr/AH0005[12]|Segmentation|AH00060/,
       'no child crashed');
$t->stop_httpd;
done_testing;
