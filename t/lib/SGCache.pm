# SGCache: real cache servers for StapleGuardSharedCache in tests and
# benchmarks: redis-server and memcached (Debian's packages) on loopback
# ports of their own, with their files inside the test's directory and no
# persistence; and the keys and values as mod_socache_redis and
# mod_socache_memcache write them ("staple-guard:" and the id in lower-case
# hex; the value is the DER response itself), for planting entries.
package SGCache;

use strict;
use warnings;

use IO::Socket::INET;
use SGTest;

my $MODDIR = '/usr/lib/apache2/modules';
my $IO_TIMEOUT = 5;

# The LoadModule line of a provider, for write_conf's modules.
sub load_line {
    my ($kind) = @_;
    return "LoadModule socache_${kind}_module $MODDIR/mod_socache_$kind.so\n";
}

# Start a cache server for test instance $t; $o{port} to take a given
# port again (a restart). Returns {kind, port, pid}.
sub start {
    my ($t, $kind, %o) = @_;
    my $port = $o{port} // SGTest::free_port();
    my $log = $t->dir . "/logs/$kind.log";
    my @cmd;
    if ($kind eq 'redis') {
        my $dir = $t->dir . '/redis';
        mkdir $dir;
        @cmd = ('redis-server', '--port', $port, '--bind', '127.0.0.1',
                '--save', '', '--appendonly', 'no', '--dir', $dir,
                '--daemonize', 'no', '--protected-mode', 'no',
                '--logfile', '');
    } else {
        @cmd = ('memcached', '-l', '127.0.0.1', '-p', $port, '-U', '0',
                '-m', '16', ($> == 0 ? ('-u', 'nobody') : ()));
    }
    my $c = { kind => $kind, port => $port };
    $c->{pid} = $t->spawn($log, @cmd);
    SGTest::wait_for(sub { ping($c) })
        or die "$kind did not start: " . SGTest::slurp($log);
    return $c;
}

sub stop {
    my ($t, $c) = @_;
    $t->kill_group(delete $c->{pid});
}

# "redis:127.0.0.1:PORT" / "memcache:..." for StapleGuardSharedCache.
sub spec { "$_[0]{kind}:127.0.0.1:$_[0]{port}" }

# The key of $cert's entry under $prefix (default sg1).
sub key {
    my ($t, $cert, $prefix) = @_;
    return 'staple-guard:'
        . unpack('H*', ($prefix // 'sg1') . ':' . $t->cert_hash($cert));
}

sub conn {
    my ($c) = @_;
    return IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $c->{port},
                                 Proto => 'tcp', Timeout => $IO_TIMEOUT);
}

sub readn {
    my ($s, $n) = @_;
    my $buf = '';
    while (length($buf) < $n) {
        read($s, $buf, $n - length($buf), length($buf)) or last;
    }
    return $buf;
}

sub line { my $l = readline($_[0]) // ''; $l =~ s/\r\n\z//; return $l }

sub redis_cmd {
    my ($s, @args) = @_;
    print $s '*' . @args . "\r\n"
        . join('', map { '$' . length($_) . "\r\n$_\r\n" } @args);
}

sub ping {
    my ($c) = @_;
    my $s = conn($c) or return 0;
    if ($c->{kind} eq 'redis') { redis_cmd($s, 'PING') }
    else { print $s "version\r\n" }
    return line($s) =~ /^\+PONG|^VERSION/;
}

# Write $value (bytes) under $key for $ttl seconds; true when stored.
sub set {
    my ($c, $key, $value, $ttl) = @_;
    my $s = conn($c) or return 0;
    $ttl //= 3600;
    if ($c->{kind} eq 'redis') {
        redis_cmd($s, 'SETEX', $key, $ttl, $value);
        return line($s) eq '+OK';
    }
    print $s "set $key 0 $ttl " . length($value) . "\r\n$value\r\n";
    return line($s) eq 'STORED';
}

# The bytes under $key, or undef.
sub get {
    my ($c, $key) = @_;
    my $s = conn($c) or return undef;
    if ($c->{kind} eq 'redis') {
        redis_cmd($s, 'GET', $key);
        my $h = line($s);
        return undef unless $h =~ /^\$(\d+)$/;
        return readn($s, $1);
    }
    print $s "get $key\r\n";
    my $h = line($s);
    return undef unless $h =~ /^VALUE \S+ \d+ (\d+)$/;
    return readn($s, $1);
}

# Remove everything (between cases).
sub flush {
    my ($c) = @_;
    my $s = conn($c) or return 0;
    if ($c->{kind} eq 'redis') { redis_cmd($s, 'FLUSHALL') }
    else { print $s "flush_all\r\n" }
    return line($s) =~ /^\+OK|^OK/;
}

1;
