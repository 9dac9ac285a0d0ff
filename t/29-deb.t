#!/usr/bin/perl
# The Debian package (`make deb`) on this machine's own apache2, as an admin
# uses it (README, "Install as a package"): apt-get install, which enables
# nothing; a2enmod staple_guard and a reload (apache2ctl graceful, what
# `systemctl reload apache2` runs): the system apache2 staples; a full stop
# and start with the responder down: still stapled, from the package's
# store in /var/lib/apache2/staple-guard; apt-get purge: nothing of the
# package is left.
#
# This test changes the system. It fails (it does not skip) when it is not
# root, when the system apache2 is running (it would stop a real server),
# when the package is already installed (it would purge it), or when no
# .deb was built; a lock keeps two copies apart. The system apache2 listens
# on a test port of 127.0.0.1 only: ports.conf (Listen 80 and 443) is
# replaced and 000-default disabled for the test. Every file under
# /etc/apache2, /var/lib/apache2 and the runtime directories, the package's
# paths and /usr/sbin/policy-rc.d (installing starts no service) is put back
# as it was at the end, on failure and on signals too (END); the system's
# logs in /var/log/apache2 are not written (the test's vhost logs into the
# test directory) and are checked to be as they were.
#
# No network namespace (SGTest::enter_netns): on a systemd machine
# apache2ctl hands the start to systemd, outside any namespace of ours.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGTest;
use Test::More;
use Fcntl qw(:flock :mode);
use File::Path qw(remove_tree);
use IO::Socket::INET;
use POSIX qw(sigprocmask SIG_BLOCK SIG_SETMASK SIGINT SIGTERM SIGHUP SIGALRM);
use Time::HiRes qw(sleep time);

my $PKG = 'libapache2-mod-staple-guard';
my $PIDFILE = '/run/apache2/apache2.pid';   # APACHE_PID_FILE of envvars
my $LOCKFILE = '/run/lock/sg-29-deb.lock';
my $SITE = 'sg-deb-test';
my $MODSO = '/usr/lib/apache2/modules/mod_staple_guard.so';
my $STORE = '/var/lib/apache2/staple-guard';
my $POLICY = '/usr/sbin/policy-rc.d';
my $LOGDIR = '/var/log/apache2';
# Everything the test may change, restored from a snapshot at the end.
my @ROOTS = ('/etc/apache2', '/var/lib/apache2', '/run/apache2',
             '/run/lock/apache2', $MODSO, '/usr/bin/staple-guard', $POLICY);
my %ENV_SYS = (PATH => '/usr/sbin:/usr/bin:/sbin:/bin',
               DEBIAN_FRONTEND => 'noninteractive', LANG => 'C');

# A failed precondition fails the test and changes nothing.
sub refuse {
    my ($why) = @_;
    fail($why);
    done_testing();
    exit 1;
}

# Run a command with a clean environment: (exit code, output). INT, TERM,
# HUP and ALRM wait until it is done (an apt-get or an apache2ctl start is
# never left half way); then END puts things back.
my $DEFER = POSIX::SigSet->new(SIGINT, SIGTERM, SIGHUP, SIGALRM);
sub run {
    my (@cmd) = @_;
    my $old = POSIX::SigSet->new;
    sigprocmask(SIG_BLOCK, $DEFER, $old);
    my $pid = open(my $fh, '-|') // die "fork: $!";
    if (!$pid) {
        SGTest::exec_child(sub {
            sigprocmask(SIG_SETMASK, $old);
            %ENV = %ENV_SYS;
            open(STDERR, '>&', \*STDOUT) or die "stderr: $!\n";
            open(STDIN, '<', '/dev/null') or die "stdin: $!\n";
        }, @cmd);
    }
    my $out = do { local $/; <$fh> } // '';
    close $fh;
    my $rc = $? >> 8;
    sigprocmask(SIG_SETMASK, $old);
    return ($rc, $out);
}

sub read_bin {
    my ($path) = @_;
    open(my $fh, '<:raw', $path) or return undef;
    local $/;
    my $c = <$fh>;
    return $c // '';
}

