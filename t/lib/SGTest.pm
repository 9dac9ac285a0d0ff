# SGTest: real httpd, real responders, real clients, all on loopback.
#
# Each test file runs in a network namespace of its own when it can (only
# `lo` inside): `openssl ocsp` binds every interface, and inside there is
# none but loopback; parallel runs cannot collide on ports either. Every
# process a test starts is stopped by PID (or process group) when the test
# ends, also when it dies.
package SGTest;

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use IO::Socket::INET;
use POSIX qw(:sys_wait_h setsid);
use Time::HiRes qw(time sleep);
use Test::More;

our $TOP = abs_path(dirname(__FILE__) . '/../..');
# SG_ASAN=1 (`make asan-test`): the module built with AddressSanitizer and
# UBSan (`make asan-build`), their runtime preloaded into apache2, every
# report written to logs/asan.* and failing the test at its end.
our $ASAN = $ENV{SG_ASAN};
our $MODULE = $ASAN ? "$TOP/build/asan/mod_staple_guard.so"
                    : "$TOP/build/mod_staple_guard.so";
our $RESPONDER = "$TOP/build/tools/sg_responder";
my $APACHE = '/usr/sbin/apache2';
my $MODDIR = '/usr/lib/apache2/modules';
my $WAIT = 20;          # seconds any start or stop may take
my $CLIENT_TIMEOUT = 10;

my @instances;

# Re-run this test inside a fresh network namespace with only loopback.
sub enter_netns {
    return if $ENV{SG_IN_NETNS};
    $ENV{SG_IN_NETNS} = 1;
    if (system('unshare -n true >/dev/null 2>&1') == 0) {
        exec('unshare', '-n', '--', 'sh', '-c',
             'ip link set lo up && exec "$@"', 'sh', $^X, "-I$TOP/t/lib",
             $0, @ARGV) or die "exec unshare: $!";
    }
    $ENV{SG_IN_NETNS} = 'no';   # shared namespace: ports still loopback
}

# Like enter_netns, and in a mount namespace of its own too (private
# propagation: nothing mounted inside is seen outside), for tests that
# bind-mount their own /etc/hosts or /etc/resolv.conf (bind_etc). Without
# both namespaces SG_IN_NETNS is 'no' and bind_etc refuses.
sub enter_netns_and_mounts {
    return if $ENV{SG_IN_NETNS};
    $ENV{SG_IN_NETNS} = 1;
    my $why = `unshare -n -m --propagation private true 2>&1`;
    if ($? == 0) {
        exec('unshare', '-n', '-m', '--propagation', 'private', '--', 'sh',
             '-c', 'ip link set lo up && exec "$@"', 'sh', $^X,
             "-I$TOP/t/lib", $0, @ARGV) or die "exec unshare: $!";
    }
    # What unshare said, for the test to tell (e.g. in a chroot whose
    # "/" is no mount point: "cannot change root filesystem propagation").
    chomp $why;
    $ENV{SG_NETNS_WHY} = $why ne '' ? $why : "unshare exited $?";
    $ENV{SG_IN_NETNS} = 'no';
}

# Put $content over /etc/$name, for this test's processes only (see
# enter_netns_and_mounts). Returns false when it cannot be done safely.
sub bind_etc {
    my ($self, $name, $content) = @_;
    return 0 if ($ENV{SG_IN_NETNS} // '') ne '1';
    my $path = $self->write_file("etc-$name", $content);
    chmod 0644, $path;
    return system('mount', '--bind', $path, "/etc/$name") == 0;
}

# Options: no_pki => 1, no test PKI; share => $other, none of its own
# either, but $other's PKI and responder port (servers for certificates
# of one CA); anything else is for pki().
sub new {
    my ($class, %o) = @_;
    my $self = bless {
        dir => tempdir("sgtest-XXXXXX", TMPDIR => 1, CLEANUP => !$ENV{SG_KEEP}),
        procs => [],
        hport => free_port(),
        rport => $o{share} ? $o{share}{rport} : free_port(),
    }, $class;
    chmod 0755, $self->{dir};
    mkdir "$self->{dir}/$_" for qw(run htdocs logs);
    $self->write_file("htdocs/index.html", "hello\n");
    if ($o{share}) {
        $self->{pki} = $o{share}{pki};
    } elsif (!$o{no_pki}) {
        $self->pki(%o);
    }
    push @instances, $self;
    return $self;
}

sub dir { $_[0]{dir} }
sub hport { $_[0]{hport} }
sub rport { $_[0]{rport} }
sub url { "http://127.0.0.1:$_[0]{rport}/" }

# Below the kernel's range for client ports (ip_local_port_range, 32768 on
# Debian), so that the many client connections of a test or benchmark
# never take the port between this check and the server's bind.
use constant { PORT_LOW => 20000, PORT_HIGH => 32767 };

sub free_port {
    for (1 .. 50) {
        my $port = PORT_LOW + int(rand(PORT_HIGH - PORT_LOW + 1));
        my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
                                      LocalPort => $port, Proto => 'tcp',
                                      ReuseAddr => 0, Listen => 1);
        if ($s) { close $s; return $port; }
    }
    die "no free port";
}

