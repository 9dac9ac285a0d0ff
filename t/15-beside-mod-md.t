#!/usr/bin/perl
# Beside mod_md's stapling (MDStapling on, MDStapleOthers on) both modules
# ask the same hooks: the one loaded first takes the certificate. This
# test pins down what README.md says about it.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;

my $t = SGTest->new;
$t->start_responder(mode => 'good');
my $d = $t->dir;
my $md = "LoadModule md_module /usr/lib/apache2/modules/mod_md.so\n";
my $sg = "LoadModule staple_guard_module $SGTest::MODULE\n";
for my $case (['mod_md loaded first', $md . $sg, 'POST', 0],
              ['mod_staple_guard loaded first', $sg . $md, 'GET', 1]) {
    my ($what, $modules, $method, $ours) = @$case;
    my $before = scalar @{$t->requests};
    $t->write_conf(no_module => 1, loglevel => 'info ssl:warn',
                   modules => $modules,
                   global => "LogLevel staple_guard:debug\nMDStapling on\n"
                             . "MDStapleOthers on\nMDStoreDir $d/md-$ours\n");
    truncate("$d/logs/error.log", 0);
    $t->start_httpd;
    ok(SGTest::wait_for(sub { $t->s_client->{stapled} }, 20), "$what: stapled");
    my @new = @{$t->requests}[$before .. $#{$t->requests}];
    is(join(' ', map { $_->[1] } @new), $method,
       "$what: one request, by " . ($ours ? 'this module (GET)' : 'mod_md (POST)'));
    is(scalar(() = $t->error_log =~ /SG0020/g), $ours,
       "$what: this module " . ($ours ? 'took' : 'left') . ' the certificate');
    $t->stop_httpd;
}
done_testing;
