#!/usr/bin/perl
# The operator's view: the status handler in HTML, JSON, ?auto and
# Prometheus form, the server-status section, escaping of hostile subjects,
# and no handler where none is configured.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;
use JSON::PP;

my $t = SGTest->new;
$t->start_responder(mode => 'good');
$t->write_conf(
    modules => "LoadModule status_module /usr/lib/apache2/modules/mod_status.so\n",
    global => <<'EOF',
<Location "/sg-status">
    SetHandler staple-guard-status
    Require ip 127.0.0.1
</Location>
<Location "/server-status">
    SetHandler server-status
    Require ip 127.0.0.1
</Location>
EOF
    vhosts => [
        { name => 'localhost', cert => 'leaf' },
        { name => 'must-staple.localhost', cert => 'ms' },
        { name => 'no-ocsp.localhost', cert => 'noocsp' },
        { name => 'revoked.localhost', cert => 'xss' },
    ]);
$t->start_httpd;
$t->s_client for 1 .. 3;
$t->s_client(servername => 'no-ocsp.localhost');

sub get {
    my ($path, @hdr) = @_;
    my $r = $t->curl($path, headers => \@hdr);
    return ($r->{code}, $r->{type}, $r->{body});
}

# JSON, parsed by a real parser.
my ($code, $type, $body) = get('/sg-status?json');
is($code, 200, '?json answers 200');
like($type, qr{^application/json}, '... as application/json');
my $j = eval { decode_json($body) };
ok($j, 'the JSON parses') or diag($@, $body);
my %by = map { $_->{subject} => $_ } @{$j->{certificates} // []};
is(scalar keys %by, 4, 'four certificates');
my $leaf = $by{'CN=localhost'};
is($leaf->{state}, 'good', 'leaf: good');
ok($leaf->{seconds_left} > 3000, 'leaf: time left');
is($leaf->{source}, 'fetched', 'leaf: fetched');
is($leaf->{last_result}, 'ok', 'leaf: last result ok');
is($leaf->{last_result_id}, 'SG0100', 'leaf: with its message id');
ok($leaf->{stapled} >= 3, "leaf: handshakes stapled counted ($leaf->{stapled})");
like($leaf->{ocsp_url}, qr{^http://127\.0\.0\.1:\d+/$}, 'leaf: OCSP URL');
is_deeply($leaf->{vhosts}, ['localhost:' . $t->hport], 'leaf: its virtual host');
for my $k (qw(serial issuer this_update next_update produced_at last_attempt
              next_attempt latency_ms failures not_stapled sha256)) {
    ok(exists $leaf->{$k}, "leaf: has $k");
}
is($by{'CN=must-staple.localhost'}{must_staple}, JSON::PP::true, 'Must-Staple flagged');
is($by{'CN=no-ocsp.localhost'}{state}, 'no OCSP URL', 'no OCSP URL state');
is($by{'CN=no-ocsp.localhost'}{ocsp_url}, undef, '... and null URL');
# OpenSSL writes the subject in RFC 2253 form, which escapes < > and ".
my ($xss) = grep { /script/ } keys %by;
like($xss // '', qr/^CN=\\<script\\>alert\(\\"sg\\"\)\\<\/script\\>&$/,
     'the hostile subject round-trips through JSON exactly');
unlike($body, qr/<script>/, 'and never appears raw in the JSON text');
($code, $type, $body) = get('/sg-status', 'Accept: application/json');
like($type, qr{^application/json}, 'Accept: application/json gives JSON');

# HTML
($code, $type, $body) = get('/sg-status');
is($code, 200, 'HTML answers 200');
like($type, qr{^text/html}, '... as text/html');
unlike($body, qr/<script>/, 'the hostile subject is escaped in HTML');
like($body, qr/CN=\\&lt;script\\&gt;alert\(\\&quot;sg\\&quot;\)\\&lt;\/script\\&gt;&amp;/,
     '... as entities');
like($body, qr/CN=must-staple\.localhost/, 'HTML lists the certificates');
like($body, qr{<b>4 certificates:</b> <a class="b st-good" href="\?state=good">3 good</a>},
     'HTML: the summary on top, each count a link to those');
like($body, qr{CN=no-ocsp\.localhost</b>(?:(?!<tr).)*</table>}s,
     'HTML: no OCSP URL comes last');

# ?auto
($code, $type, $body) = get('/sg-status?auto');
like($body, qr/^StapleGuardCertificates: 4$/m, '?auto: count');
like($body, qr/^StapleGuardState_good: 3$/m, '?auto: three good');
unlike($body, qr/<script>/, '?auto: hostile subject escaped');
ok(!grep({ !/^[A-Za-z0-9_]+: / } split /\n/, $body), '?auto: every line is key: value');

# Prometheus, checked by promtool.
($code, $type, $body) = get('/sg-status?metrics');
like($body, qr/^staple_guard_certificates\{state="good"\} 3$/m, 'metrics: by state');
like($body, qr/^staple_guard_fetch_attempts_total\{result="ok"\} 3$/m,
     'metrics: attempts by result');
like($body, qr/^staple_guard_handshakes_total\{stapled="yes"\} \d+$/m,
     'metrics: staples served');
like($body, qr/^staple_guard_next_update_seconds\{certificate="[0-9a-f]{64}",subject="CN=localhost"\} \d+$/m,
     'metrics: seconds until nextUpdate');
my $f = $t->write_file('metrics.txt', $body);
my $lint = `promtool check metrics < $f 2>&1`;
is($? >> 8, 0, 'promtool check metrics accepts it') or diag($lint);

# mod_status's page, in HTML and ?auto.
($code, $type, $body) = get('/server-status');
like($body, qr/OCSP stapling \(mod_staple_guard\)/, 'server-status has the section');
like($body, qr{<b>4 certificates:</b>}, '... with the summary');
unlike($body, qr/<script>/, '... escaped');
($code, $type, $body) = get('/server-status?auto');
like($body, qr/^StapleGuardCertificates: 4$/m, 'server-status?auto has it too');

# Only GET (actions: t/25-refresh-now.t); nothing where not configured.
($code) = get('/elsewhere?json');
is($code, 404, 'no status where the handler is not configured');
$code = $t->curl('/sg-status', method => 'POST')->{code};
is($code, 403, 'POST is refused where StapleGuardStatusActions is not On');
$t->stop_httpd;
done_testing;