sub write_file {
    my ($self, $name, $content) = @_;
    my $path = $name =~ m{^/} ? $name : "$self->{dir}/$name";
    open(my $fh, '>', $path) or die "$path: $!";
    print $fh $content;
    close $fh;
    return $path;
}

sub slurp {
    my ($path) = @_;
    open(my $fh, '<', $path) or return '';
    local $/;
    my $c = <$fh>;
    close $fh;
    return $c;
}

sub pki {
    my ($self, %o) = @_;
    my $url = $o{aia_url} // $self->url;
    system("$TOP/t/tools/mkpki.sh", "$self->{dir}/pki", $url) == 0
        or die "mkpki failed";
    $self->{pki} = "$self->{dir}/pki";
}

sub pkifile { "$_[0]{pki}/$_[1]" }

# Start a process in its own process group, output to a log file.
sub spawn {
    my ($self, $log, @cmd) = @_;
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        exec_child(sub {
            setsid();
            open(STDIN, '<', '/dev/null') or die "stdin: $!\n";
            open(STDOUT, '>>', $log) or die "$log: $!\n";
            open(STDERR, '>&', \*STDOUT) or die "stderr: $!\n";
        }, @cmd);
    }
    push @{$self->{procs}}, $pid;
    return $pid;
}

# In a forked child: $setup (a sub, or undef), then exec @cmd. When
# either fails, the reason goes to STDERR and the child leaves at once
# (POSIX::_exit, exit code 127): it must never go on running the test
# script, whose TAP lines would mix with the parent's, nor its END
# blocks, which would stop the parent's servers.
sub exec_child {
    my ($setup, @cmd) = @_;
    eval {
        $setup->() if $setup;
        no warnings 'exec';     # said once, below
        exec { $cmd[0] } @cmd;
        die "exec $cmd[0]: $!\n";
    };
    print STDERR $@;
    POSIX::_exit(127);
}

