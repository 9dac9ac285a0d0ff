#!/usr/bin/perl
# The staple-guard command (build/staple-guard): the module's verdicts and
# ids for one certificate, against `openssl ocsp` and the fault-injecting
# responder; prefetch into the store, then an httpd whose responder is
# down staples on its first handshake; show on a good and a damaged
# file; every bad input is one line on stderr, exit 2, nothing written.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;
use File::Copy qw(copy);
use File::Path qw(make_path);

my $t = SGTest->new;
my $url = $t->url;
my (undef, undef, $nobody_uid, $nobody_gid) = getpwnam('nobody');

# One run: exit code, and a pattern its one stdout line must match.
sub verdict {
    my ($args, $rc, $re, $name) = @_;
    my ($got, $out, $err) = $t->cli(@$args);
    my @lines = split /\n/, $out;
    ok($got == $rc && @lines == 1 && $lines[0] =~ $re, $name)
        or diag("exit $got\nstdout: $out\nstderr: $err");
}

# A local error: exit 2, one line on stderr, nothing on stdout.
sub refused_locally {
    my ($args, $re, $name) = @_;
    my ($got, $out, $err) = $t->cli(@$args);
    ok($got == 2 && $out eq '' && $err =~ $re && $err =~ tr/\n// == 1,
       $name) or diag("exit $got\nstdout: $out\nstderr: $err");
}

# ---- verdicts against `openssl ocsp`, as a CA runs it ----
$t->start_openssl_ocsp;
verdict(['check', 'leaf-chain.pem'], 0,
        qr/^SG0020 good: CN=localhost: good until \S+Z .* from \Q$url\E$/,
        'openssl ocsp, good: SG0020, exit 0');
verdict(['check', 'revoked-chain.pem'], 1,
        qr/^SG0021 REVOKED: CN=revoked\.localhost: revoked at \S+Z/,
        'openssl ocsp, revoked: SG0021, exit 1');
verdict(['check', 'leaf.crt', '--issuer', 'inter.crt'], 0, qr/^SG0020 good/,
        'the issuer from --issuer');
$t->stop_responder;

