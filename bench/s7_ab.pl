#!/usr/bin/perl
# Scenario 7, A/B: the warm start of two builds of the module against no
# stapling, each round starting the three back to back in a rotating
# order (so a slow spell of the machine hits all three alike), with one
# store filled once for both. Prints each start, each round's ratios and
# their medians. Not part of `make bench`; docs/benchmarks.md (scenario
# 7) quotes a run that compared forked helpers with helpers started
# afresh:
#
#   SG_AB_A=old/mod_staple_guard.so SG_AB_B=build/mod_staple_guard.so \
#       perl -It/lib -Ibench/lib bench/s7_ab.pl
#
# SG_AB_N certificates (10000), SG_AB_ROUNDS rounds (7), SG_AB_FILL
# seconds for the cold start that fills the store (115).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib", "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use SGBench;

my $N = $ENV{SG_AB_N} // 10000;
my $ROUNDS = $ENV{SG_AB_ROUNDS} // 7;
my $FILL = $ENV{SG_AB_FILL} // 115;
my %MOD = (A => $ENV{SG_AB_A}, B => $ENV{SG_AB_B});
$MOD{$_} && -r $MOD{$_} or die "SG_AB_A and SG_AB_B: two module files\n"
    for qw(A B);
my $DOMAIN = 'scale.test';
my @C = qw(none A B);

my $ca = SGTest->new;
$ca->start_responder(mode => 'good');
my $dir = $ca->pkifile('scale');
mkdir $dir or die "$dir: $!";
system($SGBench::MKCERTS, $ca->pkifile('inter.crt'), $ca->pkifile('inter.key'),
       $ca->url, $dir, $DOMAIN, $N) == 0 or die "sg_mkcerts failed";
my @vhosts = map { { name => "h$_.$DOMAIN", cert => "scale/h$_" } } 0 .. $N - 1;
my $store = $ca->dir . '/shared-store';
mkdir $store or die "$store: $!";
my %srv;
for my $c (@C) {
    local $SGTest::MODULE = $MOD{$c} if $MOD{$c};
    $srv{$c} = SGBench::server(
        config => $c eq 'none' ? 'none' : 'sg', share => $ca,
        vhosts => \@vhosts,
        global => "ServerLimit 2\nMaxRequestWorkers 50\n"
                  . ($c eq 'none' ? '' : "StapleGuardStoreDir $store\n"
                     . "StapleGuardFetchConcurrency 4\n"
                     . SGTest::status_location('/sg-status')));
}
$SGBench::READY_TIMEOUT = 60 + $N / 20;
SGBench::start($srv{B});
sleep($FILL);
SGBench::stop($srv{B});
printf "store: %d responses\n", scalar(() = glob("$store/*.ocsp"));

my %t;
for my $round (1 .. $ROUNDS) {
    for my $c (map { $C[($_ + $round) % @C] } 0 .. $#C) {
        my $s = SGBench::start($srv{$c});
        my ($main, undef, $helpers) = SGBench::parent_cpu($srv{$c});
        SGBench::stop($srv{$c});
        push @{$t{$c}}, $s;
        printf "%d %-4s ready %.2f s, httpd's thread %.2f s, helpers %.2f s\n",
               $round, $c, $s, $main, $helpers // 0;
    }
    printf "  round %d: A %.3f, B %.3f\n", $round,
           $t{A}[-1] / $t{none}[-1], $t{B}[-1] / $t{none}[-1];
}
for my $c (qw(A B)) {
    my @r = sort { $a <=> $b } map { $t{$c}[$_] / $t{none}[$_] } 0 .. $ROUNDS - 1;
    printf "%s: median %.3f (%s)\n", $c, SGBench::median(@r),
           join(' ', map { sprintf '%.3f', $_ } @r);
}
