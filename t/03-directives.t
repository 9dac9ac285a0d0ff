#!/usr/bin/perl
# Bad directive values are refused by `apache2 -t`, naming the directive
# and the accepted range; good ones pass.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
use Test::More;

my $t = SGTest->new(aia_url => 'http://127.0.0.1:9/');

my @bad = (
    ['StapleGuard maybe', qr/StapleGuard/],
    ['StapleGuardResponderURL ftp://x/', qr/StapleGuardResponderURL: 'ftp:\/\/x\/' is not an http:\/\/ URL/],
    ['StapleGuardResponderURL https://ocsp.example/', qr/https:\/\/ responders are not supported/],
    ['StapleGuardResponderTimeout 0', qr/StapleGuardResponderTimeout: '0' is not a time between 1 and 300 seconds/],
    ['StapleGuardResponderTimeout 301', qr/between 1 and 300/],
    ['StapleGuardResponderTimeout ten', qr/StapleGuardResponderTimeout: 'ten'/],
    ['StapleGuardClockSkew -1', qr/StapleGuardClockSkew: '-1' is not a time between 0 and 86400/],
    ['StapleGuardStartupTimeout 601', qr/StapleGuardStartupTimeout: '601' is not a time between 0 and 600/],
    ['StapleGuardRefreshAt 95', qr/StapleGuardRefreshAt: '95' is not a percentage between 10 and 90/],
    ['StapleGuardRetryMin 0', qr/StapleGuardRetryMin: '0' is not a time between 1 and 86400/],
    ['StapleGuardRetryMax 86401', qr/StapleGuardRetryMax/],
    ["StapleGuardRetryMin 600\nStapleGuardRetryMax 60", qr/SG0002: StapleGuardRetryMin \(600 s\) is larger than StapleGuardRetryMax \(60 s\)/],
    # a response without nextUpdate must outlive a refresh and a retry,
    # each no sooner than RetryMin (default 60 s) after the attempt before
    ['StapleGuardNoNextUpdateLifetime 239', qr/SG0004: StapleGuardNoNextUpdateLifetime \(239 s\) is less than 4 times StapleGuardRetryMin \(60 s\)/],
    ["StapleGuardNoNextUpdateLifetime 1mi\nStapleGuardRetryMin 16", qr/SG0004: .*\(60 s\) is less than 4 times StapleGuardRetryMin \(16 s\)/],
    ["StapleGuardRetryMin 16\nStapleGuardNoNextUpdateLifetime 1h\nStapleGuardNoNextUpdateLifetime 63", qr/SG0004: StapleGuardNoNextUpdateLifetime \(63 s\)/],
);
for my $b (@bad) {
    my ($directive, $re) = @$b;
    $t->write_conf(global => $directive);
    my ($rc, $out) = $t->apache('-t');
    isnt($rc, 0, "apache2 -t refuses: " . ($directive =~ s/\n/; /r));
    like($out, $re, '... and says why') or diag($out);
}

# Long enough: 4 x RetryMin, whichever order the lines come in.
for my $ok ('StapleGuardNoNextUpdateLifetime 240',
            "StapleGuardNoNextUpdateLifetime 60\nStapleGuardRetryMin 15",
            "StapleGuardRetryMin 15\nStapleGuardNoNextUpdateLifetime 60") {
    $t->write_conf(global => $ok);
    my ($rc, $out) = $t->apache('-t');
    is($rc, 0, 'apache2 -t accepts: ' . ($ok =~ s/\n/; /r)) or diag($out);
    unlike($out, qr/SG0004/, '... without a warning');
}
# The default lifetime (1 day, the longest allowed) with a RetryMin over
# 6 h: no lifetime would do, so this is said, not refused.
$t->write_conf(global => "StapleGuardRetryMin 21601\nStapleGuardRetryMax 24h");
my ($rc0, $out0) = $t->apache('-t');
is($rc0, 0, 'a RetryMin over a quarter of the default lifetime is accepted')
    or diag($out0);
like($out0, qr/warn.*SG0004: StapleGuardNoNextUpdateLifetime \(86400 s, the default\) is less than 4 times StapleGuardRetryMin \(21601 s\)/,
     '... with a warning that names both');

# Server-wide settings are refused inside a virtual host.
$t->write_conf(vhosts => [{ name => 'localhost', cert => 'leaf',
                            extra => 'StapleGuardResponderTimeout 5' }]);
my ($rc, $out) = $t->apache('-t');
isnt($rc, 0, 'StapleGuardResponderTimeout inside <VirtualHost> is refused');
like($out, qr/StapleGuardResponderTimeout cannot occur within <VirtualHost>/, '... as server-wide only');

$t->write_conf(global => <<'EOF', vhosts => [
StapleGuard On
StapleGuardResponderTimeout 5
StapleGuardClockSkew 2mi
StapleGuardStartupTimeout 0
StapleGuardRefreshAt 75%
StapleGuardRetryMin 30
StapleGuardRetryMax 1h
EOF
    { name => 'localhost', cert => 'leaf',
      extra => "StapleGuard Off\nStapleGuardResponderURL http://127.0.0.1:9/ocsp" }]);
($rc, $out) = $t->apache('-t');
is($rc, 0, 'every directive with a good value passes apache2 -t') or diag($out);
done_testing;
