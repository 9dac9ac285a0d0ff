#!/usr/bin/perl
# A dead or slow responder never stalls a handshake. It delays startup not
# at all for an ordinary certificate, and by at most
# StapleGuardStartupTimeout for a Must-Staple certificate without a valid
# response (the only one that cannot be served safely without a staple).
# mod_ssl's own stapling, for comparison, fetches inside the handshake.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;
use Time::HiRes qw(time);

my $budget = 3;
my $t = SGTest->new;
$t->start_responder(mode => 'hang');
$t->write_conf(global => <<"EOF");
StapleGuardStartupTimeout $budget
StapleGuardResponderTimeout 20
StapleGuardRetryMin 1
StapleGuardRetryMax 2
EOF
my $t0 = time();
$t->start_httpd(no_fetch_wait => 1);
my $startup = time() - $t0;
# httpd's own start is well under a second here; the margin is generous
# because this checks a bound, not a speed.
ok($startup < $budget - 1,
   sprintf('an ordinary certificate does not hold the start: %.1f s with '
           . 'a hanging responder (budget %d s)', $startup, $budget));
unlike($t->error_log, qr/SG0044/, '... and no certificate is said to hold it');
my $r = $t->s_client;
ok($r->{handshake} && !$r->{stapled} && $r->{elapsed} < 2,
   sprintf('a handshake right after the start completes, unstapled, in '
           . '%.2f s', $r->{elapsed}));

# Nor does a graceful restart that adds an ordinary certificate (a renewal
# deployed to one of many sites): every site would wait for it.
$t->write_conf(vhosts => [{ name => 'localhost', cert => 'leaf' },
                          { name => 'revoked.localhost', cert => 'revoked' }],
               global => "StapleGuardStartupTimeout $budget\n");
$t0 = time();
$t->graceful(no_fetch_wait => 1);
my $restart = time() - $t0;
ok($restart < $budget - 1,
   sprintf('a graceful restart adding an ordinary certificate: %.1f s with '
           . 'a hanging responder (budget %d s)', $restart, $budget));
$t->stop_httpd;

# A Must-Staple certificate without a response holds the start, within the
# budget, and the log names it.
$t->write_conf(vhosts => [{ name => 'localhost', cert => 'ms' }],
               global => <<"EOF");
StapleGuardStartupTimeout $budget
StapleGuardResponderTimeout 20
StapleGuardRetryMin 1
StapleGuardRetryMax 2
EOF
$t0 = time();
$t->start_httpd(no_fetch_wait => 1);
$startup = time() - $t0;
ok($startup >= $budget - 0.5 && $startup < $budget + 6,
   sprintf('startup with a Must-Staple certificate and a hanging responder '
           . 'took %.1f s (budget %d s)', $startup, $budget));
like($t->error_log, qr/SG0104/, 'the startup fetch was cut off by the budget');
like($t->error_log, qr/SG0044: the start waited \d+ ms for 1 Must-Staple certificates without a valid response \(CN=[^)]+\)/,
     'the log says which certificate held the start, and how long');

# The background fetcher is now stuck on the hanging responder for up to
# 20 s; handshakes must not notice.
$r = $t->s_client;
ok($r->{handshake} && !$r->{stapled}, 'handshake completes without a staple');
ok($r->{elapsed} < 5, sprintf('... and does not wait (%.2f s; the '
                              . 'responder hangs for 120 s)', $r->{elapsed}));

$t->set_mode('slow 3');
ok(SGTest::wait_for(sub { $t->s_client->{stapled} }, 60),
   'once the responder answers (slowly), handshakes get the staple');
$r = $t->s_client;
ok($r->{elapsed} < 2, sprintf('a stapled handshake with a 3 s responder '
                              . 'takes %.2f s', $r->{elapsed}));
$t->stop_httpd;

# SSLUseStapling On beside the module: the module still provides the
# staples; mod_ssl never asks the responder itself.
$t->set_mode('good');
my $before = scalar @{$t->requests};
$t->write_conf(global => "SSLUseStapling On\nSSLStaplingCache shmcb:" . $t->dir . "/run/stapling(32768)\n");
$t->start_httpd;
$r = $t->s_client;
ok($r->{stapled} && $r->{cert_status} eq 'good',
   'with SSLUseStapling On the staple is still there');
$t->s_client for 1 .. 5;
my @reqs = @{$t->requests}[$before .. $#{$t->requests}];
is(scalar(grep { $_->[1] eq 'POST' } @reqs), 0,
   'and only the module asked the responder (with GET; mod_ssl would POST)');
$t->stop_httpd;

# The control: the same without the module, so that the check above could
# fail. mod_ssl fetches inside the handshake, with POST.
$before = scalar @{$t->requests};
$t->write_conf(no_module => 1, global => "SSLUseStapling On\nSSLStaplingCache shmcb:" . $t->dir . "/run/stapling(32768)\n");
$t->start_httpd;
$t->s_client;
@reqs = @{$t->requests}[$before .. $#{$t->requests}];
ok(scalar(grep { $_->[1] eq 'POST' } @reqs) > 0,
   'control: without the module, mod_ssl asks the responder with POST');
$t->stop_httpd;
done_testing;
