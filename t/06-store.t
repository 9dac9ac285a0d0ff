#!/usr/bin/perl
# The persistent store: responses survive full stops and starts with the
# responder down; damaged, foreign, expired files and symlinks are refused,
# set aside and refetched; the directory is created and taken over.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;
use File::Copy qw(copy);

my $t = SGTest->new;
my $store = $t->dir . '/var/lib/staple-guard';   # parents missing too
my $file = "$store/" . $t->store_name('leaf');
$t->start_responder(mode => 'good');
$t->write_conf(global => "StapleGuardStoreDir $store\nStapleGuardRetryMin 1\n");
$t->start_httpd;
ok($t->s_client->{stapled}, 'stapled after the first start');
ok(-f $file, 'the response is stored under the certificate\'s hash');
my @st = stat($store);
is($st[2] & 07777, 0700, 'the store directory is private (0700)');
is((stat $file)[2] & 07777, 0600, 'the file is private (0600)');
if ($> == 0) {
    is(scalar getpwuid($st[4]), 'nobody', 'the directory belongs to the User');
    is(scalar getpwuid((stat $file)[4]), 'nobody', 'so does the file');
}
ok(defined $t->store_decode(SGTest::slurp($file)), 'the file decodes');

# Stop and start with the responder down: stapled from the store.
$t->stop_responder;
my $asked = scalar @{$t->requests};
my $stapled = 0;
for (1 .. 5) {
    $t->stop_httpd;
    $t->start_httpd;
    $stapled++ if $t->s_client->{stapled} && $t->curl_status == 0;
}
is($stapled, 5, 'five stops and starts, responder down: a staple each time');
unlike($t->error_log, qr/SG010[2-4]/, 'and no attempt to reach the responder');
like($t->error_log, qr/SG0023: CN=localhost: response from store kept/,
     'the stored response was validated and kept');

# Damage, one kind at a time; each must be refused, set aside, refetched.
my $pristine = $t->dir . '/pristine.ocsp';
copy($file, $pristine) or die;
my $expired_der = $t->dir . '/expired.der';
$t->start_responder(mode => 'expired');
ok($t->fetch_der('leaf', $expired_der), 'an expired response to plant');
$t->stop_responder;
# A genuine response, signed by the delegated responder, padded past
# SG_RESPONSE_MAX (16384) with extra certificates in its unsigned list:
# its signature still verifies, and whoever can write the store can
# make one. `openssl ocsp` answers a request file offline.
my $padded_der = $t->dir . '/padded.der';
my $req = $t->dir . '/leaf.req';
my $others = $t->dir . '/others.pem';
my $p = $t->{pki};
system("openssl ocsp -issuer $p/inter.crt -cert $p/leaf.crt -no_nonce "
       . "-reqout $req >/dev/null 2>&1") == 0 or die "request";
# openssl includes each distinct certificate once: throw-away ones, the
# last one's comment sized so that the response is a few bytes over the
# limit (a store file of it is no larger than one of the largest
# response held: only the response's own length tells).
sub pad_response {
    my ($comment) = @_;
    my $pad = '';
    for my $n (1 .. 4) {
        my $c = $t->dir . "/pad$n.crt";
        my $len = $n < 4 ? 3000 : $comment;
        system("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
               . "-nodes -keyout /dev/null -subj /CN=pad$n -days 1 -out $c "
               . "-addext nsComment=" . ('x' x $len) . " >/dev/null 2>&1") == 0
            or die "pad certificate";
        $pad .= SGTest::slurp($c);
    }
    $t->write_file($others, $pad);
    system("openssl ocsp -index $p/index.txt -rsigner $p/ocsp.crt "
           . "-rkey $p/ocsp.key -CA $p/inter.crt -rother $others -nmin 60 "
           . "-reqin $req -respout $padded_der >/dev/null 2>&1") == 0
        or die "padded response";
    return -s $padded_der;
}
my $comment = 3000;
for (1 .. 6) {
    my $size = pad_response($comment);
    last if $size > 16384 && $size <= 16400;
    $comment += 16390 - $size;
}
ok(-s $padded_der > 16384 && -s $padded_der <= 16400,
   'a signed response a few bytes over the table\'s limit, to plant ('
   . (-s $padded_der) . ' bytes)');
my %damage = (
    'truncated' => [qr/truncated/, sub {
        truncate($file, (-s $file) / 2) }],
    'one byte flipped' => [qr/damaged \(checksum mismatch\)/, sub {
        my $b = SGTest::slurp($file);
        substr($b, 200, 1) = chr(ord(substr($b, 200, 1)) ^ 0x01);
        $t->write_file($file, $b) }],
    'another certificate\'s response' => [qr/written for another certificate/, sub {
        $t->write_file($file, $t->store_encode('ms', $t->store_decode(
            SGTest::slurp($pristine)))) }],
    'expired' => [qr/the response has expired: .*\(SG0127\)/, sub {
        $t->write_file($file, $t->store_encode('leaf',
                                               SGTest::slurp($expired_der))) }],
    'a symlink' => [qr/it is a symlink, and symlinks are never followed/, sub {
        unlink $file; symlink($pristine, $file) }],
    'not a store file' => [qr/not a store file/, sub {
        $t->write_file($file, "hello\n" x 20) }],
    'a signed response padded past the table' => [qr/too large;/, sub {
        $t->write_file($file, $t->store_encode('leaf',
                                               SGTest::slurp($padded_der))) }],
    'larger than any store file' => [qr/too large;/, sub {
        $t->write_file($file, "x" x (64 * 1024)) }],
);
for my $what (sort keys %damage) {
    my ($re, $do) = @{$damage{$what}};
    $t->stop_httpd;
    unlink "$file.bad";
    truncate($t->dir . '/logs/error.log', 0);
    $do->();
    $t->start_responder(mode => 'good');
    $asked = scalar @{$t->requests};
    $t->start_httpd;
    like($t->error_log, qr/SG0051: CN=localhost: stored response .* refused: $re/,
         "$what: refused with one clear line");
    ok(-e "$file.bad" || -l "$file.bad", "$what: set aside as .bad");
    my $r = $t->s_client;
    ok($r->{stapled} && $r->{cert_status} eq 'good', "$what: refetched and stapled");
    is(scalar @{$t->requests}, $asked + 1, "$what: with one request");
    ok(!-l $file && defined $t->store_decode(SGTest::slurp($file)),
       "$what: a good file is written again");
    $t->stop_responder;
}

# A store "directory" that is a file: httpd still starts, memory only.
$t->stop_httpd;
my $notdir = $t->dir . '/not-a-dir';
$t->write_file($notdir, "x\n");
$t->write_conf(global => "StapleGuardStoreDir $notdir\n");
$t->start_responder(mode => 'good');
$t->start_httpd;
like($t->error_log, qr/SG0050: the store directory \Q$notdir\E is not a directory/,
     'a store path that is a file: one clear error line');
ok($t->s_client->{stapled}, 'and stapling works from memory');
$t->stop_httpd;
done_testing;
