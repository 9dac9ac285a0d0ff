#!/usr/bin/perl
# The shipped Prometheus alerting rules (conf/staple_guard.rules.yml):
# promtool accepts them and their unit tests pass
# (conf/staple_guard.rules.test.yml); a real httpd's ?metrics page passes
# `promtool check metrics`; and the rules, fed that very page as series,
# fire exactly the alerts its certificates call for (revoked; Must-Staple
# without a staple), so a renamed metric or label breaks this test.
# Without promtool (Debian's prometheus package) this test fails.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;

my $CONF = "$SGTest::TOP/conf";
my $RULES = "$CONF/staple_guard.rules.yml";
my $SERIES_MINUTES = 30;    # how long the scraped page is held constant
my $EVAL_AT = '20m';        # past every rule's `for:` (15 m at most)

my $promtool = `sh -c 'command -v promtool'`;
chomp $promtool;
if (!ok($promtool, 'promtool is installed (scripts/deps.sh: prometheus)')) {
    done_testing;
    exit 1;
}

sub promtool {
    my $out = `cd $CONF && promtool @_ 2>&1`;
    return ($? >> 8, $out);
}

my ($rc, $out) = promtool('check rules', $RULES);
is($rc, 0, 'promtool check rules accepts the rules') or diag($out);
like($out, qr/SUCCESS: 8 rules found/, '... all eight of them');
($rc, $out) = promtool('test rules', "$CONF/staple_guard.rules.test.yml");
is($rc, 0, 'promtool test rules: the rules\' unit tests pass') or diag($out);

# A real server: good, revoked, Must-Staple with a dead responder, no URL.
my $t = SGTest->new;
$t->start_openssl_ocsp;
$t->write_conf(
    global => SGTest::status_location('/sg-status'),
    vhosts => [
        { name => 'localhost', cert => 'leaf' },
        { name => 'revoked.localhost', cert => 'revoked' },
        { name => 'must-staple.localhost', cert => 'ms',
          extra => 'StapleGuardResponderURL http://127.0.0.1:9/dead' },
        { name => 'no-ocsp.localhost', cert => 'noocsp' },
    ]);
$t->start_httpd;
my ($code, $page) = $t->https_get('/sg-status?metrics');
is($code, 200, '?metrics answers');
my $f = $t->write_file('metrics.txt', $page);
my $lint = `promtool check metrics < $f 2>&1`;
is($? >> 8, 0, 'promtool check metrics accepts the real page') or diag($lint);

my ($code2, $page2) = $t->https_get('/sg-status?metrics=');
like($page2, qr/^# TYPE staple_guard_certificate_state gauge$/m,
     '"?metrics=" (a scrape config\'s params: {metrics: [""]}) is metrics too');

my %hash = map { $_ => unpack('H*', $t->cert_hash($_)) } qw(leaf revoked ms);
like($page, qr/^staple_guard_certificate_state\{certificate="$hash{revoked}",subject="CN=revoked\.localhost",state="revoked"\} 1$/m,
     'per certificate: its state');
like($page, qr/^staple_guard_certificate_at_risk\{certificate="$hash{ms}",subject="CN=must-staple\.localhost"\} 1$/m,
     'per certificate: at risk');
like($page, qr/^staple_guard_certificate_at_risk\{certificate="$hash{leaf}",subject="CN=localhost"\} 0$/m,
     '... and not at risk');

# The page as input series of a promtool unit test: each sample held for
# $SERIES_MINUTES, with the labels a scrape adds.
sub yq { my ($s) = @_; $s =~ s/'/''/g; return "'$s'" }

sub page_series {
    my ($text) = @_;
    my @series;
    for my $line (split /\n/, $text) {
        next if $line =~ /^#/ || $line !~ /\S/;
        my ($name, $labels, $v) = $line =~ /^(\w+)(?:\{(.*)\})? (\S+)$/
            or return ();
        my $sel = "$name\{instance=\"web\",job=\"sg\""
            . (defined $labels ? ",$labels" : '') . '}';
        push @series, "      - series: " . yq($sel)
            . "\n        values: '${v}x$SERIES_MINUTES'\n";
    }
    return @series;
}

# The alerts the page must raise, as ALERTS series, and no other.
sub expected {
    my @want = (
        ['StapleGuardCertificateRevoked', 'critical', $hash{revoked},
         'CN=revoked.localhost', 'revoked'],
        ['StapleGuardMustStapleAtRisk', 'critical', $hash{ms},
         'CN=must-staple.localhost', undef],
        ['StapleGuardNoStaple', 'warning', $hash{ms},
         'CN=must-staple.localhost', 'no response yet'],
    );
    return map {
        my ($alert, $sev, $cert, $subject, $state) = @$_;
        my $l = "ALERTS{alertname=\"$alert\",alertstate=\"firing\","
            . "severity=\"$sev\",instance=\"web\",job=\"sg\","
            . "certificate=\"$cert\",subject=\"$subject\""
            . (defined $state ? ",state=\"$state\"" : '') . '}';
        "          - labels: " . yq($l) . "\n            value: 1\n";
    } @want;
}

my @series = page_series($page);
ok(@series > 10, scalar(@series) . ' samples read from the page');
my $test = $t->write_file('from-page.test.yml', <<"EOF");
rule_files:
  - $RULES
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
@{[join '', @series]}
    promql_expr_test:
      - expr: ALERTS{alertstate="firing"}
        eval_time: $EVAL_AT
        exp_samples:
@{[join '', expected()]}
EOF
($rc, $out) = promtool('test rules', $test);
is($rc, 0, 'on the real page the rules fire exactly: revoked, '
   . 'Must-Staple at risk, no staple') or diag($out);
$t->stop_httpd;
done_testing;
