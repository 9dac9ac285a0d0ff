#!/usr/bin/perl
# Scenario 8: a fleet. Responder requests per certificate per refresh
# window for 1, 2 and 4 servers with the same certificates, each server
# alone (every one fetches) and sharing a real redis-server through
# StapleGuardSharedCache (whichever is due first fetches and publishes, the
# others take its response).
#
# Responses are valid VALIDITY seconds, so with StapleGuardRefreshAt 50 a
# certificate's refresh window is VALIDITY / 2. The servers start one after
# the other; after one window of warm-up the responder's requests are
# counted over MEASURE windows.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib", "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use SGBench;
use SGCache;
use Time::HiRes qw(time sleep);

my $QUICK = $ENV{SG_BENCH_QUICK};
my $VALIDITY = 12;                  # seconds a response is valid
my $WINDOW = $VALIDITY / 2;         # StapleGuardRefreshAt 50 (the default)
my $MEASURE = $QUICK ? 4 : 8;       # windows counted
my @SERVERS = (1, 2, 4);
my $STAPLE_WAIT = 30;
my @VHOSTS = map { { name => $_->[0], cert => $_->[1] } }
             (['localhost', 'leaf'], ['must-staple.localhost', 'ms'],
              ['revoked.localhost', 'revoked']);

SGBench::progress("scenario 8: a fleet of 1, 2 and 4 servers, alone and "
                  . "sharing redis; responses valid $VALIDITY s");

# N servers of one CA (the first one's PKI and responder), all started.
sub fleet {
    my ($n, $cache) = @_;
    my $global = "StapleGuardRetryMin 1\n"
        . ($cache ? SGCache::load_line('redis')
                    . "StapleGuardSharedCache " . SGCache::spec($cache) . "\n"
                  : '');
    my @fleet;
    for my $i (1 .. $n) {
        push @fleet, SGBench::server(config => 'sg', vhosts => \@VHOSTS,
                                     global => $global,
                                     $i > 1 ? (share => $fleet[0]) : ());
    }
    return @fleet;
}

sub run {
    my ($n, $shared) = @_;
    my $lead = SGTest->new(no_pki => 1);    # owns the cache server
    my $cache = $shared ? SGCache::start($lead, 'redis') : undef;
    my @fleet = fleet($n, $cache);
    $fleet[0]->start_responder(mode => 'good', validity => $VALIDITY);
    my $start_requests = 0;
    for my $t (@fleet) {
        my $r0 = SGBench::requests($fleet[0]);
        SGBench::start($t);
        defined SGBench::wait_stapled($t, $STAPLE_WAIT)
            or die "server not stapled:\n" . $t->error_log;
        $start_requests += SGBench::requests($fleet[0]) - $r0;
    }
    sleep($WINDOW);
    my $r0 = SGBench::requests($fleet[0]);
    sleep($WINDOW * $MEASURE);
    my $requests = SGBench::requests($fleet[0]) - $r0;
    my ($valid) = SGBench::probe($fleet[-1]);
    SGBench::stop_all(@fleet);
    $fleet[0]->stop_responder;
    SGCache::stop($lead, $cache) if $cache;
    my %r = (servers => $n, shared => $shared ? 1 : 0,
             requests => $requests, start_requests => $start_requests,
             windows => $MEASURE, certs => scalar @VHOSTS,
             per_cert_window => $requests / (@VHOSTS * $MEASURE),
             stapled_at_end => $valid);
    SGBench::progress(sprintf("%d server(s) %-6s: %d requests in %d windows "
        . "for %d certificates: %.2f per certificate per window (%d at "
        . "the starts)", $n, $shared ? 'shared' : 'alone', $requests,
        $MEASURE, scalar @VHOSTS, $r{per_cert_window}, $start_requests));
    return \%r;
}

my %runs;
for my $n (@SERVERS) {
    for my $mode (qw(alone shared)) {
        $runs{$mode}{$n} = run($n, $mode eq 'shared');
    }
}

# Against one server alone: the request rate the fleet adds.
my $one = $runs{alone}{1}{per_cert_window};
my %summary;
for my $mode (qw(alone shared)) {
    for my $n (@SERVERS) {
        my $r = $runs{$mode}{$n};
        $summary{$mode}{$n} = { per_cert_window => $r->{per_cert_window},
                                vs_one => $one ? $r->{per_cert_window} / $one
                                               : undef,
                                start_requests => $r->{start_requests} };
    }
}
SGBench::save('s8_fleet', {
    validity_s => $VALIDITY, window_s => $WINDOW, windows => $MEASURE,
    certs => scalar @VHOSTS, servers => \@SERVERS, runs => \%runs,
    summary => \%summary,
});
