#!/usr/bin/perl
# Scenario 7: 1,000 and 10,000 certificates on as many name-based virtual
# hosts (issue 11), mod_staple_guard against no stapling only.
#
# For each size in turn:
#   cold:   store emptied, start, then poll the status page (?auto) until
#           every certificate is good: the time from the command to that,
#           and the responder's requests meanwhile.
#   memory: once every certificate is stapled and before anything else
#           touches the children: parent RSS, each child's RSS, and the
#           same for no stapling with the same hosts; per certificate, the
#           difference divided by the count, beside the responses' size.
#   status: the status page's HTML (first page), ?json, ?metrics and ?auto,
#           each fetched $STATUS_ROUNDS times: median time and size.
#   warm:   started again $WARM_ROUNDS times, alternating with no stapling,
#           with the store full: startup time and its ratio, and the CPU
#           the parent used (httpd's own thread) and its startup helpers;
#           after the last start of each, memory again, before any request
#           or fetch (the cold figures include what the fetcher's threads
#           and the status page's requests keep).
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/../t/lib", "$FindBin::Bin/lib";
use SGTest;
BEGIN { SGTest::enter_netns() }
use SGBench;
use List::Util qw(max sum);
use Time::HiRes qw(time sleep);

my $QUICK = $ENV{SG_BENCH_QUICK};
my @SIZES = split ' ', ($ENV{SG_BENCH_SCALE} // ($QUICK ? '100 300' : '1000 10000'));
my $WARM_ROUNDS = $ENV{SG_BENCH_SCALE_ROUNDS} // ($QUICK ? 1 : 3);
my $STATUS_ROUNDS = 3;
my $DOMAIN = 'scale.test';
my $STATUS_PATH = '/sg-status';
my $POLL = 1;                       # seconds between status looks
my $FETCH_RATE_MIN = 10;            # certificates/s below which it gave up
my $START_RATE_MIN = 20;            # hosts/s a start must reach
my $CONCURRENCY = 4;                # StapleGuardFetchConcurrency (default)

SGBench::progress("scenario 7: @SIZES certificates on as many virtual hosts");
my $ca = SGTest->new;
$ca->start_responder(mode => 'good');
my $most = max(@SIZES);
my $t0 = time();
my $dir = $ca->pkifile('scale');
mkdir $dir or die "$dir: $!";
system($SGBench::MKCERTS, $ca->pkifile('inter.crt'), $ca->pkifile('inter.key'),
       $ca->url, $dir, $DOMAIN, $most) == 0 or die "sg_mkcerts failed";
my $gen_s = time() - $t0;
SGBench::progress(sprintf("generated %d certificates in %.2f s", $most, $gen_s));

my $status_conf = SGTest::status_location($STATUS_PATH);
# Two children whatever happened before memory is read (the event MPM
# would otherwise keep a varying number of spare ones).
my $fixed_children = "ServerLimit 2\nMaxRequestWorkers 50\n";
my $sg_conf = "StapleGuardFetchConcurrency $CONCURRENCY\n$status_conf";

# ---- helpers ----------------------------------------------------------------

sub requests_between {
    my ($from, $to) = @_;
    return scalar grep { $_->[0] >= $from && $_->[0] <= $to } @{$ca->requests};
}

# A GET of the status page on the first host: (seconds, bytes, body).
sub status_get {
    my ($t, $q) = @_;
    my $p = $t->hport;
    my $out = `curl -s --max-time 120 -w '\\n%{time_total} %{size_download}' --cacert ${\$t->pkifile('root.crt')} --resolve h0.$DOMAIN:$p:127.0.0.1 'https://h0.$DOMAIN:$p$STATUS_PATH$q'`;
    my ($s, $bytes) = $out =~ s/\n(\S+) (\d+)\z//s ? ($1, $2) : (undef, 0);
    return ($s, $bytes, $out);
}

# How many certificates are good: the HTML summary of a page past the
# last (no rows), which costs the server one pass over the slots, where
# ?auto would write a line for each.
sub sg_good {
    my ($t) = @_;
    my (undef, undef, $html) = status_get($t, '?state=good&page=1000000');
    return $html =~ />(\d+) good</ ? $1 : 0;
}

# The responses' size: the DER inside each store file (a sample).
sub response_bytes {
    my ($t) = @_;
    my @files = (glob($t->dir . '/sg-store/*.ocsp'))[0 .. 99];
    my @len = map { length($t->store_decode(SGTest::slurp($_)) // '') }
              grep { defined } @files;
    return @len ? SGBench::median(@len) : undef;
}

sub memory {
    my ($t) = @_;
    my $m = SGBench::memory($t);
    my @kids = values %{$m->{child_rss_kb}};
    $m->{min_child_rss_kb} = (sort { $a <=> $b } @kids)[0] // 0;
    return $m;
}

sub status_times {
    my ($t) = @_;
    my %r;
    for my $q ('?page=1', '?json', '?metrics', '?auto') {
        my (@s, $bytes);
        for (1 .. $STATUS_ROUNDS) {
            my ($s, $b) = status_get($t, $q);
            push @s, $s;
            $bytes = $b;
        }
        $r{$q} = { s => SGBench::median(@s), bytes => $bytes };
    }
    return \%r;
}

# ---- one size -----------------------------------------------------------------

sub run_size {
    my ($n) = @_;
    my @vhosts = map { { name => "h$_.$DOMAIN", cert => "scale/h$_" } } 0 .. $n - 1;
    my %srv = map {
        $_ => SGBench::server(config => $_, share => $ca, vhosts => \@vhosts,
                              global => $fixed_children
                                        . ($_ eq 'sg' ? $sg_conf : ''))
    } qw(none sg);
    my (%r, $t);

    $SGBench::READY_TIMEOUT = 60 + $n / $START_RATE_MIN;
    # cold
    $t = $srv{sg};
    SGBench::clear_store($t);
    my $start = time();
    $r{cold_startup_s} = SGBench::start($t);
    my $limit = 60 + $n / $FETCH_RATE_MIN;
    sleep($POLL) until sg_good($t) >= $n || time() - $start > $limit;
    my $end = time();
    $r{all_stapled_s} = sg_good($t) >= $n ? $end - $start : undef;
    $r{requests_until_all} = requests_between($start, $end);
    sleep(2);               # the store written, the children settled
    $r{memory} = memory($t);
    $r{response_bytes} = response_bytes($t);
    $r{status} = status_times($t);
    SGBench::stop($t);
    SGBench::progress(sprintf("%5d sg cold: ready in %.2f s, all good after %s "
        . "(%d requests); parent RSS %d kB", $n, $r{cold_startup_s},
        defined $r{all_stapled_s} ? sprintf('%.1f s', $r{all_stapled_s}) : 'never',
        $r{requests_until_all}, $r{memory}{parent_rss_kb}));

    # no stapling: memory
    $t = $srv{none};
    $r{none_startup_s} = SGBench::start($t);
    sleep(2);
    $r{none_memory} = memory($t);
    SGBench::stop($t);

    # warm, alternating
    for my $round (1 .. $WARM_ROUNDS) {
        for my $c ($round % 2 ? qw(none sg) : qw(sg none)) {
            my $s = SGBench::start($srv{$c});
            my ($main, $all, $reaped) = SGBench::parent_cpu($srv{$c});
            if ($round == $WARM_ROUNDS) {
                # before any request or fetch: what the hosts alone hold
                sleep(2);
                $r{warm_memory}{$c} = memory($srv{$c});
            }
            SGBench::stop($srv{$c});
            push @{$r{warm}{$c}}, $s;
            push @{$r{warm_cpu}{$c}}, { main => $main, process => $all,
                                        helpers => $reaped };
            SGBench::progress(sprintf("%5d %-4s warm start %d: ready in %.2f s",
                                      $n, $c, $round, $s));
        }
    }
    my @ratios = sort { $a <=> $b }
                 map { $r{warm}{sg}[$_] / $r{warm}{none}[$_] } 0 .. $WARM_ROUNDS - 1;
    $r{warm_ratio} = SGBench::median(@ratios);
    $r{warm_ratio_min} = $ratios[0];
    $r{warm_ratio_max} = $ratios[-1];
    # httpd's own thread, and the startup helpers it reaped: what they
    # took off it, and what they cost it (docs/benchmarks.md)
    for my $c (qw(sg none)) {
        for my $k (qw(main process helpers)) {
            $r{warm_cpu_s}{$c}{$k} = SGBench::median(map { $_->{$k} }
                                                     @{$r{warm_cpu}{$c}});
        }
    }
    $r{warm_sg_s} = SGBench::median(@{$r{warm}{sg}});
    $r{warm_none_s} = SGBench::median(@{$r{warm}{none}});
    for my $k (qw(parent_rss_kb max_child_rss_kb min_child_rss_kb total_pss_kb)) {
        $r{per_cert_bytes}{$k} = 1024 * ($r{memory}{$k} - $r{none_memory}{$k}) / $n;
        $r{warm_per_cert_bytes}{$k} = 1024 * ($r{warm_memory}{sg}{$k}
                                              - $r{warm_memory}{none}{$k}) / $n;
    }
    return \%r;
}

# Saved after each size: a later one that fails loses nothing before it.
my (%by_size, @done);
for my $n (@SIZES) {
    $by_size{$n} = run_size($n);
    push @done, $n;
    SGBench::save('s7_scale', {
        sizes => \@done, generate_s => $gen_s, generated => $most,
        warm_rounds => $WARM_ROUNDS, status_rounds => $STATUS_ROUNDS,
        concurrency => $CONCURRENCY, results => \%by_size,
    });
}
