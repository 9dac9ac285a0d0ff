#!/usr/bin/perl
# The startup helper (httpd/sgh_helper.c: httpd's program started
# afresh with only this module, told to serve by StapleGuardStartupHelper)
# lost half-way: killed, or stopped so that it sends nothing. httpd's
# thread does what it left (SG0009 says so), the start goes on, and every
# certificate is registered and stapled as if nothing had happened. The
# directive itself is refused in a configuration.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;
use Time::HiRes qw(time sleep);

# Enough certificates that mod_ssl takes a second or more to load them,
# while the helper lives (from the first certificate to post_config).
my $CERTS = 1500;
my $STALL_S = 10;               # SGH_HELPER_STALL_MS
my $FIND_S = 20;                # to see the helper appear
my $MKCERTS = "$SGTest::TOP/build/tools/sg_mkcerts";

my $cpus = (`nproc` =~ /(\d+)/)[0] || 1;
plan skip_all => "one processor: no helper is started (t/17 shows it)"
    if $cpus < 2;

my $t = SGTest->new;
$t->start_responder(mode => 'good');
my $many = $t->pkifile('many');
mkdir $many or die "$many: $!";
system($MKCERTS, $t->pkifile('inter.crt'), $t->pkifile('inter.key'),
       $t->url, $many, 'many.test', $CERTS) == 0 or die "sg_mkcerts failed";
my @vhosts = map { { name => "h$_.many.test", cert => "many/h$_" } }
             0 .. $CERTS - 1;
$t->write_conf(global => SGTest::status_location('/sg-status'),
               vhosts => \@vhosts);
my $conf = $t->dir . '/httpd.conf';

# Processes started with this configuration, and helpers started by
# one of them, by PID: their parent.
sub ours {
    my (%ppid, %helper);
    for my $d (glob '/proc/[0-9]*') {
        my ($pid) = $d =~ /(\d+)$/;
        my $cmd = eval { SGTest::slurp("$d/cmdline") } // next;
        my $stat = eval { SGTest::slurp("$d/stat") } // next;
        my ($pp) = $stat =~ /\)\s+\S+\s+(\d+)/ or next;
        $ppid{$pid} = $pp if index($cmd, $conf) >= 0;
        $helper{$pid} = $pp if $cmd =~ /StapleGuardStartupHelper/;
    }
    $ppid{$_} = $helper{$_} for grep { $ppid{$helper{$_}} } keys %helper;
    return \%ppid;
}

# The helper: one of ours whose parent is one of ours, before httpd has
# any child of its own (no pidfile yet: post_config has not returned).
sub find_helper {
    my $end = time() + $FIND_S;
    while (time() < $end) {
        my $p = ours();
        my @h = grep { $p->{$p->{$_}} } keys %$p;
        return $h[0] if @h == 1 && !-e $t->dir . '/run/httpd.pid';
        sleep(0.005);
    }
    return undef;
}

sub auto {
    return $t->curl('/sg-status?auto', servername => 'h0.many.test',
                    timeout => 30)->{body};
}

# One start with the helper lost by signal $sig; returns the log lines
# of that start.
sub start_losing {
    my ($sig) = @_;
    my $before = -e $t->dir . '/logs/error.log' ? length $t->error_log : 0;
    my ($rc, $out) = $t->apache('-k', 'start');
    die "apache2 -k start failed ($rc): $out" if $rc;
    my $helper = find_helper();
    ok($helper, "$sig: the helper found while httpd loads its hosts");
    kill($sig, $helper) if $helper;
    my $t0 = time();
    ok(SGTest::wait_for(sub { -e $t->dir . '/run/httpd.pid' }, 60),
       "$sig: httpd started anyway");
    diag(sprintf("%s: up %.1f s after the signal", $sig, time() - $t0));
    $t->track_httpd;
    return substr($t->error_log, $before);
}

# Written into a configuration, the helpers' directive is refused.
{
    my $saved = SGTest::slurp($conf);
    $t->write_file($conf, "$saved\nStapleGuardStartupHelper 1\n");
    my ($rc, $out) = $t->apache('-t');
    isnt($rc, 0, 'apache2 -t refuses StapleGuardStartupHelper');
    like($out, qr/StapleGuardStartupHelper is for mod_staple_guard's own use/,
         'and says it is the module\'s own');
    $t->write_file($conf, $saved);
}

for my $sig (qw(KILL STOP)) {
    my $log = start_losing($sig);
    like($log, qr/SG0009: 1 startup helper process\(es\) stopped before their work was done/,
         "$sig: SG0009 says the helper was lost");
    my ($total, $helped, $n, $here) = $log =~
        /SG0008: startup work for (\d+) certificates: (\d+) done by (\d+) helper processes, (\d+) in httpd's thread/;
    is($total, $CERTS, "$sig: every certificate was worked on");
    ok(defined $here && $here > 0, "$sig: httpd's thread did the rest ("
       . ($here // '?') . " of $CERTS)");
    unlike($log, qr/SG0001|SG0007/, "$sig: no certificate refused");
    # every certificate registered and, once fetched, stapled
    ok(SGTest::wait_for(sub { auto() =~ /^StapleGuardCertificates: $CERTS$/m }, 30),
       "$sig: $CERTS certificates registered");
    ok(SGTest::wait_for(sub { auto() =~ /^StapleGuardState_good: $CERTS$/m }, 120),
       "$sig: all $CERTS good");
    my $last = $CERTS - 1;
    for my $name ("h0.many.test", "h$last.many.test") {
        my $r = $t->s_client(servername => $name);
        ok($r->{stapled} && ($r->{cert_status} // '') eq 'good',
           "$sig: $name staples a good response");
    }
    # no helper left behind
    my $left = ours();
    my $httpd = $t->httpd_pid;
    my @strays = grep { $left->{$_} != $httpd && $_ != $httpd } keys %$left;
    is(scalar @strays, 0, "$sig: no process but httpd and its children");
    $t->stop_httpd;
}
done_testing;