# ---- the fault-injecting responder: each refusal with its id ----
$t->start_responder(mode => 'good');
my @faults = (
    ['status 6', qr/^SG0115 unauthorized: .*status 6, unauthorized/],
    ['wrongkey', qr/^SG0120 signer-not-issued: .*not issued by the certificate's issuer/],
    ['expired', qr/^SG0127 expired: .*nextUpdate passed/],
    ['notyet', qr/^SG0125 not-yet-valid: .*check the local clock/],
    ['sha256id', qr/^SG0140 certid-hash: /],
    ['hang', qr/^SG0104 timeout: /],
);
for my $f (@faults) {
    $t->set_mode($f->[0]);
    verdict(['check', 'leaf-chain.pem', '--timeout', '1'], 1, $f->[1],
            "responder '$f->[0]': exit 1, with the module's id");
}
$t->set_mode('status 6');
my $before = @{$t->requests};
$t->cli('check', 'leaf-chain.pem');
is_deeply([map { $_->[1] } @{$t->requests}[$before .. $#{$t->requests}]],
          ['GET', 'POST'], 'an error answer to GET is asked again with POST');
$t->set_mode('futureproduced');
verdict(['check', 'leaf-chain.pem'], 0,
        qr/^SG0020 good: .*; SG0026: producedAt is \d+ s ahead of this clock/,
        'producedAt ahead: good, and the clock warning on the same line');
$t->set_mode('good');
verdict(['check', 'twourls-chain.pem'], 0,
        qr/^SG0020 good: .* from \Q$url\E; failed first: http:\/\/127\.0\.0\.1:9\/dead \(refused\)$/,
        'every URL in order: the first refused, the second answered');
verdict(['check', 'noocsp-chain.pem'], 1,
        qr/^SG0010 no staple: CN=no-ocsp.localhost: no-revocation-info: /,
        'no OCSP URL: said plainly, exit 1');
verdict(['check', 'noocsp-chain.pem', '--url', $url], 0, qr/^SG0020 good/,
        '--url asks a responder the certificate does not name');

# ---- prefetch: a good answer only, as the module's store keeps it ----
my $store = $t->dir . '/store';
my $file = "$store/" . $t->store_name('leaf');
mkdir $store;
chown $nobody_uid, $nobody_gid, $store;
$t->set_mode('revoked');
my ($rc, $out, $err) = $t->cli('prefetch', 'leaf-chain.pem', '--store', $store);
ok($rc == 1 && $out =~ /\ASG0021 REVOKED.*\nnothing written to \Q$store\E: only a good answer is stored\n\z/,
   'prefetch of a revoked answer: exit 1, says nothing was written')
    or diag("exit $rc\n$out$err");
ok(!-e $file, '... and nothing was');
$t->set_mode('good');
($rc, $out, $err) = $t->cli('prefetch', 'leaf-chain.pem', '--store', $store);
ok($rc == 0 && $out =~ /^SG0020 good/ && $out =~ /^stored \Q$file\E/m,
   'prefetch: good, stored under the certificate hash')
    or diag("exit $rc\n$out$err");
my @st = stat($file);
ok(@st && ($st[2] & 07777) == 0600 && $st[4] == $nobody_uid
   && $st[5] == $nobody_gid, 'the file: mode 0600, owned as the directory');
ok(!glob("$store/*.tmp.*"), 'no temporary file left');

# ---- show ----
($rc, $out, $err) = $t->cli('show', $file);
my $hex = substr($t->store_name('leaf'), 0, 64);
ok($rc == 0 && $out =~ /format ok/ && $out =~ /certificate SHA-256: $hex \(the file's name agrees\)/
   && $out =~ /not verified\): status successful/
   && $out =~ /not verified\): serial [0-9A-F]+: good, thisUpdate \S+Z, nextUpdate \S+Z/,
   'show: format, stored hash, status and times marked not verified')
    or diag("exit $rc\n$out$err");
my $damaged = $t->dir . '/damaged.ocsp';
my $bytes = SGTest::slurp($file);
substr($bytes, 100, 1) = chr(ord(substr($bytes, 100, 1)) ^ 0xff);
$t->write_file($damaged, $bytes);
refused_locally(['show', $damaged], qr/checksum mismatch/,
                'show: a damaged file is one line, exit 2');

# ---- the responder down: httpd staples the prefetched one at once ----
$t->stop_responder;
$t->write_conf(global => "StapleGuardStoreDir $store\n");
$t->start_httpd;
my $r = $t->s_client;
ok($r->{stapled} && ($r->{cert_status} // '') eq 'good',
   'responder down: the first handshake gets the prefetched response')
    or diag($r->{out});
like($t->error_log, qr/SG0023: CN=localhost: response from store kept/,
     '... from the store, with no request');
$t->stop_httpd;

verdict(['check', 'leaf-chain.pem'], 1,
        qr/^SG0103 refused: CN=localhost: \Q$url\E: /,
        'responder down: SG0103, exit 1');
verdict(['check', 'leaf-chain.pem', '--url', 'http://no-such-host.invalid/',
         '--timeout', '2'], 1, qr/^SG0102 resolve: /,
        'a name that does not resolve: SG0102');

# ---- bad input: one line on stderr, exit 2, nothing asked or written ----
$t->start_responder(mode => 'good');
my $empty = $t->dir . '/empty-store';
mkdir $empty;
my $n = @{$t->requests};
refused_locally(['check', 'no-such.pem'], qr/cannot read no-such\.pem: /,
                'an unreadable file');
refused_locally(['check', 'index.txt'], qr/not a usable PEM certificate/,
                'a file that is not PEM');
refused_locally(['check', 'leaf.crt'],
                qr/SG0005: the issuer certificate \(the intermediate\) is missing: .*--issuer/,
                'no issuer in the file and no --issuer: said plainly');
refused_locally(['check', 'leaf.crt', '--issuer', 'root.crt'],
                qr/SG0005: root\.crt did not issue it/, 'the wrong --issuer');
refused_locally(['check', 'leaf-chain.pem', '--url', 'https://ocsp.example/'],
                qr/--url .*is not an http:\/\/ URL/, 'an https:// URL');
refused_locally(['check', 'leaf-chain.pem', '--proxy', 'ftp://u:secret@p'],
                qr/--proxy 'ftp:\/\/\*\*\*\@p' must start with http:\/\/(?!.*secret)/s,
                'a bad proxy URL, shown without its credentials');
refused_locally(['prefetch', 'leaf-chain.pem', '--store', "$store/none"],
                qr/--store .*not a directory/, 'a store directory that is not there');
chmod 0500, $empty;
($rc, $out, $err) = (-1, '', '');
{
    # Not root, so that the mode counts. The checkout may sit where nobody
    # cannot go (root's home is 0700): the command is run from a copy in
    # the test's own directory, which nobody can reach.
    my $cmd = $t->dir . '/staple-guard';
    copy("$SGTest::TOP/build/staple-guard", $cmd) && chmod(0755, $cmd)
        or die "copy build/staple-guard: $!";
    my $errfile = $t->dir . '/nobody.err';
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        SGTest::exec_child(sub {
            open(STDOUT, '>', '/dev/null') or die "stdout: $!\n";
            open(STDERR, '>', $errfile) or die "$errfile: $!\n";
            ($(, $)) = ($nobody_gid, "$nobody_gid $nobody_gid");
            ($<, $>) = ($nobody_uid, $nobody_uid);
            $> == $nobody_uid or die "cannot become nobody: $!\n";
            chdir $t->pkifile('.') or die "chdir: $!\n";
        }, $cmd, 'prefetch', 'leaf-chain.pem', '--store', $empty);
    }
    waitpid($pid, 0);
    $rc = $? >> 8;
}
ok($rc == 2 && SGTest::slurp($t->dir . '/nobody.err')
   =~ /^staple-guard: --store .*cannot write there; nothing written\n\z/,
   'a store directory it cannot write: one line, exit 2')
    or diag("exit $rc: " . SGTest::slurp($t->dir . '/nobody.err'));
ok(!glob("$empty/*"), '... and nothing written there');
is(scalar @{$t->requests}, $n, 'no responder asked for any bad input');
($rc) = $t->cli('check');
is($rc, 2, 'usage: exit 2');

done_testing();
