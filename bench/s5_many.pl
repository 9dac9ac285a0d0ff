#!/usr/bin/perl
# Scenario 5: 1,000 certificates on 1,000 name-based virtual hosts.
#
# One CA (the test intermediate) issued them all, with one responder, as
# with a hosting provider's single CA. For each configuration in turn:
#   cold: store emptied, start, then wait until every name staples; time
#         that, count the responder's requests, read memory from /proc.
#   warm: started again $WARM_ROUNDS times, alternating configurations,
#         with whatever each kept on disk: startup time and requests.
# "Every name staples" is checked by the client: sg_bench sweeps all the
# names (one handshake each) until one sweep is 100% valid staples. Before
# sweeping, mod_staple_guard's status page (?json) and mod_md's request
# count tell when it is worth trying, so sweeps do not slow the fetching.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib", "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use SGBench;
use Time::HiRes qw(time sleep);

my $QUICK = $ENV{SG_BENCH_QUICK};
my $CERTS = $ENV{SG_BENCH_CERTS} // ($QUICK ? 100 : 1000);
# Startup time varies by 10-20 % from one start to the next on a shared
# machine: enough rounds for a median, and an A/A control (no stapling
# started twice per round) to show what the noise alone does to a ratio.
my $WARM_ROUNDS = $QUICK ? 1 : 5;
my $AGAIN = 'none_again';
my $DOMAIN = 'bench.test';
my $SWEEP_CONC = 4;
my $ALL_STAPLED_TIMEOUT = 90;       # seconds from start
my $POLL = 0.2;                     # seconds between status looks
my $STATUS_PATH = '/sg-status';

SGBench::progress("scenario 5: $CERTS certificates on $CERTS virtual hosts");
my $ca = SGTest->new;
$ca->start_responder(mode => 'good');
my $t0 = time();
my $many = $ca->pkifile('many');
mkdir $many or die "$many: $!";
system($SGBench::MKCERTS, $ca->pkifile('inter.crt'), $ca->pkifile('inter.key'),
       $ca->url, $many, $DOMAIN, $CERTS) == 0 or die "sg_mkcerts failed";
my $gen_s = time() - $t0;
SGBench::progress(sprintf("generated %d certificates in %.2f s", $CERTS, $gen_s));

my @vhosts = map { { name => "h$_.$DOMAIN", cert => "many/h$_" } } 0 .. $CERTS - 1;
my $status_conf = <<"EOF";
<Location "$STATUS_PATH">
    SetHandler staple-guard-status
    Require ip 127.0.0.1
</Location>
EOF
# Exactly two children, whatever the sweeps did before memory is read: the
# event MPM would otherwise keep a varying number of spare ones.
my $fixed_children = "ServerLimit 2\nMaxRequestWorkers 50\n";
my %srv = map {
    $_ => SGBench::server(config => $_, share => $ca, vhosts => \@vhosts,
                          global => $fixed_children
                                    . ($_ eq 'sg' ? $status_conf : ''))
} @SGBench::CONFIGS;

# ---- helpers ------------------------------------------------------------

# Responder requests logged between two moments (epoch seconds).
sub requests_between {
    my ($from, $to) = @_;
    return scalar grep { $_->[0] >= $from && $_->[0] <= $to } @{$ca->requests};
}

# How many certificates mod_staple_guard's status page calls good.
# How many certificates the status page says are good: from ?auto's
# summary line, which costs the client nothing to read. (Decoding the
# ?json of 1,000 certificates every 0.2 s took a core from the server while
# its fetcher worked in the background.)
sub sg_good {
    my ($t) = @_;
    my $p = $t->hport;
    my $auto = `curl -s --max-time 10 --cacert ${\$t->pkifile('root.crt')} --resolve h0.$DOMAIN:$p:127.0.0.1 'https://h0.$DOMAIN:$p$STATUS_PATH?auto'`;
    return $auto =~ /^StapleGuardState_good: (\d+)$/m ? $1 : 0;
}

sub sweep {
    my ($t) = @_;
    return SGBench::bench($t, sni => "h%d.$DOMAIN", names => $CERTS,
                          count => $CERTS, conc => $SWEEP_CONC, quiet => 1);
}

# Until a configuration has probably fetched everything: a cheap signal.
sub wait_fetched {
    my ($t, $start) = @_;
    my $c = SGBench::config_of($t);
    my $cond = $c eq 'sg' ? sub { sg_good($t) >= $CERTS }
             : $c eq 'md' ? sub { requests_between($start, time()) >= $CERTS }
             : sub { 1 };   # mod_ssl fetches when asked: sweep at once
    until ($cond->()) {
        return 0 if time() - $start > $ALL_STAPLED_TIMEOUT;
        sleep($POLL);
    }
    return 1;
}