sub pkg_status {
    my (undef, $out) = run('dpkg-query', '-W', '-f=${Status}', $PKG);
    return $out;
}

# The live process of the system apache2's pid file, if any.
sub system_apache_pid {
    my $pid = SGTest::slurp($PIDFILE);
    return undef if $pid !~ /(\d+)/;
    $pid = $1;
    return kill(0, $pid) ? $pid : undef;
}

# ---- snapshot of files, directories and symlinks, and its restore ----

sub snapshot {
    my %s;
    my @todo = @_;
    while (defined(my $p = shift @todo)) {
        my @st = lstat($p) or next;
        my %e = (mode => $st[2] & 07777, uid => $st[4], gid => $st[5],
                 atime => $st[8], mtime => $st[9]);
        if (S_ISLNK($st[2])) {
            $e{kind} = 'link';
            $e{link} = readlink($p);
        } elsif (S_ISDIR($st[2])) {
            $e{kind} = 'dir';
            opendir(my $dh, $p) or die "$p: $!";
            push @todo, map { "$p/$_" } grep { !/^\.\.?$/ } readdir($dh);
        } elsif (S_ISREG($st[2])) {
            $e{kind} = 'file';
            $e{data} = read_bin($p);
        } else {
            next;   # sockets, fifos: none of them survives a stop anyway
        }
        $s{$p} = \%e;
    }
    return \%s;
}

