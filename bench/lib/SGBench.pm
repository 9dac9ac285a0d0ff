# SGBench: what the benchmark scenarios share.
#
# The four configurations an administrator chooses between, each as a
# throw-away httpd from t/lib/SGTest.pm (same ports on loopback, same
# test PKI layout, same fault-injecting responder); a runner for the
# load client build/bench/sg_bench (bench/sg_bench.c); /proc readings; and
# results written as JSON to the run's output directory, from which
# bench/report.pl writes the doc.
package SGBench;

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(remove_tree);
use Hash::Util::FieldHash qw(fieldhash);
use JSON::PP;
use POSIX qw(mktime);
use Time::HiRes qw(time sleep);

use SGTest;

our $TOP = abs_path(dirname(__FILE__) . '/../..');
our $BENCH = "$TOP/build/bench/sg_bench";
our $MKCERTS = "$TOP/build/tools/sg_mkcerts";
my $MODDIR = '/usr/lib/apache2/modules';

# run.sh snapshots the module and the responder at the start of the run:
# the sources may be rebuilt by someone else while the benchmark runs.
$SGTest::MODULE = $ENV{SG_BENCH_MODULE} if $ENV{SG_BENCH_MODULE};
$SGTest::RESPONDER = $ENV{SG_BENCH_RESPONDER} if $ENV{SG_BENCH_RESPONDER};

# Order matters: runs alternate in this order, and "none" is the baseline.
our @CONFIGS = qw(none sg modssl md);
our %LABEL = (
    none   => 'no stapling',
    sg     => 'mod_staple_guard',
    modssl => 'mod_ssl (SSLUseStapling On)',
    md     => 'mod_md (MDStapling on)',
);

# mod_ssl's cache must hold the 1,000-certificate scenario's responses
# (about 0.5 kB each); the size is mod_ssl's only stapling setting we set.
my $MODSSL_CACHE_BYTES = 1024 * 1024;
# Seconds a start or graceful may take (scenario 7 raises it for 10,000
# hosts).
our $READY_TIMEOUT = 60;
my $CLK_TCK = POSIX::sysconf(POSIX::_SC_CLK_TCK()) || 100;

# ---- the configurations ----------------------------------------------

# What each server was made with (config, vhosts, global), by server:
# kept here, not in the SGTest object, which is SGTest's own.
fieldhash my %made;

