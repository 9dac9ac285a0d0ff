#!/usr/bin/perl
# The CRL watch with real parts: CRLs made with `openssl ca -gencrl` (one
# plain, one partitioned with an issuing distribution point), served by a
# second httpd (without the module) on loopback, whose access log shows
# each request and its status; the module's httpd reports what it finds.
#  - crl-good at the start; a refresh is answered 304 and honoured
#  - a certificate revoked in the CA's database is `revoked` after the new
#    CRL is published and the page's refresh asked (one refresh), the
#    event program runs with its arguments, the metrics say so
#  - a CRL signed by another key, an expired one, a truncated one,
#    garbage, an HTML page, one over StapleGuardCRLMaxSize, another
#    partition's: never crl-good, one line each with its own id
#  - StapleGuardCRLWatch Off sends no request; a short-lived certificate
#    is left alone (why: short-lived)
#  - a full restart keeps the revocation (the store) and downloads nothing
#    at once
#  - `staple-guard check` and `show` give the same verdicts and ids
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
my $w = SGTest->new(share => $t);       # the CRL server
my $pki = $t->pkifile('');
my $base = 'http://127.0.0.1:' . $w->hport;
my $docs = $w->dir . '/htdocs';

# Certificates naming CRLs only, and the CRL extension sections.
my $server_ext = <<'EOF';
basicConstraints = CA:false
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost,DNS:must-staple.localhost,DNS:no-ocsp.localhost,DNS:revoked.localhost,IP:127.0.0.1
EOF
open(my $cnf, '>>', "$pki/ca.cnf") or die;
for my $n (qw(one part off short)) {
    my $file = $n eq 'part' ? 'part1' : $n;
    print $cnf "[ crl_$n ]\n${server_ext}crlDistributionPoints = URI:$base/$file.crl\n";
}
for my $n (qw(part1 part2)) {
    print $cnf "[ idp_$n ]\nissuingDistributionPoint = critical, \@idp_${n}_s\n"
             . "[ idp_${n}_s ]\nfullname = URI:$base/$n.crl\n";
}
close $cnf;
$t->issue_cert($_, ext => "crl_$_") for qw(one part off);
system("cd $pki && (openssl ecparam -name prime256v1 -genkey -noout -out short.key"
       . " && openssl req -new -config ca.cnf -key short.key -subj /CN=localhost -out short.csr"
       . " && openssl ca -batch -config ca.cnf -extensions crl_short -days 5 -in short.csr"
       . " -out short.crt -notext && cat short.crt inter.crt > short-chain.pem"
       . " && chmod 0644 short.key) >/dev/null 2>&1") == 0 or die 'short.crt';
# A CA of the intermediate's name and another key.
system("cd $pki && (openssl ecparam -name prime256v1 -genkey -noout -out fake.key"
       . " && openssl req -new -x509 -key fake.key -subj '/CN=SG Test Intermediate'"
       . " -days 30 -out fake.crt) >/dev/null 2>&1") == 0 or die 'fake CA';

# A CRL from the CA's database into the server's tree, replaced whole.
sub gencrl {
    my ($name, @opts) = @_;
    system("cd $pki && openssl ca -config ca.cnf -gencrl -crldays 7 @opts "
           . "-out $name.pem >/dev/null 2>&1 && openssl crl -in $name.pem "
           . "-outform DER -out $name.der") == 0 or die "gencrl $name";
    return SGTest::slurp("$pki/$name.der");
}
sub publish {
    my ($file, $bytes) = @_;
    my $tmp = $w->write_file("htdocs/.$file.tmp", $bytes);
    rename($tmp, "$docs/$file") or die "rename: $!";
}
publish('one.crl', gencrl('one'));
publish('part1.crl', gencrl('part1', '-crlexts idp_part1'));
publish($_, gencrl('plain')) for qw(off.crl short.crl);

# The CRL server: the main server only, plain HTTP, an access log.
$w->write_conf(no_module => 1, vhosts => [],
               global => "LogFormat \"%r %>s\" sgcrl\n"
                         . "CustomLog " . $w->dir . "/logs/access.log sgcrl\n");
$w->start_httpd;
sub requests_for {
    my ($file, $status) = @_;
    return scalar grep { m{^GET /\Q$file\E HTTP/1\.0 $status$} }
        split /\n/, SGTest::slurp($w->dir . '/logs/access.log');
}

my $events = $t->write_file('events.out', '');
chmod 0666, $events;
my $sh = $t->write_file('event.sh', "#!/bin/sh\nline=\$(printf '%s|' \"\$@\")\n"
                        . "printf '%s\\n' \"\$line\" >> $events\n");