# What differs between two snapshots (times aside).
sub differences {
    my ($a, $b) = @_;
    my @d;
    for my $p (sort keys %{{ %$a, %$b }}) {
        my ($x, $y) = ($a->{$p}, $b->{$p});
        if (!$x) { push @d, "$p: added"; next }
        if (!$y) { push @d, "$p: gone"; next }
        for my $k (qw(kind mode uid gid link data)) {
            next if ($x->{$k} // '') eq ($y->{$k} // '');
            next if $k eq 'mode' && $x->{kind} eq 'link';
            push @d, "$p: $k differs";
        }
    }
    return \@d;
}

sub restore {
    my ($snap) = @_;
    my $now = snapshot(@ROOTS);
    # what was not there, or was something else: deepest first
    for my $p (sort { length($b) <=> length($a) } keys %$now) {
        my $was = $snap->{$p};
        next if $was && $was->{kind} eq $now->{$p}{kind};
        $now->{$p}{kind} eq 'dir' ? remove_tree($p) : unlink($p);
    }
    # what was there: parents first
    for my $p (sort { length($a) <=> length($b) } keys %$snap) {
        my $e = $snap->{$p};
        my $cur = snapshot($p)->{$p};
        if ($e->{kind} eq 'dir') {
            mkdir($p) if !$cur;
        } elsif ($e->{kind} eq 'link') {
            if (!$cur || $cur->{link} ne $e->{link}) {
                unlink($p);
                symlink($e->{link}, $p) or diag("symlink $p: $!");
            }
            lchown($e->{uid}, $e->{gid}, $p);
            next;
        } elsif (!$cur || $cur->{data} ne $e->{data}) {
            open(my $fh, '>:raw', $p) or (diag("$p: $!"), next);
            print $fh $e->{data};
            close $fh;
            utime($e->{atime}, $e->{mtime}, $p);
        }
        chown($e->{uid}, $e->{gid}, $p);
        chmod($e->{mode}, $p);
    }
}

sub lchown {
    my ($uid, $gid, $p) = @_;
    system('chown', '-h', "$uid:$gid", $p);
}

# The system's logs: names and sizes (they are only appended to).
sub log_sizes {
    opendir(my $dh, $LOGDIR) or return {};
    return { map { $_ => -s "$LOGDIR/$_" } grep { -f "$LOGDIR/$_" } readdir($dh) };
}

sub restore_logs {
    my ($before) = @_;
    my $now = log_sizes();
    for my $f (keys %$now) {
        if (!exists $before->{$f}) { unlink("$LOGDIR/$f") }
        elsif ($now->{$f} > $before->{$f}) { truncate("$LOGDIR/$f", $before->{$f}) }
    }
}

# ---- preconditions ----

refuse('running as root (this test installs a package)') if $> != 0;

open(my $lock, '>>', $LOCKFILE) or refuse("$LOCKFILE: $!");
my $locked = 0;
for (1 .. 1200) {       # another copy of this test: wait up to 2 minutes
    last if ($locked = flock($lock, LOCK_EX | LOCK_NB));
    sleep(0.1);
}
refuse("another t/29-deb.t holds $LOCKFILE") if !$locked;

my $running = system_apache_pid();
refuse("the system apache2 is not running (it runs as PID $running: "
       . "this test would stop it)") if $running;
my $status = pkg_status();
refuse("$PKG is not installed yet (it is: $status; this test would purge it)")
    if $status =~ /\bok (?!not-installed)/;
my @debs = glob("$SGTest::TOP/build/deb/${PKG}_*.deb");
refuse('exactly one package in build/deb/ (run `make deb`): found '
       . scalar(@debs)) if @debs != 1;
(my $deb = $debs[0]) =~ s{^\Q$SGTest::TOP\E/}{./};
my ($rc, $out) = run('dpkg-deb', '-c', $debs[0]);
# the package's files and symlinks (not its directories)
my @pkg_files = map { m{ \.(/\S+?)(?: -> \S+)?$} ? $1 : () } grep { !/^d/ } split /\n/, $out;
refuse("dpkg-deb -c $debs[0] lists the package's files") if !@pkg_files;
my $has_cli = grep { $_ eq '/usr/bin/staple-guard' } @pkg_files;

my $t = SGTest->new;      # the test PKI, in a directory of its own

# ---- from here on the system changes: END puts it back ----

my $snap = snapshot(@ROOTS);
my $logs = log_sizes();
my ($started, $restored);
my $port = $t->hport;
$SIG{ALRM} = sub { diag('t/29-deb.t: timed out'); exit 1 };
alarm(240);

sub wait_apache_gone {
    my ($pid) = @_;
    return SGTest::wait_for(sub { !kill(0, $pid) }, 20);
}

# Stop the system apache2 this test started: apache2ctl stop, then its PID.
sub stop_apache {
    # just started: its pid file may come a moment after apache2ctl returns
    SGTest::wait_for(sub { system_apache_pid() }, 3);
    my $pid = system_apache_pid() // return 1;
    run('apache2ctl', 'stop');
    return 1 if wait_apache_gone($pid);
    diag("apache2 $pid did not stop: TERM, then KILL");
    kill('TERM', $pid);
    return 1 if wait_apache_gone($pid);
    kill('KILL', $pid);
    return wait_apache_gone($pid);
}

sub put_back {
    return if $restored;
    $restored = 1;
    stop_apache() if $started;
    run('a2dismod', '-q', 'staple_guard') if -e '/etc/apache2/mods-enabled/staple_guard.load';
    if (pkg_status() =~ /\bok (?!not-installed)/) {
        my ($rc, $out) = run('apt-get', 'purge', '-y', '-q', $PKG);
        diag("apt-get purge: $out") if $rc;
        # an interrupted dpkg run: apt-get refuses, dpkg itself does not
        if (pkg_status() =~ /\bok (?!not-installed)/) {
            ($rc, $out) = run('dpkg', '--purge', $PKG);
            diag("dpkg --purge: $out") if $rc;
        }
    }
    restore($snap);
    restore_logs($logs);
}

END {
    my $rc = $?;
    if ($snap && !$restored) {
        diag('putting the system back (the test did not get to the end)');
        put_back();
        my $left = differences($snap, snapshot(@ROOTS));
        diag("not as it was:\n" . join("\n", @$left)) if @$left;
    }
    $? = $rc;
}

# A TLS server on the port: the system apache2 is up.
sub apache_up {
    return SGTest::wait_for(sub {
        system_apache_pid() && IO::Socket::INET->new(
            PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 1)
    }, 20);
}

sub wait_stapled {
    my ($secs) = @_;
    my $r;
    SGTest::wait_for(sub { ($r = $t->s_client)->{stapled} }, $secs);
    return $r;
}

# ---- built for this release ----

# A package per release (debian/rules): its version names the release it
# was built on, and it depends on that release's OpenSSL (libssl3 on
# Debian 12, libssl3t64 on 13), the package that holds libcrypto here.
my ($vid) = SGTest::slurp('/etc/os-release') =~ /^VERSION_ID="?(\d+)/m;
$vid //= '?';
(undef, my $ver) = run('dpkg-deb', '-f', $debs[0], 'Version');
(undef, my $deps) = run('dpkg-deb', '-f', $debs[0], 'Depends');
chomp($ver, $deps);
like($ver, qr/\+deb\Q$vid\E$/, "the version names this release (Debian $vid): $ver");
(undef, my $owner) = run('dpkg-query', '-S', '*/libcrypto.so.3');
my ($ssl) = $owner =~ /^([\w.+-]+):/m;
$ssl //= '?';
like($deps, qr/(?:^|, )\Q$ssl\E \(/,
     "it depends on this release's OpenSSL package ($ssl)")
    or diag("Depends: $deps");

# ---- install: nothing enabled, nothing started ----

# as scripts/deps.sh does: no service starts while the package installs
$t->write_file($POLICY, "#!/bin/sh\n# t/29-deb.t: no service starts\nexit 101\n");
chmod(0755, $POLICY);
my $t0 = time();
($rc, $out) = run('sh', '-c', "cd '$SGTest::TOP' && apt-get install -y -q $deb");
is($rc, 0, "apt-get install -y $deb") or diag($out);
like(pkg_status(), qr/install ok installed/, 'dpkg: installed');
ok(-f $MODSO, "the module is in $MODSO");
for my $f (qw(staple_guard.load staple_guard.conf)) {
    is(read_bin("/etc/apache2/mods-available/$f"),
       read_bin("$SGTest::TOP/conf/$f"),
       "mods-available/$f is the project's conf/$f");
}
ok(-d $STORE, "the package made the store directory $STORE");
my @missing = grep { !-e $_ } @pkg_files;
is_deeply(\@missing, [], 'every file of the package (' . scalar(@pkg_files)
          . ') is installed');
if ($has_cli) {
    ok(-x '/usr/bin/staple-guard', 'the command-line tool is /usr/bin/staple-guard');
} else {
    diag('this package has no /usr/bin/staple-guard (build/staple-guard was not built)');
}
ok(!-e '/etc/apache2/mods-enabled/staple_guard.load',
   'installing does not enable the module');
ok(!system_apache_pid(), 'installing started no apache2');

# ---- the system apache2 on a test port of 127.0.0.1 only ----

$t->start_responder(mode => 'good');
SGTest->write_file('/etc/apache2/ports.conf',
                   "# t/29-deb.t: no Listen 80 or 443 during the test\n");
my $d = $t->dir;
my $pki = $t->pkifile('');
SGTest->write_file("/etc/apache2/sites-available/$SITE.conf", <<"EOF");
# t/29-deb.t: a test virtual host on 127.0.0.1 only (removed by the test)
Listen 127.0.0.1:$port
ErrorLog $d/logs/system-error.log
LogLevel info ssl:warn
<IfModule staple_guard_module>
    LogLevel info ssl:warn staple_guard:debug
</IfModule>
<VirtualHost 127.0.0.1:$port>
    ServerName localhost
    SSLEngine on
    SSLCertificateFile ${pki}leaf-chain.pem
    SSLCertificateKeyFile ${pki}leaf.key
    CustomLog $d/logs/system-access.log combined
</VirtualHost>
EOF
for my $cmd (['a2dissite', '-q', '000-default'], ['a2enmod', '-q', 'ssl'],
             ['a2ensite', '-q', $SITE]) {
    ($rc, $out) = run(@$cmd);
    # a2dissite: 000-default may be disabled already
    is($rc, 0, "@$cmd") or diag($out) if $cmd->[0] ne 'a2dissite';
}
($rc, $out) = run('apache2ctl', 'configtest');
is($rc, 0, 'apache2ctl configtest') or diag($out);
$started = 1;
($rc, $out) = run('apache2ctl', 'start');
is($rc, 0, 'apache2ctl start') or diag($out);
ok(apache_up(), "the system apache2 answers on 127.0.0.1:$port")
    or diag(SGTest::slurp("$d/logs/system-error.log"));
my $r = $t->s_client;
ok($r->{handshake} && !$r->{stapled},
   'a handshake, no staple: the module is not loaded yet') or diag($r->{out});

# ---- a2enmod and a reload, as the README says ----

($rc, $out) = run('a2enmod', 'staple_guard');
is($rc, 0, 'a2enmod staple_guard') or diag($out);
ok(-l '/etc/apache2/mods-enabled/staple_guard.load'
   && -l '/etc/apache2/mods-enabled/staple_guard.conf',
   'mods-enabled links the .load and the .conf');
($rc, $out) = run('apache2ctl', 'graceful');
is($rc, 0, 'apache2ctl graceful (systemctl reload apache2)') or diag($out);
($rc, $out) = run('apache2ctl', '-M');
like($out, qr/^\s*staple_guard_module \(shared\)$/m, 'apache2ctl -M lists the module');
$r = wait_stapled(20);
ok($r->{stapled}, 'the system apache2 staples') or diag($r->{out});
is($r->{cert_status}, 'good', 'a good response');
is($r->{serial}, $t->cert_serial('leaf'), 'for the test certificate');

my $stored = "$STORE/" . $t->store_name('leaf');
ok(SGTest::wait_for(sub { -s $stored }, 10), "the response is stored in $STORE");
my @st = stat($STORE);
is($st[2] & 07777, 0700, 'the store directory is private (0700)');
is(scalar getpwuid($st[4] // -1), 'www-data', '... and belongs to the User (www-data)');

# ---- a full stop and start, responder down: from the store ----

$t->stop_responder;
my $pid = system_apache_pid();
($rc, $out) = run('apache2ctl', 'stop');
is($rc, 0, 'apache2ctl stop') or diag($out);
ok($pid && wait_apache_gone($pid), "apache2 (PID " . ($pid // '?') . ") is gone");
($rc, $out) = run('apache2ctl', 'start');
is($rc, 0, 'apache2ctl start, the responder down') or diag($out);
ok(apache_up(), 'the system apache2 is up again');
$r = wait_stapled(10);
ok($r->{stapled}, 'still stapled after a full restart with the responder down')
    or diag($r->{out});
like(SGTest::slurp("$d/logs/system-error.log"),
     qr/SG0023: CN=localhost: response from store kept/,
     "the response came from $STORE");

$pid = system_apache_pid();
($rc, $out) = run('apache2ctl', 'stop');
is($rc, 0, 'apache2ctl stop') or diag($out);
ok($pid && wait_apache_gone($pid), 'the system apache2 is stopped');
$started = 0 if !system_apache_pid();

# ---- purge: nothing of the package is left ----

($rc, $out) = run('apt-get', 'purge', '-y', '-q', $PKG);
is($rc, 0, "apt-get purge -y $PKG") or diag($out);
($rc, $out) = run('dpkg', '-l', $PKG);
unlike($out, qr/^[a-z][a-z]\s+\Q$PKG\E\s/m, 'dpkg -l does not list it')
    or diag($out);
unlike(pkg_status(), qr/\bok (?!not-installed)/, 'dpkg-query: not installed');
my @paths = (@pkg_files, $MODSO, $STORE,
             glob('/var/lib/apache2/module/*/staple_guard'));
for my $dir (qw(available enabled)) {
    push @paths, map { "/etc/apache2/mods-$dir/staple_guard.$_" } qw(load conf);
}
my @left = grep { -e $_ || -l $_ } @paths;
is_deeply(\@left, [], 'no file of the package is left');

# ---- the system as it was ----

is_deeply(log_sizes(), $logs, "the logs in $LOGDIR were not written");
put_back();
alarm(0);
is_deeply(differences($snap, snapshot(@ROOTS)), [],
          '/etc/apache2, /var/lib/apache2, the runtime directories, '
          . 'the package\'s paths and policy-rc.d are as they were');
ok(!system_apache_pid(), 'no system apache2 runs');
note(sprintf('%.1f s from apt-get install to purge', time() - $t0));
done_testing();