# Sweeps until one sweep is all valid staples. Returns the seconds from
# $start to the end of that sweep (undef if never) and the first sweep.
sub wait_all_stapled {
    my ($t, $start) = @_;
    my ($first, $last);
    if (wait_fetched($t, $start)) {
        while (time() - $start < $ALL_STAPLED_TIMEOUT) {
            $last = sweep($t);
            $first //= $last;
            return (time() - $start, $first, $last)
                if $last->{valid_staple} == $CERTS;
            last if SGBench::config_of($t) eq 'none';
        }
    }
    return (undef, $first // sweep($t), $last);
}

# ---- cold -----------------------------------------------------------------

my %cold;
for my $c (@SGBench::CONFIGS) {
    my $t = $srv{$c};
    SGBench::clear_store($t);
    my $start = time();
    my $startup = SGBench::start($t);
    my %r = (startup_s => $startup,
             startup_requests => requests_between($start, $start + $startup));
    my ($all, $first, $last) = wait_all_stapled($t, $start);
    $r{all_stapled_s} = $all;
    $r{first_sweep_valid_pct} = $first->{valid_pct} + 0;
    $r{first_sweep_s} = $first->{elapsed_s} + 0;
    $r{last_sweep_valid_pct} = ($last // $first)->{valid_pct} + 0;
    $r{requests_until_all} = requests_between($start, time());
    $r{memory} = SGBench::memory($t);
    $r{evidence} = SGBench::log_evidence($t);
    # Which child runs mod_md's OCSP watchdog (it logs AH10197 at debug)?
    ($r{md_watchdog_pid}) = $t->error_log =~ /\[pid (\d+):[^\]]*\][^\n]*AH10197/
        if $c eq 'md';
    SGBench::stop($t);
    $cold{$c} = \%r;
    SGBench::progress(sprintf("%-7s cold: ready in %.2f s (%d requests), "
        . "every name stapled after %s; first sweep %.1f%% valid in %.2f s; "
        . "parent RSS %d kB", $c, $startup, $r{startup_requests},
        defined $all ? sprintf('%.2f s', $all) : 'never',
        $r{first_sweep_valid_pct}, $r{first_sweep_s},
        $r{memory}{parent_rss_kb}));
}

# ---- warm -------------------------------------------------------------------

my %warm;
my @order = (@SGBench::CONFIGS, $AGAIN);
for my $round (1 .. $WARM_ROUNDS) {
    my @this = SGBench::rotated($round, @order);
    for my $c (@this) {
        my $t = $srv{$c eq $AGAIN ? 'none' : $c};
        my $start = time();
        my $startup = SGBench::start($t);
        my ($stapled) = SGBench::probe($t, sni => "h0.$DOMAIN");
        SGBench::stop($t);
        push @{$warm{$c}}, {
            startup_s => $startup,
            startup_requests => requests_between($start, $start + $startup),
            first_stapled => $stapled,
        };
        SGBench::progress(sprintf("%-10s warm start %d: ready in %.2f s",
                                  $c, $round, $startup));
    }
}

# Ratios to "no stapling" of the same round, so that a slow spell of the
# machine weighs on both sides of each.
sub warm_ratios {
    my ($c) = @_;
    my @w = @{$warm{$c}};
    return map { $w[$_]{startup_s} / $warm{none}[$_]{startup_s} } 0 .. $#w;
}

my %summary;
for my $c (@SGBench::CONFIGS, $AGAIN) {
    my @w = @{$warm{$c}};
    my @ratios = sort { $a <=> $b } warm_ratios($c);
    $summary{$c} = {
        ($cold{$c} ? (%{$cold{$c}}, cold_startup_s => $cold{$c}{startup_s})
                   : ()),
        warm_startup_s => SGBench::median(map { $_->{startup_s} } @w),
        warm_startup_ratio => SGBench::median(@ratios),
        warm_startup_ratio_min => $ratios[0],
        warm_startup_ratio_max => $ratios[-1],
        warm_startup_requests => SGBench::median(map { $_->{startup_requests} } @w),
        warm_first_stapled => scalar grep { $_->{first_stapled} } @w,
    };
    delete $summary{$c}{startup_s};
}
SGBench::save('s5_many', {
    certs => $CERTS, generate_s => $gen_s, warm_rounds => $WARM_ROUNDS,
    cold => \%cold, warm => \%warm, summary => \%summary,
});