chmod 0755, $sh;
$t->write_conf(
    global => SGTest::status_location('/sg-status',
                                      "    StapleGuardStatusActions On\n")
              . "StapleGuardEventCommand $sh\nStapleGuardEventInterval 0\n"
              . "StapleGuardCRLMaxSize 4096\n"
              # no retry of its own within the test: one line per refresh
              . "StapleGuardRetryMin 3600\n",
    vhosts => [
        { name => 'localhost', cert => 'one' },
        { name => 'must-staple.localhost', cert => 'part' },
        { name => 'no-ocsp.localhost', cert => 'off',
          extra => "    StapleGuardCRLWatch Off\n" },
        { name => 'revoked.localhost', cert => 'short' },
    ]);
$t->start_httpd;

my %hash = map { $_ => unpack('H*', $t->cert_hash($_)) } qw(one part off short);
sub row {
    my ($name) = @_;
    my ($code, $body) = $t->https_get('/sg-status?json');
    my ($r) = grep { $_->{sha256} eq $hash{$name} }
        @{(eval { decode_json($body) } // {})->{certificates} // []};
    return $r // {};
}
sub state_of { row($_[0])->{state} // '' }
sub refresh {
    my ($name) = @_;
    my ($code) = $t->https_request('/sg-status',
                                   data => "action=refresh&cert=$hash{$name}",
                                   headers => ['X-Staple-Guard-Action: refresh']);
    return $code;
}
sub count_in_log { my ($re) = @_; scalar(() = $t->error_log =~ /$re/g) }

# ---- the start ----
ok(SGTest::wait_for(sub { state_of('one') eq 'crl-good'
                          && state_of('part') eq 'crl-good' }, 30),
   'both watched certificates are crl-good after the first downloads')
    or diag(join "\n", $t->https_get('/sg-status?json'), $t->error_log);
my $r = row('one');
is($r->{why}, 'crl-only', 'why: crl-only');
is($r->{crl_url}, "$base/one.crl", '... with its CRL URL');
ok($r->{crl}{this_update} && $r->{crl}{next_update},
   "the CRL's thisUpdate and nextUpdate are shown");
is(requests_for('one.crl', 200), 1, 'one download of the plain CRL');
is(requests_for('part1.crl', 200), 1, 'one of the partitioned CRL (its IDP names its URL)');
like($t->error_log, qr/SG0081: .*not revoked: absent from its CRL \Q$base\E\/one\.crl/,
     'SG0081 says so');
is(state_of('off'), 'no OCSP URL', 'watch off: not watched');
is(row('off')->{why}, 'crl-only', '... and said why');
is(row('short')->{why}, 'short-lived', 'the 5-day certificate is short-lived');
is(state_of('short'), 'no OCSP URL', '... and left alone');
like($t->error_log, qr/SG0010: CN=localhost: no staple: short-lived/,
     'SG0010 names the reason');

# ---- 304 ----
is(refresh('one'), 200, 'refresh asked');
ok(SGTest::wait_for(sub { requests_for('one.crl', 304) == 1 }, 15),
   'the refresh is a conditional GET answered 304');
sleep 1.5;
is(state_of('one'), 'crl-good', 'the verdict stands');

# ---- revoked in the CA's database, published, refreshed ----
system("cd $pki && openssl ca -config ca.cnf -revoke one.crt -crl_reason keyCompromise >/dev/null 2>&1") == 0
    or die 'revoke';
publish('one.crl', gencrl('one'));
refresh('one');
ok(SGTest::wait_for(sub { state_of('one') eq 'revoked' }, 15),
   'revoked after one refresh') or diag($t->error_log);
$r = row('one');
ok($r->{crl}{revoked}, 'the page says revoked from the CRL');
is($r->{crl}{revocation_reason}, 'keyCompromise', '... with the reason');
like($t->error_log, qr/\[staple_guard:error\].*SG0080: CN=localhost: REVOKED: .*reason keyCompromise/,
     'SG0080 at error level with the reason');
ok(SGTest::wait_for(sub { SGTest::slurp($events) =~ /^revoked\|$hash{one}\|CN=localhost\|/m }, 10),
   'the event program ran: revoked, the id, the subject');
my ($code, $metrics) = $t->https_get('/sg-status?metrics');
like($metrics, qr/staple_guard_certificate_state\{certificate="$hash{one}",[^}]*state="revoked",why="crl-only"\} 1/,
     'the metrics say revoked, why crl-only');
is(() = SGTest::slurp($events) =~ /^revoked\|/mg, 1, 'one event');

# ---- bad CRLs for the partitioned certificate: never crl-good ----
my $good_part = SGTest::slurp("$pki/part1.der");
my @bad = (
    ['another key', gencrl('fake', '-crlexts idp_part1 -keyfile fake.key -cert fake.crt'), 'SG0163'],
    ['expired', gencrl('old', '-crlexts idp_part1 -crl_lastupdate 20200101000000Z -crl_nextupdate 20200108000000Z'), 'SG0165'],
    ['truncated', substr($good_part, 0, int(length($good_part) / 2)), 'SG0160'],
    ['garbage', join('', map { chr(int(rand(256))) } 1 .. 600), 'SG0160'],
    ['an HTML page', "<html><body><h1>Not here</h1></body></html>\n", 'SG0160'],
    ['over the size limit', 'x' x 5000, 'SG0161'],
    ["another partition's", gencrl('p2', '-crlexts idp_part2'), 'SG0167'],
);
for my $b (@bad) {
    my ($what, $bytes, $id) = @$b;
    publish('part1.crl', $bytes);
    my $before = count_in_log(qr/$id: CN=localhost: CRL/);
    my $attempt = row('part')->{last_attempt} // '';
    sleep 1.1;      # the page's times are to the second
    refresh('part');
    # a new attempt, then its result (the last one may have had this id)
    ok(SGTest::wait_for(sub { my $x = row('part');
                              ($x->{last_attempt} // '') ne $attempt
                              && ($x->{last_result_id} // '') eq $id }, 15),
       "$what: $id") or diag($t->error_log);
    is(state_of('part'), 'crl-failing', "$what: crl-failing, not crl-good");
    # one line each: at warning when the reason changed, else at debug
    is(count_in_log(qr/$id: CN=localhost: CRL/) - $before, 1, "$what: one line");
}
publish('part1.crl', $good_part);
refresh('part');
ok(SGTest::wait_for(sub { state_of('part') eq 'crl-good' }, 15),
   'the good CRL again: crl-good');

# ---- watch off, short-lived: never asked ----
is(requests_for('off.crl', '\d+'), 0, 'watch off: no request for its CRL');
is(requests_for('short.crl', '\d+'), 0, 'short-lived: no request either');

# ---- the command: the same verdicts, ids and words ----
my ($rc, $stdout) = $t->cli('check', 'one-chain.pem');
is($rc, 1, 'staple-guard check: revoked exits 1');
like($stdout, qr/^SG0080 REVOKED: CN=localhost: listed on its CRL \Q$base\E\/one\.crl, .*reason keyCompromise/,
     '... with SG0080 and the reason');
($rc, $stdout) = $t->cli('check', 'part-chain.pem');
is($rc, 0, 'a certificate absent from its (partitioned) CRL exits 0');
like($stdout, qr/^SG0081 crl-good: CN=localhost: not revoked/, '... with SG0081');
publish('part1.crl', "<html>oops</html>\n");
($rc, $stdout) = $t->cli('check', 'part-chain.pem');
is($rc, 1, 'a CRL that cannot be trusted exits 1');
like($stdout, qr/^SG0160 crl-not-crl: /, '... with its id');
publish('part1.crl', $good_part);
($rc, $stdout) = $t->cli('check', 'short-chain.pem');
is($rc, 1, 'a short-lived certificate: nothing to check, exits 1');
like($stdout, qr/^SG0010 no staple: CN=localhost: short-lived: /, '... and says why');
my $stored = $t->dir . "/run/staple-guard/$hash{one}.crl";
ok(-f $stored, 'the verdict is in the store');
($rc, $stdout) = $t->cli('show', $stored);
is($rc, 1, 'staple-guard show of a revoked verdict exits 1');
like($stdout, qr/CRL verdict: revoked .*\nCRL \Q$base\E\/one\.crl\n.*revoked at .*, reason keyCompromise.*validators: ETag (W\/)?"/s,
     '... and shows the verdict, the URL and the validators');

# ---- a full restart: the revocation is kept, nothing downloaded at once ----
my $n = requests_for('one.crl', '\d+');
$t->stop_httpd;
$t->start_httpd;
is(state_of('one'), 'revoked', 'after a restart: still revoked (the store)');
sleep 2;
is(requests_for('one.crl', '\d+'), $n, '... and not downloaded again at once');
like($t->error_log, qr/SG0083: CN=localhost: CRL verdict from the store: revoked/,
     'SG0083 says where it came from');

done_testing();
