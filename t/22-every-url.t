#!/usr/bin/perl
# Every OCSP URL of a certificate: when the first responder of its AIA
# fails, the next is asked in the same attempt; the log and the status
# page say which answered and which failed. StapleGuardResponderURL still
# replaces them all.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;
use JSON::PP qw(decode_json);

my $t = SGTest->new;
my $dead = 'http://127.0.0.1:9/dead';   # the discard port: refused
my $live = $t->url;
my $status = <<'EOF_CONF';
<Location "/sg-status">
    SetHandler staple-guard-status
</Location>
EOF_CONF

sub status_json {
    my ($code, $body) = $t->https_get('/sg-status?json');
    my $j = $code == 200 ? eval { decode_json($body) } : undef;
    return $j ? $j->{certificates}[0] : {};
}

# The first URL is dead, the second answers.
$t->start_responder(mode => 'good');
$t->write_conf(vhosts => [{ name => 'localhost', cert => 'twourls',
                            extra => $status }]);
$t->start_httpd;
my $r = $t->s_client;
ok($r->{stapled} && $r->{cert_status} eq 'good',
   'the first URL refused, the second answered: stapled');
is($t->curl_status, 0, 'curl --cert-status accepts the staple');
like($t->error_log, qr/SG0020: CN=two-urls\.localhost: good response from \Q$live\E \([^)]*failed first: \Q$dead\E \(refused\)\)/,
     'the log says which URL answered and which failed');
my $c = status_json();
is_deeply($c->{ocsp_urls}, [$dead, $live], 'the status page lists both, in order');
is($c->{answered_by}, $live, '... and which one answered');
$t->stop_httpd;

# Both fail: the line carries the last one's reason and names the first.
$t->set_mode('status 6');
truncate($t->dir . '/logs/error.log', 0);
$t->write_conf(vhosts => [{ name => 'localhost', cert => 'twourls' }],
               global => "StapleGuardStoreDir none\n");
$t->start_httpd;
ok(!$t->s_client->{stapled}, 'both responders failing: no staple');
like($t->error_log, qr/SG0115: CN=two-urls\.localhost: \Q$live\E: .*; failed before: \Q$dead\E \(refused\);/,
     'one line: the last reason, and the URL that failed before it');
$t->stop_httpd;

# A configured URL replaces the certificate's, all of them.
$t->set_mode('good');
truncate($t->dir . '/logs/error.log', 0);
$t->write_conf(vhosts => [{ name => 'localhost', cert => 'twourls',
                            extra => "StapleGuardResponderURL $live\n$status" }],
               global => "StapleGuardStoreDir none\n");
$t->start_httpd;
ok($t->s_client->{stapled}, 'StapleGuardResponderURL: stapled');
unlike($t->error_log, qr/\Q$dead\E/, '... and the certificate\'s dead URL is never tried');
is_deeply(status_json()->{ocsp_urls}, [$live], '... nor listed');
$t->stop_httpd;
done_testing;
