#!/usr/bin/perl
# A dead or slow responder never stalls a handshake, and delays startup by
# at most StapleGuardStartupTimeout. mod_ssl's own stapling, for
# comparison, fetches inside the handshake.
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
$t->start_httpd;
my $startup = time() - $t0;
# The bound is the budget plus httpd's own start; the margin is generous
# because this checks a bound, not a speed.
ok($startup >= $budget - 0.5 && $startup < $budget + 6,
   sprintf('startup with a hanging responder took %.1f s (budget %d s)',
           $startup, $budget));
like($t->error_log, qr/SG0104/, 'the startup fetch was cut off by the budget');

# The background fetcher is now stuck on the hanging responder for up to
# 20 s; handshakes must not notice.
my $r = $t->s_client;
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