# A server for one configuration. With `share => $other` it uses that
# instance's PKI and responder (the 1,000-certificate scenario: one CA);
# loglevel => LEVELS instead of the configuration's own.
sub server {
    my (%o) = @_;
    my $t = SGTest->new($o{share} ? (share => $o{share}) : ());
    $made{$t} = { config => $o{config}, vhosts => $o{vhosts},
                  global => $o{global} // '', loglevel => $o{loglevel} };
    write_config($t);
    return $t;
}

sub config_of { $made{$_[0]}{config} }

# One server per configuration, each with a responder of its own,
# started: the scenarios with one certificate. Returns name => server.
sub start_each {
    my %srv;
    for my $c (@CONFIGS) {
        my $t = server(config => $c);
        $t->start_responder(mode => 'good');
        start($t);
        $srv{$c} = $t;
    }
    return %srv;
}

# The order of round $round (from 1): each round begins one place further
# along, so that every name takes every place in a round once (later in a
# round the machine was seen to measure worse).
sub rotated {
    my ($round, @order) = @_;
    return map { $order[($_ + $round - 1) % @order] } 0 .. $#order;
}

# What each configuration adds to SGTest's httpd.conf: nothing but the
# stapling provider, with that provider's defaults.
sub provider_conf {
    my ($t) = @_;
    my $d = $t->dir;
    my $c = config_of($t);
    return (no_module => 1, loglevel => 'info ssl:warn') if $c eq 'none';
    return (loglevel => 'info ssl:warn staple_guard:info',
            global => "StapleGuardStoreDir $d/sg-store\n") if $c eq 'sg';
    return (no_module => 1, loglevel => 'info ssl:warn',
            global => "SSLUseStapling On\n"
                      . "SSLStaplingCache shmcb:$d/run/ssl_stapling"
                      . "($MODSSL_CACHE_BYTES)\n") if $c eq 'modssl';
    # md:debug: mod_md reports fetched responses only at debug level, and
    # the report checks from its log that it really stapled.
    return (no_module => 1, loglevel => 'info ssl:warn md:debug',
            modules => "LoadModule md_module $MODDIR/mod_md.so\n",
            global => "MDStoreDir $d/md\nMDStapling on\n"
                      . "MDStapleOthers on\n") if $c eq 'md';
    die "unknown configuration $c";
}

sub write_config {
    my ($t) = @_;
    my %p = provider_conf($t);
    $p{global} = ($p{global} // '') . $made{$t}{global};
    $p{loglevel} = $made{$t}{loglevel} if $made{$t}{loglevel};
    $p{vhosts} = $made{$t}{vhosts} if $made{$t}{vhosts};
    $t->write_conf(%p);
}

# Another set of virtual hosts for $t, written to its httpd.conf (for the
# next start or graceful restart).
sub set_vhosts {
    my ($t, $vhosts) = @_;
    $made{$t}{vhosts} = $vhosts;
    write_config($t);
}

# Forget every response kept on disk: the next start is a cold one.
# (mod_ssl keeps its responses in shared memory only, gone at stop.)
sub clear_store {
    my ($t) = @_;
    my $c = config_of($t);
    remove_tree($t->dir . '/sg-store') if $c eq 'sg';
    remove_tree($t->dir . '/md') if $c eq 'md';
}

# ---- starting, timed ----------------------------------------------------

# Error-log timestamps have microseconds: better than any polling.
sub log_time {
    my ($line) = @_;
    my %mon = (Jan => 0, Feb => 1, Mar => 2, Apr => 3, May => 4, Jun => 5,
               Jul => 6, Aug => 7, Sep => 8, Oct => 9, Nov => 10, Dec => 11);
    $line =~ /^\[\w+ (\w+) +(\d+) (\d+):(\d+):(\d+)(\.\d+) (\d+)\]/ or return;
    return mktime($5, $4, $3, $2, $mon{$1}, $7 - 1900, 0, 0, -1) + $6;
}

# Runs `apache2 -k ARG` and waits for the new "resuming normal operations"
# (AH00489). Returns the seconds from the command to that line.
sub apache_timed {
    my ($t, $arg) = @_;
    my $log = $t->dir . '/logs/error.log';
    my $before = -s $log // 0;
    my $t0 = time();
    my ($rc, $out) = $t->apache('-k', $arg);
    die "apache2 -k $arg failed ($rc): $out\n" . $t->error_log if $rc;
    my $line;
    SGTest::wait_for(sub {
        my $new = substr(SGTest::slurp($log), $before);
        ($line) = $new =~ /^(.*AH00489.*)$/m;
        return defined $line;
    }, $READY_TIMEOUT) or die "httpd -k $arg: not ready\n" . $t->error_log;
    $t->track_httpd;
    my $ready = log_time($line) // time();
    return $ready - $t0;
}

sub start { apache_timed($_[0], 'start') }
sub graceful { apache_timed($_[0], 'graceful') }
sub stop { stop_all($_[0]) }

# Stops several servers at once: httpd takes a second or two to stop, and
# those need not add up.
sub stop_all {
    my @pids = map { [$_, $_->untrack_httpd] } @_;
    kill('TERM', $_->[1]) for grep { $_->[1] } @pids;
    for my $p (grep { $_->[1] } @pids) {
        SGTest::wait_for(sub { !kill(0, $p->[1]) }, $READY_TIMEOUT)
            or kill('KILL', $p->[1]);
        unlink $p->[0]->dir . '/run/httpd.pid';
    }
}

# ---- the load client -----------------------------------------------------

# Runs sg_bench against the server; returns its key=value line as a hash.
# Arguments: conc, duration or count, rate (-q), sni, names (-R), label,
# no_status (-S), latencies (-L FILE); cpu => 1
# also adds the server's CPU time per handshake.
sub bench {
    my ($t, %a) = @_;
    my @cmd = ($BENCH, '-h', '127.0.0.1', '-p', $t->hport,
               '-n', $a{sni} // 'localhost', '-c', $a{conc} // 1,
               '-C', $t->pkifile('root.crt'),
               '-l', $a{label} // config_of($t));
    push @cmd, '-R', $a{names} if $a{names};
    push @cmd, '-S' if $a{no_status};
    push @cmd, '-q', $a{rate} if $a{rate};
    push @cmd, '-L', $a{latencies} if $a{latencies};
    push @cmd, defined $a{duration} ? ('-d', $a{duration})
                                    : ('-N', $a{count} // 1);
    my $cpu0 = $a{cpu} ? server_cpu($t) : 0;
    open(my $fh, '-|', @cmd) or die "$BENCH: $!";
    my @lines = <$fh>;
    close $fh;
    my $cpu = $a{cpu} ? server_cpu($t) - $cpu0 : undef;
    my ($kv) = grep { /^sg_bench / } @lines;
    die "sg_bench gave no result: @lines" unless $kv;
    my %r = $kv =~ /(\w+)=(\S+)/g;
    if (defined $cpu && $r{handshakes} > 0) {
        $r{server_cpu_s} = $cpu;
        $r{server_us_per_hs} = 1e6 * $cpu / $r{handshakes};
    }
    unless ($a{quiet}) {
        print STDERR "    $_" for grep { !/^sg_bench / } @lines;
        printf STDERR "      server CPU %.0f us per handshake\n",
            $r{server_us_per_hs} if defined $r{server_us_per_hs};
    }
    return \%r;
}

# One handshake: was it stapled validly, and how long did it take (ms)?
sub probe {
    my ($t, %a) = @_;
    my $r = bench($t, count => 1, quiet => 1, %a);
    return ($r->{valid_staple} == 1 ? 1 : 0, $r->{p50_ms}, $r);
}

# Polls with single handshakes until one carries a valid staple.
# Returns the seconds it took, or undef after $timeout.
sub wait_stapled {
    my ($t, $timeout) = @_;
    my $t0 = time();
    while (time() - $t0 < $timeout) {
        my ($ok) = probe($t);
        return time() - $t0 if $ok;
        sleep(0.05);
    }
    return undef;
}

# A load client left running while a scenario works on the server: the
# same arguments as bench() (duration => seconds it runs at most), and
# outcomes => FILE for its -O lines. bench_stop() ends it (SIGTERM: it
# finishes the handshakes in flight) and returns its result line as a hash.
my $STOP_WAIT = 40;                 # seconds: more than sg_bench's -t
sub bench_start {
    my ($t, %a) = @_;
    my @cmd = ($BENCH, '-h', '127.0.0.1', '-p', $t->hport,
               '-n', $a{sni} // 'localhost', '-c', $a{conc} // 1,
               '-C', $t->pkifile('root.crt'), '-t', $a{timeout} // 10,
               '-l', $a{label} // 'load', '-v', '-d', $a{duration});
    push @cmd, '-q', $a{rate} if $a{rate};
    push @cmd, '-O', $a{outcomes} if $a{outcomes};
    my $log = $t->dir . "/logs/sg_bench-$a{label}.out";
    unlink $log;
    return { t => $t, log => $log, pid => $t->spawn($log, @cmd) };
}

sub bench_stop {
    my ($h) = @_;
    kill('TERM', $h->{pid});
    my $done = SGTest::wait_for(sub { waitpid($h->{pid}, POSIX::WNOHANG()) != 0 },
                                $STOP_WAIT);
    $h->{t}->kill_group($h->{pid});     # only if it did not end
    my $out = SGTest::slurp($h->{log});
    my ($kv) = $out =~ /^(sg_bench .*)$/m;
    die "sg_bench gave no result (ended: $done): $out" unless $kv;
    my %r = $kv =~ /(\w+)=(\S+)/g;
    ($r{why}) = $out =~ /first problem seen: (.*)$/m;
    return \%r;
}

# A valid staple is stale when its handshake ended this long after its
# nextUpdate: the module checks the time when it hands the staple over,
# the client writes the line when the handshake is done (and nextUpdate
# has whole seconds).
our $STALE_SLACK = 0.5;

# The -O lines of a run: [time, outcome, thisUpdate, nextUpdate, why].
sub outcomes {
    my ($file) = @_;
    return [map { [split ' ', $_, 5] } grep { /\S/ }
            split /\n/, SGTest::slurp($file)];
}

# ---- the responder ------------------------------------------------------

sub requests { scalar @{$_[0]->requests} }

# ---- /proc ---------------------------------------------------------------

sub proc_kb {
    my ($pid, $file, $key) = @_;
    my $s = SGTest::slurp("/proc/$pid/$file");
    return $s =~ /^\Q$key\E:\s+(\d+) kB/m ? $1 : 0;
}

sub children_of {
    my ($ppid) = @_;
    my @kids;
    for my $stat (glob '/proc/[0-9]*/stat') {
        my $s = SGTest::slurp($stat);
        # the command may hold spaces and parentheses: split after the last ')'
        next unless $s =~ /\)\s+\S+\s+(\d+)/;
        push @kids, $stat =~ m{/proc/(\d+)/} if $1 == $ppid;
    }
    return @kids;
}

# CPU time (s) httpd has used: every process of it now, plus the children
# the parent already reaped (cutime, cstime). Counting the server's own
# CPU per handshake separates its cost from the client's, which shares
# the machine and costs more per handshake than the server does.
sub server_cpu {
    my ($t) = @_;
    my $pid = $t->httpd_pid or die 'no httpd pid';
    my $ticks = 0;
    for my $p ($pid, children_of($pid)) {
        my $s = SGTest::slurp("/proc/$p/stat");
        next unless $s =~ /\)\s+(.*)$/s;
        my @f = split ' ', $1;      # $f[0] is field 3 of proc(5), state
        $ticks += $f[11] + $f[12];                  # utime, stime
        $ticks += $f[13] + $f[14] if $p == $pid;    # reaped children's
    }
    return $ticks / $CLK_TCK;
}

# CPU seconds the parent of a running httpd has used: (its own first
# thread, httpd's, which configured the server; the whole process, the
# threads it ran and ended included; the children it reaped).
sub parent_cpu {
    my ($t) = @_;
    my $pid = $t->httpd_pid or die 'no httpd pid';
    my @sec;
    for my $stat ("/proc/$pid/task/$pid/stat", "/proc/$pid/stat") {
        my $s = SGTest::slurp($stat);
        my @f = $s =~ /\)\s+(.*)$/s ? split(' ', $1) : ();
        push @sec, @f ? ($f[11] + $f[12]) / $CLK_TCK : undef;
        # children it reaped (cutime, cstime): at ready, its startup
        # helpers alone
        push @sec, @f ? ($f[13] + $f[14]) / $CLK_TCK : undef
            if $stat eq "/proc/$pid/stat";
    }
    return @sec;
}

# Size and resident part of the shared (MAP_SHARED) mappings of a
# process, kB: where httpd keeps its scoreboard, mod_ssl its shmcb, and
# the module its table.
sub shared_kb {
    my ($pid) = @_;
    my ($size, $rss, $shared) = (0, 0, 0);
    for (split /\n/, SGTest::slurp("/proc/$pid/smaps")) {
        if (/^[0-9a-f]+-[0-9a-f]+ \S\S\S(\S)/) { $shared = $1 eq 's'; }
        elsif ($shared && /^Size:\s+(\d+) kB/) { $size += $1; }
        elsif ($shared && /^Rss:\s+(\d+) kB/) { $rss += $1; }
    }
    return ($size, $rss);
}

# Memory of a running httpd: the parent's RSS and shared mappings, the
# children's RSS (all, and the largest: mod_md's and this module's
# fetchers live in one child), and the proportional set size of all
# processes together (shared pages counted once).
sub memory {
    my ($t) = @_;
    my $pid = $t->httpd_pid or die 'no httpd pid';
    my @kids = children_of($pid);
    my @kid_rss = map { proc_kb($_, 'status', 'VmRSS') } @kids;
    my ($shm, $shm_rss) = shared_kb($pid);
    my $pss = 0;
    $pss += proc_kb($_, 'smaps_rollup', 'Pss') for $pid, @kids;
    my $kids_rss = 0;
    $kids_rss += $_ for @kid_rss;
    return {
        parent_rss_kb => proc_kb($pid, 'status', 'VmRSS'),
        parent_shared_kb => $shm,
        parent_shared_rss_kb => $shm_rss,
        children => scalar @kids,
        children_rss_kb => $kids_rss,
        max_child_rss_kb => (sort { $b <=> $a } @kid_rss)[0] // 0,
        child_rss_kb => { map { $kids[$_] => $kid_rss[$_] } 0 .. $#kids },
        total_pss_kb => $pss,
    };
}

sub fd_count {
    my ($pid) = @_;
    opendir(my $dh, "/proc/$pid/fd") or return 0;
    my $n = grep { !/^\.\.?$/ } readdir $dh;
    closedir $dh;
    return $n;
}

# What a long run watches for leaks: the parent's RSS and open file
# descriptors, and its children's (a mean over those alive: a graceful
# restart replaces them all, and some old ones may still be finishing).
sub leak_sample {
    my ($t) = @_;
    my $pid = $t->httpd_pid or die 'no httpd pid';
    my @kids = children_of($pid);
    my @rss = map { proc_kb($_, 'status', 'VmRSS') } @kids;
    my @fds = map { fd_count($_) } @kids;
    my $mean = sub { @_ ? sum(@_) / @_ : 0 };
    return {
        parent_pid => $pid,
        parent_rss_kb => proc_kb($pid, 'status', 'VmRSS'),
        parent_fds => fd_count($pid),
        children => scalar @kids,
        child_rss_kb => $mean->(@rss),
        child_fds => $mean->(@fds),
        child_rss_kb_max => (sort { $b <=> $a } @rss)[0] // 0,
    };
}

# ---- statistics ------------------------------------------------------------

sub sum { my $s = 0; $s += $_ for @_; return $s }

# The slope of the least-squares line through the points (x, y).
sub slope {
    my ($xs, $ys) = @_;
    my $n = @$xs;
    return undef if $n < 2;
    my ($mx, $my) = (sum(@$xs) / $n, sum(@$ys) / $n);
    my ($sxy, $sxx) = (0, 0);
    for my $i (0 .. $n - 1) {
        $sxy += ($xs->[$i] - $mx) * ($ys->[$i] - $my);
        $sxx += ($xs->[$i] - $mx) ** 2;
    }
    return $sxx ? $sxy / $sxx : undef;
}

# For each key of the samples (hashes), the least-squares slope of its
# value against x (the restart's number, or seconds): per unit of x.
sub slopes {
    my ($xs, $samples, @keys) = @_;
    return { map { my $k = $_; $k => slope($xs, [map { $_->{$k} } @$samples]) }
             @keys };
}


# The nearest-rank percentile q (0..1) of all the samples in the files
# (one number per line): runs pooled, as if they were one long run.
sub pooled_percentile {
    my ($q, @files) = @_;
    my @v;
    for my $f (@files) {
        open(my $fh, '<', $f) or die "$f: $!";
        push @v, map { $_ + 0 } <$fh>;
    }
    return undef unless @v;
    @v = sort { $a <=> $b } @v;
    my $rank = int($q * @v + 0.999999);
    return $v[($rank < 1 ? 1 : $rank) - 1];
}

sub median {
    my @v = sort { $a <=> $b } grep { defined } @_;
    return undef unless @v;
    return @v % 2 ? $v[$#v / 2] : ($v[@v / 2 - 1] + $v[@v / 2]) / 2;
}

sub minmax {
    my @v = sort { $a <=> $b } grep { defined } @_;
    return @v ? ($v[0], $v[-1]) : (undef, undef);
}

# ---- results ------------------------------------------------------------

sub out_dir {
    my $d = $ENV{SG_BENCH_OUT} // "$TOP/bench/out";
    mkdir $d unless -d $d;
    return $d;
}

# A path in the run's output directory.
sub out_file { out_dir() . "/$_[0]" }

sub save {
    my ($name, $data) = @_;
    my $path = out_dir() . "/$name.json";
    open(my $fh, '>', $path) or die "$path: $!";
    print $fh JSON::PP->new->canonical->pretty->encode($data);
    close $fh;
    print STDERR "  results: $path\n";
}

# Lines of a configuration's error log that show its stapling at work
# (or not): the report quotes how many there were.
sub log_evidence {
    my ($t) = @_;
    my $log = $t->error_log;
    my $c = config_of($t);
    my %pat = (
        sg => qr/SG0020: /,
        md => qr/certificate status is GOOD/,
        modssl => qr/AH019\d\d|stapl/i,
        none => qr/(?!)/,
    );
    my @hits = grep { /$pat{$c}/ } split /\n/, $log;
    return { count => scalar @hits, first => $hits[0] };
}

sub progress { print STDERR "  ", @_, "\n" }

1;
