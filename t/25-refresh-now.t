#!/usr/bin/perl
# Refresh now, from the status page: a POST where StapleGuardStatusActions
# is On makes the fetcher ask the responder at its next look (seen at the
# responder), whatever the schedule says; a GET with an action (405), a
# POST where actions are off (403), an unknown certificate (404) schedule
# nothing.
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
($code, $body) = $t->https_request('/sg-off',
                                   data => "action=refresh&cert=$leaf");
is($code, 403, 'actions not enabled: 403');
like($body, qr/StapleGuardStatusActions/, '... naming the directive');
($code, $body) = $t->https_request('/sg-status',
                                   data => 'action=refresh&cert=' . ('ab' x 32));
is($code, 404, 'an unknown id: 404');
like($body, qr/no certificate abab/, '... naming it');
($code, $body) = $t->https_request('/sg-status',
                                   data => "action=refresh&cert=$noocsp");
is($code, 409, 'a certificate without a URL: 409');
($code, $body) = $t->https_request('/sg-status', data => "action=drop&cert=all");
is($code, 400, 'an unknown action: 400');
sleep 2.5;      # the fetcher looked at least twice meanwhile
is(count(), $n0, 'none of those scheduled a fetch');
is(asked(), 0, 'nor logged a request (SG0060)');

# One certificate, answered in JSON; seen at the responder within ~2 s.
($code, $body, $type) = $t->https_request('/sg-status?json',
                                          data => "action=refresh&cert=$leaf");
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
($code, $body, $type) = $t->https_request('/sg-status',
                                          data => 'action=refresh&cert=all');
is($code, 200, 'refresh all: 200');
like($type, qr{^text/plain}, '... in text');
like($body, qr/refresh scheduled for 2 certificates/, '... both with a URL');
ok(SGTest::wait_for(sub { count() >= $n0 + 3 }, 3),
   'both were fetched within 3 s');
($code) = $t->https_request('/sg-status',
                            data => 'action=refresh&cert=' . uc $leaf);
is($code, 200, 'the id is taken in upper case too');
ok(SGTest::wait_for(sub { count() >= $n0 + 4 }, 3), 'and fetched');
is(asked(), 3, 'one SG0060 per accepted request');

# A failure puts the next attempt StapleGuardRetryMin (60 s) away; a
# request is fetched now all the same.
$t->set_mode('garbage');
$t->https_request('/sg-status', data => "action=refresh&cert=$leaf");
ok(SGTest::wait_for(sub { $t->error_log =~ /CN=localhost: http\S+: .*attempt 1, next/ }, 3),
   'a refresh that fails backs off');
my $n1 = count();
$t->https_request('/sg-status', data => "action=refresh&cert=$leaf");
ok(SGTest::wait_for(sub { count() > $n1 }, 3),
   'and a request is fetched at once, whatever the backoff says');
$t->set_mode('good');
is($t->curl_status, 0, 'handshakes still get a valid staple');

done_testing;
