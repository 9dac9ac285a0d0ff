#!/usr/bin/perl
# Scenario 11: the CRL watch's memory with a 1,000,000-entry CRL. The
# CRL (made by build/bench/sg_crl_bench, about 22 MB) is served by
# Python's http.server on loopback; `sg_crl_bench judge` downloads and
# judges it with the core's own code (sg_crl_fetch_run, sg_crl_judge), as
# the fetcher's child does, and reports its peak RSS. For scale, the same
# CRL decoded whole by OpenSSL (`openssl crl`, d2i_X509_CRL). Results in
# $SG_BENCH_OUT/s11_crl.txt (key=value lines) for bench/report.pl.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib";
use SGTest;

my $N = $ENV{SG_BENCH_CRL_ENTRIES} // 1000000;
my $RUNS = 3;
my $out = $ENV{SG_BENCH_OUT} // "$FindBin::Bin/out";
my $tool = "$FindBin::Bin/../build/bench/sg_crl_bench";
my $t = SGTest->new(no_pki => 1);
my $dir = $t->dir . '/crl';
mkdir $dir;
my $made = `$tool make $dir $N` or die "sg_crl_bench make failed\n";
my $port = SGTest::free_port();
$t->spawn($t->dir . '/logs/http.log', 'python3', '-m', 'http.server', $port,
          '--bind', '127.0.0.1', '--directory', $dir);
SGTest::wait_for(sub { system("curl -s -o /dev/null --max-time 2 "
                              . "http://127.0.0.1:$port/chain.pem") == 0 }, 20)
    or die "http.server did not start\n";
my ($bytes, $base, $peak, $verdict) = (0, 0, 0, '');
for (1 .. $RUNS) {
    my $line = `$tool judge http://127.0.0.1:$port/big.crl $dir/chain.pem`;
    $line =~ /bytes=(\d+) rss_before_kib=(\d+) peak_kib=(\d+) verdict=(\S+)/
        or die "sg_crl_bench judge: $line\n";
    ($bytes, $verdict) = ($1, $4);
    $base = $2 if $2 > $base;
    $peak = $3 if $3 > $peak;
}
my $d2i = `/usr/bin/time -f %M openssl crl -inform DER -in $dir/big.crl -noout 2>&1 >/dev/null`;
($d2i) = $d2i =~ /(\d+)\s*\z/;
open(my $fh, '>', "$out/s11_crl.txt") or die "$out: $!";
print $fh "entries=$N\nbytes=$bytes\nbase_kib=$base\npeak_kib=$peak\n"
        . "verdict=$verdict\nd2i_peak_kib=" . ($d2i // 0) . "\n";
close $fh;
printf "  s11_crl: %d entries, %.1f MB CRL, peak RSS %.1f MB (%.2fx), "
       . "d2i_X509_CRL %.1f MB\n", $N, $bytes / 1e6, $peak / 1024 * 1.024,
       $peak * 1024 / $bytes, ($d2i // 0) / 1024 * 1.024;
$t->cleanup;