sub wait_for {
    my ($cond, $timeout) = @_;
    my $end = time() + ($timeout // $WAIT);
    while (time() < $end) {
        return 1 if $cond->();
        sleep(0.05);
    }
    return 0;
}

sub kill_group {
    my ($self, $pid) = @_;
    return unless $pid;
    kill('TERM', -$pid);
    wait_for(sub { waitpid($pid, WNOHANG) != 0 }, 5)
        or (kill('KILL', -$pid), waitpid($pid, 0));
    $self->{procs} = [grep { $_ != $pid } @{$self->{procs}}];
}

# `openssl ocsp` as the CA runs it. Never probe its port with a bare
# connect: it spins; wait for its ACCEPT line instead. no_next => 1: no
# -nmin, so its responses carry no nextUpdate (as some private CAs').
sub start_openssl_ocsp {
    my ($self, %o) = @_;
    my $log = "$self->{dir}/logs/openssl-ocsp.log";
    my $before = length(slurp($log));
    # stdbuf: openssl buffers its log, and tests count the requests in it
    my @cmd = ('stdbuf', '-oL', '-eL', 'openssl', 'ocsp', '-index', $self->pkifile('index.txt'),
               '-port', $self->{rport},
               '-rsigner', $self->pkifile($o{signer} // 'ocsp.crt'),
               '-rkey', $self->pkifile(($o{signer_key} // 'ocsp.key')),
               '-CA', $self->pkifile('inter.crt'),
               ($o{no_next} ? () : ('-nmin', $o{nmin} // 60)),
               '-ignore_err', '-req_text');
    $self->{ocsp_pid} = $self->spawn($log, @cmd);
    wait_for(sub { substr(slurp($log), $before) =~ /ACCEPT/ })
        or die "openssl ocsp did not start: " . slurp($log);
    return $self->{ocsp_pid};
}

sub stop_responder {
    my ($self) = @_;
    $self->kill_group(delete $self->{ocsp_pid});
    $self->kill_group(delete $self->{rsp_pid});
}

# The project's fault-injecting responder; mode switched at any time.
sub start_responder {
    my ($self, %o) = @_;
    my $log = "$self->{dir}/logs/sg-responder.out";
    my $before = length(slurp($log));
    $self->set_mode($o{mode} // 'good');
    my $signer = $o{signer} // 'ocsp';
    my @cmd = ($RESPONDER, '-p', $self->{rport},
               '-i', $self->pkifile('inter.crt'),
               '-s', $self->pkifile("$signer.crt"),
               '-k', $self->pkifile("$signer.key"),
               '-m', "$self->{dir}/mode", '-l', "$self->{dir}/requests.log",
               '-V', $o{validity} // 3600);
    $self->{rsp_pid} = $self->spawn($log, @cmd);
    wait_for(sub { substr(slurp($log), $before) =~ /READY/ })
        or die "sg_responder did not start: " . slurp($log);
    return $self->{rsp_pid};
}

# One more sg_responder beside start_responder's, named $name, listening
# on every port of $o{ports} (the module counts each as a responder host
# of its own, and asks at most 2 fetches of one at once: many ports, many
# fetches at once). It signs as $o{signer} (a PKI name: 'ocsp', delegated;
# 'inter', the issuer itself) for certificates of $o{issuer} (default
# 'inter'), for $o{validity} seconds; it reads the same mode file as
# start_responder's and logs to requests-$name.log (requests_of). Stopped
# with the test. Returns its URLs, one a port.
sub start_responder_on {
    my ($self, $name, %o) = @_;
    my $log = "$self->{dir}/logs/sg-responder-$name.out";
    $self->set_mode('good') unless -e "$self->{dir}/mode";
    my $signer = $o{signer} // 'ocsp';
    my @cmd = ($RESPONDER, (map { ('-p', $_) } @{$o{ports}}),
               '-i', $self->pkifile(($o{issuer} // 'inter') . '.crt'),
               '-s', $self->pkifile("$signer.crt"),
               '-k', $self->pkifile("$signer.key"),
               '-m', "$self->{dir}/mode",
               '-l', "$self->{dir}/requests-$name.log",
               '-V', $o{validity} // 3600);
    $self->spawn($log, @cmd);
    wait_for(sub { slurp($log) =~ /READY/ })
        or die "sg_responder $name did not start: " . slurp($log);
    return map { "http://127.0.0.1:$_/" } @{$o{ports}};
}

# How many requests start_responder_on's responder $name saw.
sub requests_of {
    my ($self, $name) = @_;
    return scalar grep { /\S/ }
        split /\n/, slurp("$self->{dir}/requests-$name.log");
}

# The responder reads the mode file at each request, and an empty one
# means good: it is replaced whole (rename), never seen half-written. (A
# request between a plain rewrite's truncate and write was answered good,
# and t/02 then rightly kept stapling that answer through its faults.)
sub set_mode {
    my ($self, $mode) = @_;
    my $tmp = $self->write_file('mode.new', "$mode\n");
    rename($tmp, "$self->{dir}/mode") or die "rename $tmp: $!";
}

# Requests the fault-injecting responder saw: [time, method, mode].
sub requests {
    my ($self) = @_;
    return [map { [split ' ', $_, 3] }
            grep { /\S/ } split /\n/, slurp("$self->{dir}/requests.log")];
}

# httpd.conf: one SSL virtual host per entry of $o{vhosts}
# ({name, cert, key, extra, more_certs => [names]: further certificate and
# key pairs in the same host, e.g. RSA beside ECDSA}), module directives
# in $o{global}; $o{mpm}: prefork, worker or event (the default).
sub write_conf {
    my ($self, %o) = @_;
    my $d = $self->{dir};
    my $p = $self->{hport};
    my $vhosts = $o{vhosts} // [{ name => 'localhost', cert => 'leaf' }];
    my $user = $> == 0 ? "User nobody\nGroup nogroup\n" : '';
    my $mpm = $o{mpm} // 'event';
    my $load_sg = $o{no_module} ? '' :
        "LoadModule staple_guard_module $MODULE\n";
    # the fetcher's debug lines tell when its first round is done
    $self->{fetch_wait} = !$o{no_module}
        && ($o{loglevel} // 'staple_guard:debug') =~ /staple_guard:debug/;
    my $conf = <<"EOF";
ServerRoot $d
DefaultRuntimeDir $d/run
PidFile $d/run/httpd.pid
ErrorLog $d/logs/error.log
LogLevel ${\($o{loglevel} // ($o{no_module} ? 'info ssl:warn' : 'info ssl:warn staple_guard:debug'))}
Listen 127.0.0.1:$p
ServerName localhost
${user}LoadModule mpm_${mpm}_module $MODDIR/mod_mpm_${mpm}.so
LoadModule authz_core_module $MODDIR/mod_authz_core.so
LoadModule authz_host_module $MODDIR/mod_authz_host.so
LoadModule socache_shmcb_module $MODDIR/mod_socache_shmcb.so
LoadModule ssl_module $MODDIR/mod_ssl.so
$load_sg${\($o{modules} // '')}
StartServers 2
DocumentRoot $d/htdocs
SSLSessionCache none
${\($o{global} // '')}
EOF
    for my $v (@$vhosts) {
        my $c = $v->{cert};
        my $chain = $v->{chain} // "$c-chain.pem";
        $conf .= <<"EOF";
<VirtualHost 127.0.0.1:$p>
    ServerName $v->{name}
    SSLEngine on
    SSLCertificateFile $self->{pki}/$chain
    SSLCertificateKeyFile $self->{pki}/$c.key
${\(join '', map { "    SSLCertificateFile $self->{pki}/$_-chain.pem\n"
                  . "    SSLCertificateKeyFile $self->{pki}/$_.key\n" }
             @{$v->{more_certs} // []})}${\($v->{extra} // '')}
</VirtualHost>
EOF
    }
    $self->write_file('httpd.conf', $conf);
}

# apache2 with @args: (exit status, output, the signal that ended it or 0).
sub apache {
    my ($self, @args) = @_;
    my $env = $ASAN ? $self->asan_env : '';
    my $out = `env -i PATH=/usr/sbin:/usr/bin:/bin $env $APACHE -d $self->{dir} -f $self->{dir}/httpd.conf @args 2>&1`;
    my ($rc, $sig) = ($? >> 8, $? & 127);
    # the shell says 128 + N for a child that signal N ended
    $sig ||= $rc - 128 if $rc > 128;
    return ($rc, $out, $sig);
}

sub error_log { slurp("$_[0]{dir}/logs/error.log") }

# The sanitizers' runtime for apache2: httpd itself is not built with
# them, so the runtime is preloaded; leaks are not judged (httpd frees its
# pools by exiting), everything else is.
sub asan_env {
    my ($self) = @_;
    my $lib = `gcc -print-file-name=libasan.so`;
    chomp $lib;
    my $log = "$self->{dir}/logs/asan";
    return "LD_PRELOAD=$lib ASAN_OPTIONS=detect_leaks=0:log_path=$log "
         . "UBSAN_OPTIONS=print_stacktrace=1:log_path=$log";
}

# Sanitizer reports written so far (SG_ASAN).
sub asan_reports {
    my ($self) = @_;
    return map { slurp($_) } glob("$self->{dir}/logs/asan.*");
}

# "resuming normal operations": AH00489 (event), AH00292 (worker), AH00163
# (prefork).
sub count_resumed {
    my ($self) = @_;
    my @m = ($self->error_log =~ /AH00489|AH00292|AH00163/g);
    return scalar @m;
}

sub httpd_pid {
    my ($self) = @_;
    my $pid = slurp("$self->{dir}/run/httpd.pid");
    return $pid =~ /(\d+)/ ? $1 : undef;
}

# The httpd now running (its pid file says which) is this instance's:
# stop_httpd, and the end of the test, stop it.
sub track_httpd {
    my ($self) = @_;
    $self->{httpd_pid} = $self->httpd_pid;
}

# No httpd is this instance's any more: returns the PID it had (undef if
# none), for a caller that stops it itself or found it gone.
sub untrack_httpd { delete $_[0]{httpd_pid} }

# Lines of the background fetcher's start (SG0041, debug), logged once its
# first round is done.
sub count_fetcher_started {
    my ($self) = @_;
    my @m = ($self->error_log =~ /SG0041: background fetcher started/g);
    return scalar @m;
}

# Only Must-Staple certificates without a response hold the start; the
# others are fetched by the background fetcher as soon as a child runs it.
# Tests that check what a client gets once a server is up wait for that
# first round (a test of the start itself passes no_fetch_wait => 1).
# When no certificate was taken (SG0008 counts them) no fetcher starts.
sub wait_fetcher {
    my ($self, $before, %o) = @_;
    return if $o{no_fetch_wait} || !$self->{fetch_wait};
    my @n = ($self->error_log =~ /SG0008: startup work for (\d+) certificates/g);
    return if !@n || !$n[-1];
    wait_for(sub { $self->count_fetcher_started > $before }, 60)
        or die "the background fetcher did not start:\n" . $self->error_log;
}

sub start_httpd {
    my ($self, %o) = @_;
    my $n = $self->count_resumed;
    my $f = $self->count_fetcher_started;
    my ($rc, $out) = $self->apache('-k', 'start');
    die "apache2 -k start failed ($rc): $out\n" . $self->error_log if $rc;
    wait_for(sub { $self->count_resumed > $n }, 60)
        or die "httpd did not come up:\n" . $self->error_log;
    $self->track_httpd;
    $self->wait_fetcher($f, %o);
}

sub graceful {
    my ($self, %o) = @_;
    my $n = $self->count_resumed;
    my $f = $self->count_fetcher_started;
    my ($rc, $out) = $self->apache('-k', 'graceful');
    die "apache2 -k graceful failed ($rc): $out" if $rc;
    wait_for(sub { $self->count_resumed > $n }, 60)
        or die "httpd did not come back after graceful:\n" . $self->error_log;
    $self->wait_fetcher($f, %o);
}

# The PIDs of ppid's children.
sub children {
    my ($ppid) = @_;
    my @kids;
    for my $status (glob '/proc/[0-9]*/status') {
        my $s = slurp($status);
        push @kids, $1 if $s =~ /^PPid:\s+$ppid$/m && $status =~ m{/proc/(\d+)/};
    }
    return @kids;
}

# Threads of process pid (0 once it is gone).
sub thread_count {
    my ($pid) = @_;
    my $s = slurp("/proc/$pid/status");
    return $s =~ /^Threads:\s+(\d+)/m ? $1 : 0;
}

# Wait (up to $WAIT) until the threaded MPM runs exactly $n children and
# each has started its threads (the configuration must keep $n: spare
# threads within MinSpareThreads..MaxSpareThreads). Until a child of
# event has started its threads, SIGTERM runs httpd's
# just_die(), which destroys the child's pool inside the signal handler;
# landing in the child's own malloc() (in initgroups() while it drops
# privileges) it aborts with glibc's "corrupted double-linked list"
# (three core dumps, 2026-12-02). A test that stops httpd over and over,
# to see whether *this* module crashes a child, stops it once the
# children are up.
sub settle_children {
    my ($self, $n) = @_;
    my $ppid = $self->{httpd_pid} // return 0;
    return wait_for(sub {
        my @kids = children($ppid);
        return @kids == $n && !grep { thread_count($_) < 2 } @kids;
    }, $WAIT);
}

sub stop_httpd {
    my ($self) = @_;
    my $pid = $self->untrack_httpd // return;
    kill('TERM', $pid);
    wait_for(sub { !kill(0, $pid) }, $WAIT)
        or (kill('KILL', $pid), diag("httpd $pid needed SIGKILL"));
    unlink "$self->{dir}/run/httpd.pid";
}

# `openssl s_client -status`: returns a hash with the parsed staple
# (serial: the serial number in its CertID, upper-case hex). $o{args}:
# more options, e.g. '-sigalgs ECDSA+SHA256' to be served that certificate.
sub s_client {
    my ($self, %o) = @_;
    my $sn = $o{servername} // 'localhost';
    my $args = $o{args} // '';
    my $t0 = time();
    my $out = `timeout $CLIENT_TIMEOUT openssl s_client -connect 127.0.0.1:$self->{hport} -servername $sn -status $args </dev/null 2>&1`;
    my %r = (out => $out, elapsed => time() - $t0);
    $r{stapled} = $out =~ /OCSP Response Status: successful/ ? 1 : 0;
    $r{none} = $out =~ /OCSP response: no response sent/ ? 1 : 0;
    ($r{cert_status}) = $out =~ /Cert Status: (\w+)/;
    ($r{response_status}) = $out =~ /OCSP Response Status: (\w+)/;
    ($r{next_update}) = $out =~ /Next Update: (.+)/;
    ($r{serial}) = $out =~ /Serial Number: ([0-9A-F]+)/;
    $r{handshake} = $out =~ /BEGIN CERTIFICATE|Server certificate/ ? 1 : 0;
    return \%r;
}

# `curl --cert-status`: its exit code (0 = valid staple, 91 = none or bad).
# $o{args}: more options, e.g. '--tls-max 1.2 --ciphers ECDHE-RSA-...'.
sub curl_status {
    my ($self, %o) = @_;
    my $host = $o{servername} // 'localhost';
    my $p = $self->{hport};
    my $args = $o{args} // '';
    system("curl -s -o /dev/null --max-time $CLIENT_TIMEOUT --cert-status $args "
           . "--cacert $self->{pki}/root.crt --resolve $host:$p:127.0.0.1 "
           . "https://$host:$p/");
    return $? >> 8;
}

# build/tools/sg_staplecheck (t/tools/sg_staplecheck.c): ONE handshake to
# this server per name of @$hosts, with it as SNI and status_request, the
# staple judged against the certificate served (its CertID, signature
# under the test root, status, times). Returns a hash by name of what it
# found: {verdict ('ok' or the check that failed), serial (the
# certificate's), staple (its CertID's serial), len, certs (in the
# response), this (thisUpdate, Unix time), why, line}; a name missing from
# it got no line (the tool died or was stopped after $o{timeout}, 120 s).
my $STAPLECHECK = "$TOP/build/tools/sg_staplecheck";
sub staple_check {
    my ($self, $hosts, %o) = @_;
    my @cmd = ('timeout', $o{timeout} // 120, $STAPLECHECK,
               '-p', $self->{hport}, '-r', $self->pkifile('root.crt'),
               '-t', $CLIENT_TIMEOUT, @$hosts);
    open(my $fh, '-|', @cmd) or die "$STAPLECHECK: $!";
    my %seen;
    while (my $line = <$fh>) {
        chomp $line;
        my ($host, $verdict, @kv) = split ' ', $line;
        next unless defined $verdict;
        my %r = (verdict => $verdict, line => $line,
                 map { /^([a-z]+)=(.*)$/ ? ($1 => $2) : () } @kv);
        $seen{$host} = \%r;
    }
    close $fh;
    return \%seen;
}

# One request to this server with curl, the one helper for every test
# that asks it for a page: returns {code, type, body, head}. Over TLS to
# servername (localhost) at hport, checked against the test root, unless
# plain => 1 (http:// to 127.0.0.1). %o: port (hport), servername,
# method (GET, or POST when data is given), data (url-encoded body),
# accept, headers => ['Name: value', ...], timeout (seconds, 10); code is
# 0 when no answer came.
sub curl {
    my ($self, $path, %o) = @_;
    my $p = $o{port} // $self->{hport};
    my $host = $o{servername} // 'localhost';
    my $head = "$self->{dir}/curl.head." . $self->{curls}++;
    my @cmd = ('curl', '-s', '--max-time', $o{timeout} // $CLIENT_TIMEOUT,
               '-D', $head, '-w', '\n%{http_code} %{content_type}');
    push @cmd, '-X', $o{method} if $o{method};
    push @cmd, '--data', $o{data} if defined $o{data};
    push @cmd, '-H', "Accept: $o{accept}" if $o{accept};
    push @cmd, map { ('-H', $_) } @{$o{headers} // []};
    my $url = "http://127.0.0.1:$p$path";
    if (!$o{plain}) {
        push @cmd, '--cacert', "$self->{pki}/root.crt",
                   '--resolve', "$host:$p:127.0.0.1";
        $url = "https://$host:$p$path";
    }
    open(my $fh, '-|', @cmd, $url) or die "curl: $!";
    my $body = do { local $/; <$fh> } // '';
    close $fh;
    my ($code, $type) = $body =~ s/\n(\d+) ([^\n]*)\z//s ? ($1, $2) : (0, '');
    my $r = { code => $code, type => $type, body => $body,
              head => slurp($head) };
    unlink $head;
    return $r;
}

# A GET over TLS to this server (e.g. the status page): (code, body).
sub https_get {
    my ($self, $path, %o) = @_;
    my $r = $self->curl($path, %o);
    return ($r->{code}, $r->{body});
}

# A <Location> that serves the status page at $path to 127.0.0.1, with
# $extra (directives, one a line) inside: for write_conf's global.
sub status_location {
    my ($path, $extra) = @_;
    return qq{<Location "$path">\n    SetHandler staple-guard-status\n}
           . ($extra // '') . "    Require ip 127.0.0.1\n</Location>\n";
}

# A request over TLS to this server with a method and a form body:
# (code, body, content type). $o{method}: POST by default; $o{data}: the
# url-encoded body; $o{accept}: an Accept header; $o{headers}: more
# ("Name: value" each).
sub https_request {
    my ($self, $path, %o) = @_;
    my $r = $self->curl($path, method => 'POST', %o);
    return ($r->{code}, $r->{body}, $r->{type});
}

# Debian's chromium, headless, at $url (e.g. https_url's), with @args
# such as --dump-dom or --screenshot=FILE. It runs in a process group of
# its own, stopped when it is done, as chromium leaves helpers behind.
# Returns (finished in time, its standard output); its log goes to
# logs/chromium.err.
use constant BROWSER_WAIT => 40;    # seconds; a cold start takes some
sub chromium {
    my ($self, $url, @args) = @_;
    my ($out, $err) = map { "$self->{dir}/logs/chromium.$_" } qw(out err);
    unlink $out;
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        exec_child(sub {
            setsid();
            open(STDIN, '<', '/dev/null') or die "stdin: $!\n";
            open(STDOUT, '>', $out) or die "$out: $!\n";
            open(STDERR, '>>', $err) or die "$err: $!\n";
        }, 'chromium', '--headless', '--no-sandbox', '--disable-gpu',
           '--ignore-certificate-errors',
           "--user-data-dir=$self->{dir}/chromium", @args, $url);
    }
    push @{$self->{procs}}, $pid;
    my $done = wait_for(sub { waitpid($pid, WNOHANG) != 0 }, BROWSER_WAIT);
    $self->kill_group($pid);
    return ($done, slurp($out));
}

# This server's URL for $path, as a browser on this host asks for it.
sub https_url { "https://127.0.0.1:$_[0]{hport}$_[1]" }

# One more server certificate from the test intermediate, as
# NAME.crt, NAME.key and NAME-chain.pem: key => 'rsa' (2048 bit) or 'ec'
# (the default), cn (default localhost; the names every test certificate
# has as subjectAltName), ext (a section of ca.cnf, default leaf_ext).
# Issued with `openssl ca`, so `openssl ocsp` knows it (good), unless
# unlisted => 1 (then `openssl ocsp` says unknown). Returns its serial.
sub issue_cert {
    my ($self, $name, %o) = @_;
    my $keygen = ($o{key} // 'ec') eq 'rsa'
        ? "openssl genrsa -out $name.key 2048"
        : "openssl ecparam -name prime256v1 -genkey -noout -out $name.key";
    my $ext = $o{ext} // 'leaf_ext';
    my $csr = "openssl req -new -config ca.cnf -key $name.key "
        . "-subj /CN=" . ($o{cn} // 'localhost') . " -out $name.csr";
    my $sign = $o{unlisted}
        ? "openssl x509 -req -in $name.csr -CA inter.crt -CAkey inter.key "
          . "-set_serial 0x\$(openssl rand -hex 8) -days 30 -extfile ca.cnf "
          . "-extensions $ext -out $name.crt"
        : "openssl ca -batch -config ca.cnf -extensions $ext -in $name.csr "
          . "-out $name.crt -notext";
    system("cd $self->{pki} && ($keygen && $csr && $sign) >/dev/null 2>&1 "
           . "&& cat $name.crt inter.crt > $name-chain.pem "
           . "&& chmod 0644 $name.key && rm -f $name.csr") == 0
        or die "cannot issue $name";
    return $self->cert_serial($name);
}

# A certificate's serial number, upper-case hex as s_client prints it.
sub cert_serial {
    my ($self, $name) = @_;
    my $s = `openssl x509 -in $self->{pki}/$name.crt -noout -serial`;
    return $s =~ /serial=([0-9A-F]+)/ ? $1 : die "no serial in $name.crt";
}

# The store file format (include/sg_store.h), for crafting test files.
sub cert_hash {
    my ($self, $name) = @_;
    require Digest::SHA;
    my $der = `openssl x509 -in $self->{pki}/$name.crt -outform DER`;
    return Digest::SHA::sha256($der);
}

sub store_name {
    my ($self, $name) = @_;
    return unpack('H*', $self->cert_hash($name)) . '.ocsp';
}

sub store_encode {
    my ($self, $name, $der) = @_;
    require Digest::SHA;
    my $body = 'SGS1' . $self->cert_hash($name) . pack('N', length $der) . $der;
    return $body . Digest::SHA::sha256($body);
}

# Returns the DER inside a store file, or undef when the file is damaged.
sub store_decode {
    my ($self, $bytes) = @_;
    require Digest::SHA;
    return undef if length($bytes) < 4 + 32 + 4 + 32;
    return undef if substr($bytes, 0, 4) ne 'SGS1';
    my $n = unpack('N', substr($bytes, 36, 4));
    return undef if length($bytes) != 40 + $n + 32;
    return undef if Digest::SHA::sha256(substr($bytes, 0, 40 + $n))
                    ne substr($bytes, 40 + $n);
    return substr($bytes, 40, $n);
}

# Run build/staple-guard with @args (relative file names are in the
# test PKI): returns (exit code, stdout, stderr).
sub cli {
    my ($self, @args) = @_;
    my ($out, $err) = ("$self->{dir}/cli.out", "$self->{dir}/cli.err");
    my $pid = fork() // die "fork: $!";
    if ($pid == 0) {
        exec_child(sub {
            chdir($self->{pki}) or die "chdir $self->{pki}: $!\n";
            open(STDIN, '<', '/dev/null') or die "stdin: $!\n";
            open(STDOUT, '>', $out) or die "$out: $!\n";
            open(STDERR, '>', $err) or die "$err: $!\n";
        }, "$TOP/build/staple-guard", @args);
    }
    waitpid($pid, 0);
    return ($? >> 8, slurp($out), slurp($err));
}

# Ask a responder for a certificate's response, as a client would.
sub fetch_der {
    my ($self, $name, $out) = @_;
    system("openssl ocsp -issuer $self->{pki}/inter.crt -cert $self->{pki}/$name.crt "
           . "-url " . $self->url . " -respout $out -noverify -no_nonce "
           . "-timeout 10 >/dev/null 2>&1");
    return -s $out;
}

sub cleanup {
    my ($self) = @_;
    $self->stop_httpd;
    $self->kill_group($_) for @{$self->{procs}};
    if (my @reports = $self->asan_reports) {
        diag("sanitizer reports in $self->{dir}/logs:\n", @reports);
        $self->{sanitizer_failed} = 1;
    }
    if (!Test::More->builder->is_passing && -f "$self->{dir}/logs/error.log") {
        diag("error.log of $self->{dir}:\n" . $self->error_log);
    }
}

# A test killed by a signal (a timeout, a closed pipe, ^C) still stops
# what it started: exit, so that END runs.
$SIG{$_} = sub { exit 1 } for qw(INT TERM HUP PIPE);

END {
    my $rc = $?;
    $_->cleanup for @instances;
    # a sanitizer report fails the test, whatever it asserted
    $rc ||= 1 if grep { $_->{sanitizer_failed} } @instances;
    @instances = ();
    $? = $rc;
}

1;
