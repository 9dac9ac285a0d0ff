#!/usr/bin/perl
# Configuration edge cases: every directive of the module, given empty,
# negative, huge, overflowing, non-numeric and repeated values, and placed
# where it is not allowed. `apache2 -t` refuses each bad case: exit status
# 1, a line that names the directive (and, for a number, its range), no
# signal, no sanitizer report (SG_ASAN=1 runs the same walk against the
# instrumented module). The edges that are allowed (min, max, each time
# unit) pass.
#
# The directives are read from the sources (t/lib/SGSource.pm): the numeric
# rows of SGH_NUMERIC_DIRECTIVES get their cases from their range; any other
# directive needs its values in %VALUES below, or this test fails. Where a
# directive may stand is read from its Context row in docs/directives.md,
# so the docs and httpd agree. .htaccess files are read only when a
# request comes, so one httpd is started for that part.
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use Math::BigInt;
use POSIX ();
use Storable qw(store retrieve);
use SGCache;
use SGSource;
use SGTest;
BEGIN { SGTest::enter_netns() }
use Test::More;

my $src = SGSource::directives((SGSource::read_c($SGTest::TOP))[0]);
my %cmds = %{ $src->{cmds} };
my %table = %{ $src->{table} };
ok(keys(%table) >= 8 && keys(%cmds) > keys(%table),
   'directives read from the sources (' . scalar(keys %cmds) . ', '
   . scalar(keys %table) . ' numeric)');

my $t = SGTest->new(no_pki => 1);
my ($dir, $port) = ($t->dir, $t->hport);

# ---- the values ------------------------------------------------------------

# A URL's host and port, bad in every way a number or a name can be.
my @bad_authority = (
    ['http://:80/', qr/host/], ['"http:// :80/"', qr/host|RFC 3986/],
    ['http://h:0/', qr/port/], ['http://h:65536/', qr/port/],
    ['http://h:-1/', qr/port|URL/], ['http://h:0x10/', qr/port|URL/],
    ['http://h:1.5/', qr/port|URL/], ['http://h:abc/', qr/port|URL/],
    ['http://h:4294967376/', qr/port|URL/],     # 2^32 + 80
    ['http://h:18446744073709551696/', qr/port|URL/],   # 2^64 + 80
    ['http://h:99999999999999999999/', qr/port|URL/],
);
my $long = 'a' x 6000;

# Directives outside the numeric table: [value, why], refused and accepted.
my %VALUES = (
    StapleGuard => {
        good => ['On', 'off'],
        bad => [['maybe', qr/must be On or Off/], ['1', qr/On or Off/],
                ['yes', qr/On or Off/], ['""', qr/one argument|On or Off/],
                ['Off On', qr/one argument/]],
    },
    StapleGuardCRLWatch => {
        good => ['On', 'off'],
        bad => [['maybe', qr/must be On or Off/],
                ['""', qr/one argument|On or Off/],
                ['On Off', qr/one argument/]],
    },
    StapleGuardCRLMaxSize => {
        good => ['1024', '33554432', '1073741824'],
        bad => [map { [$_, qr/StapleGuardCRLMaxSize: .* is not a whole number from 1024 to 1073741824/] }
                '1023', '1073741825', '-1', 'abc', '32M', '1e9',
                '99999999999999999999999'],
        # "" is httpd's own refusal: takes one argument
    },
    StapleGuardShortLived => {
        good => ['0', '864000', '8640000'],
        bad => [map { [$_, qr/StapleGuardShortLived: .* is not a whole number from 0 to 8640000/] }
                '-1', '8640001', 'ten', '10d', '99999999999999999999999'],
    },
    StapleGuardStatusActions => {
        good => ['On', 'Off'],
        bad => [['maybe', qr/must be On or Off/],
                ['""', qr/one argument|On or Off/],
                ['On Off', qr/one argument/]],
    },
    StapleGuardResponderURL => {
        good => ['http://127.0.0.1:9/ocsp', 'http://ocsp.example',
                 'http://[::1]:65535/', 'http://h:1/a?b=c'],
        bad => [['ftp://x/', qr/not an http:\/\/ URL/],
                ['https://x/', qr/https:\/\/ responders are not supported/],
                ['http://', qr/URL|host/], ['abc', qr/URL/],
                ["http://$long/", qr/URL|host/],
                # what RFC 3986 does not allow (a CR LF cannot be written
                # in a configuration line; a certificate can: t/45)
                ['"http://h/a b"', qr/RFC 3986/], ["http://h/\x01", qr/RFC 3986/],
                ["http://h/caf\xc3\xa9", qr/RFC 3986/],
                ['http://h/a%zz', qr/not followed by two hex digits/],
                @bad_authority],
    },
    StapleGuardProxy => {
        good => ['http://127.0.0.1:3128', 'http://u:p@proxy.example:8080/',
                 'http://[::1]:65535'],
        bad => [['https://p:1', qr/http:\/\//], ['http://p:1/x', qr/path/],
                ['http://u:a/b@p:1', qr/path/], ['"http://u:a b@p:1"', qr/RFC 3986/],
                ['http://u:a%00b@p:1', qr/control character/],
                ['abc', qr/http:\/\/|URL/], ['http://', qr/URL|host/],
                map { [$_->[0] =~ s{/$}{}r, $_->[1]] } @bad_authority],
    },
    StapleGuardProxyBypass => {
        good => ['ocsp.example', '.corp.example 10.1.2.3 ::1',
                 'a-b.example'],
        bad => [map { [$_, qr/is not a host name/] }
                '.', '..', 'a..b', '-', '-a', 'a-', ':', 'a/b', 'a_b',
                '1::2::3', '"a b"',
                'a "" b'],      # httpd's ITERATE would stop at "", drop b
    },
    StapleGuardSharedCache => {
        good => ['redis:127.0.0.1:6379', 'memcache:127.0.0.1:11211 site-a',
                 'redis:localhost:1'],
        bad => [['foo:127.0.0.1:1', qr/no socache provider 'foo' is loaded/],
                ['redis:127.0.0.1:port', qr/is not host:port/],
                ['redis:127.0.0.1:0x10', qr/is not host:port/],
                ['redis:', qr/is not provider:address/],
                ['redis', qr/is not provider:address/],
                ['memcache:127.0.0.1', qr/is not host:port/],
                ['redis:127.0.0.1:6379 bad/prefix', qr/the prefix/],
                ["redis:127.0.0.1:6379 $long", qr/the prefix/],
                ['shmcb:/tmp/x(512000)', qr/local to one server/]],
    },
    StapleGuardAddressFamily => {
        good => ['any', 'ipv4', 'IPv6'],
        bad => [map { [$_, qr/is not any, ipv4 or ipv6/] }
                'ipv5', '4', 'inet', 'ipv4,ipv6', 'anyx'],
    },
    StapleGuardStoreDir => {
        good => ['none', "$dir/store", 'relative/store'],
        bad => [["/$long", qr/not a valid path/]],
    },
    StapleGuardEventCommand => {
        good => ['/bin/true', '/usr/local/bin/on-event'],
        bad => [map { [$_, qr/not an absolute path/] }
                'true', './x', '" /bin/true"', '~/x'],
    },
);

# A number past 2^64 that the time units (ms, s, mi, h: microseconds per
# unit below) would wrap into [lo+1, hi] in 64-bit arithmetic.
my %usec = (ms => 1000, s => 1_000_000, mi => 60_000_000,
            h => 3_600_000_000);
sub wrapping {
    my ($row, $unit) = @_;
    my $target = Math::BigInt->new($row->{lo} + 1)->bmul(1_000_000);
    my $n = Math::BigInt->new(2)->bpow(64)->badd($target)
            ->badd($usec{$unit} - 1)->bdiv($usec{$unit});
    return "$n$unit";
}

# A numeric row's cases: its edges pass, all else is refused with its
# range. Every row gets the values that depend on its range, and one of
# each kind of bad number; $all: the other spellings too (one row of each
# kind gets them: the parser is one function for all rows).
sub numeric_values {
    my ($row, $all) = @_;
    my ($lo, $hi, $kind) = @$row{qw(lo hi kind)};
    my @good = ($lo, $hi);
    my @bad = ($hi + 1, '-1', '2147483648', '9223372036854775808',
               '99999999999999999999', '9' x 4000, 'abc', '1x', '1.5',
               '" "', '0x10');
    push @bad, $lo - 1 if $lo > 0;
    push @bad, '-0', '+1', '" 1"', '1e3', '4294967297',
               '18446744073709551617' if $all;
    if ($kind eq 'SECONDS') {
        push @good, "${hi}s", "${lo}s", $lo * 1000 . 'ms', $hi * 1000 . 'ms';
        push @good, ($hi / 60) . 'mi', ($hi / 60) . 'min' if $hi % 60 == 0;
        push @good, ($hi / 3600) . 'h' if $hi % 3600 == 0;
        push @bad, $hi * 1000 + 1 . 'ms', '10sx',
                   map { wrapping($row, $_) } sort keys %usec;
        push @bad, $lo * 1000 - 1 . 'ms' if $lo > 0;
        push @bad, '1minute', '1mix', '"1 s"', '1d', 's', '1%' if $all;
    }
    elsif ($kind eq 'PERCENT') {
        push @good, "$lo%", "$hi%";
        push @bad, '50%%', '%', '"50 %"', '50s';
    }
    else {
        push @bad, '4s', '4%';
    }
    my $what = { SECONDS => 'a time', PERCENT => 'a percentage',
                 NUMBER => 'a number' }->{$kind};
    return { good => \@good,
             bad => [map { [$_, qr/is not \Q$what\E between $lo and $hi\b/] }
                     @bad] };
}

my %first_of_kind;
$first_of_kind{ $table{$_}{kind} } //= $_ for sort keys %table;
# Not for configurations: the module's own, on its helpers' command line;
# refused in any configuration (t/35-startup-helper.t shows it).
my %INTERNAL = (StapleGuardStartupHelper => 1);
my %values = map {
    $_ => $table{$_}
          ? numeric_values($table{$_}, $first_of_kind{ $table{$_}{kind} } eq $_)
          : $VALUES{$_}
} grep { !$INTERNAL{$_} } keys %cmds;
my @uncovered = grep { !$values{$_} && !$INTERNAL{$_} } sort keys %cmds;
is_deeply(\@uncovered, [], 'every directive has values to walk')
    or diag("add to %VALUES: @uncovered");
delete @values{@uncovered};

# Each directive's empty value: what httpd says for its kind.
my %empty = (TAKE1 => qr/takes one argument/,
             ITERATE => qr/requires at least one argument/,
             TAKE12 => qr/takes 1-2 arguments/,
             RAW_ARGS => qr/requires at least one argument/,
             FLAG => qr/must be On or Off/);
for my $d (keys %values) {
    push @{ $values{$d}{bad} }, ['', $empty{ $cmds{$d}{kind} } // qr/./];
    # one value too many
    push @{ $values{$d}{bad} }, ["$values{$d}{good}[0] x", qr/./]
        if $cmds{$d}{kind} eq 'TAKE1';
    push @{ $values{$d}{bad} }, ["$values{$d}{good}[0] x y",
                                 qr/takes 1-2 arguments/]
        if $cmds{$d}{kind} eq 'TAKE12';
}

# ---- where a directive may stand -------------------------------------------

# docs/directives.md: "| Context | server config, virtual host |" per section
my $docs = SGSource::slurp("$SGTest::TOP/docs/directives.md");
my %context;
while ($docs =~ /^##[ \t]+([^\n]*?)[ \t]*\n(.*?)(?=^##[ \t]|\z)/gms) {
    my ($heading, $body) = ($1, $2);
    my ($row) = $body =~ /^\|[ \t]*Context[ \t]*\|[ \t]*(.*?)[ \t]*\|[ \t]*$/m;
    $context{$_} = $row for $heading =~ /\b(StapleGuard\w*)\b/g;
}

# [name, the docs' word for it (none: allowed nowhere), the text around]
my @where = (
    ['main server', 'server config', "%s"],
    ['<VirtualHost>', 'virtual host',
     "<VirtualHost 127.0.0.1:$port>\n%s\n</VirtualHost>"],
    ['<Location>', 'directory', "<Location />\n%s\n</Location>"],
    ['<Directory>', 'directory', "<Directory $dir/htdocs>\n%s\n</Directory>"],
    ['<Location> in <VirtualHost>', 'directory',
     "<VirtualHost 127.0.0.1:$port>\n<Location />\n%s\n</Location>\n"
     . "</VirtualHost>"],
    # a method limit means nothing for any of them
    ['<Limit> in <Location>', undef,
     "<Location />\n<Limit POST>\n%s\n</Limit>\n</Location>"],
);
sub allowed_in {
    my ($d, $w) = @_;
    return defined $w->[1] && ($context{$d} // '') =~ /\Q$w->[1]\E/;
}

my @no_context = grep { !defined $context{$_} } sort keys %values;
is_deeply(\@no_context, [], 'every directive has a Context row in the docs')
    or diag("no Context row: @no_context");

# $lines where $d is allowed first (main server, or a <Location>)
sub home {
    my ($d, $lines) = @_;
    my ($w) = grep { allowed_in($d, $_) } @where;
    return sprintf(($w // $where[0])->[2], $lines);
}

# ---- running apache2 -t ----------------------------------------------------

# The cases are collected first, then run by WORKERS processes at once,
# each in a directory of its own, then judged here in order.
use constant WORKERS => 2;
my @cases;      # {conf, label, d, why (refused), exact}

# After each case, what the checks across directives need so that any
# single good value passes them (they are tested with exact => 1).
my $NEUTRAL = "StapleGuardRetryMin 1\nStapleGuardRetryMax 86400\n";

sub refused {
    my ($conf, $d, $why, $label, %o) = @_;
    push @cases, { conf => $conf, d => $d, why => $why,
                   label => "refused: $label", %o };
}

sub accepted {
    my ($conf, $label, %o) = @_;
    push @cases, { conf => $conf, label => "accepted: $label", %o };
}

# apache2 -t on each case of @$mine, in $inst's directory: [index, exit
# status, output, signal, new sanitizer reports].
sub run_some {
    my ($inst, $mine) = @_;
    my @r;
    for my $i (@$mine) {
        my $c = $cases[$i];
        my $before = () = $inst->asan_reports;
        # the socache providers StapleGuardSharedCache names
        $inst->write_conf(vhosts => [], modules => SGCache::load_line('redis')
                                                   . SGCache::load_line('memcache'),
                          global => $c->{conf}
                          . ($c->{exact} ? '' : "\n$NEUTRAL"));
        my ($rc, $out, $sig) = $inst->apache('-t');
        my @asan = $inst->asan_reports;
        push @r, [$i, $rc, $out, $sig, join('', @asan[$before .. $#asan])];
    }
    return \@r;
}

sub run_cases {
    my @inst = map { SGTest->new(no_pki => 1) } 1 .. WORKERS;
    my @pids;
    for my $w (0 .. WORKERS - 1) {
        my $pid = fork() // die "fork: $!";
        if ($pid == 0) {
            my @mine = grep { $_ % WORKERS == $w } 0 .. $#cases;
            # a die here must not go on into the test script either
            my $ok = eval {
                store(run_some($inst[$w], \@mine), $inst[$w]->dir . '/results');
                1;
            };
            print STDERR $@ if !$ok;
            POSIX::_exit($ok ? 0 : 1);  # no END: the parent cleans up
        }
        push @pids, $pid;
    }
    waitpid($_, 0) for @pids;
    return map { @{ retrieve($_->dir . '/results') } } @inst;
}

my $crash = qr/AddressSanitizer|runtime error|Segmentation|core dumped|Aborted/;

sub judge {
    my ($c, $rc, $out, $sig, $asan) = @_;
    my @wrong;
    push @wrong, "signal $sig" if $sig;
    push @wrong, 'a crash' if $out =~ $crash;
    push @wrong, "sanitizer reports:\n$asan" if $asan ne '';
    if ($c->{why}) {
        push @wrong, "exit status $rc" if $rc != 1;
        push @wrong, "no line naming $c->{d}" if $out !~ /\b\Q$c->{d}\E\b/;
        push @wrong, "not $c->{why}" if $out !~ $c->{why};
    }
    else {
        push @wrong, "exit status $rc" if $rc != 0 || $out !~ /Syntax OK/;
    }
    ok(!@wrong, $c->{label}) or diag(join(', ', @wrong) . ":\n$out");
}

# ---- values, and the same directive more than once -------------------------

# Given more than once in one context, the last one wins, as with httpd's
# own directives (StapleGuardProxyBypass: the lines add up); every line is
# checked, so a bad one is refused wherever it stands. The good values of
# a directive are therefore checked in one run, one line each.
for my $d (sort keys %values) {
    my $v = $values{$d};
    my @good = @{ $v->{good} };
    accepted(home($d, join("\n", map { "$d $_" } @good)),
             "$d " . join(', then ', @good));
    for my $b (@{ $v->{bad} }) {
        my ($val, $why) = @$b;
        refused(home($d, "$d $val"), $d, $why, "$d " . substr($val, 0, 40));
    }
    my ($bad, $why) = @{ $v->{bad}[0] };
    refused(home($d, "$d $bad\n$d $good[0]"), $d, $why,
            "$d $bad, then $good[0]");
    refused(home($d, "$d $good[0]\n$d $bad"), $d, $why,
            "$d $good[0], then $bad");
}
if ($table{StapleGuardRetryMin} && $table{StapleGuardRetryMax}) {
    accepted("StapleGuardRetryMin 600\nStapleGuardRetryMin 30\n"
              . "StapleGuardRetryMax 60", 'the last StapleGuardRetryMin wins',
             exact => 1);
    refused("StapleGuardRetryMin 30\nStapleGuardRetryMin 600\n"
            . "StapleGuardRetryMax 60", 'StapleGuardRetryMin',
            qr/SG0002/, '... whichever it is', exact => 1);
}

# ---- contexts --------------------------------------------------------------

for my $d (sort keys %values) {
    my $line = "$d $values{$d}{good}[0]";
    for my $w (@where) {
        my $conf = sprintf($w->[2], $line);
        if (allowed_in($d, $w)) {
            accepted($conf, "$d in $w->[0]");
        }
        else {
            refused($conf, $d, qr/not allowed|cannot occur/, "$d in $w->[0]");
        }
    }
}

my @results = sort { $a->[0] <=> $b->[0] } run_cases();
is(scalar(@results), scalar(@cases), 'every case was run (' . @cases . ')');
judge($cases[$_->[0]], @$_[1 .. 4]) for @results;

# .htaccess (AllowOverride All): each directive in a directory of its own,
# one request each; httpd answers 500 and logs why.
$t->write_conf(vhosts => [], global =>
    "<Directory $dir/htdocs>\n    AllowOverride All\n</Directory>\n");
my @names = sort keys %values;
for my $i (0 .. $#names) {
    my $d = $names[$i];
    mkdir "$dir/htdocs/h$i";
    $t->write_file("htdocs/h$i/.htaccess", "$d $values{$d}{good}[0]\n");
    $t->write_file("htdocs/h$i/index.html", "hello\n");
}
$t->start_httpd;
for my $i (0 .. $#names) {
    my $code = $t->curl("/h$i/index.html", plain => 1)->{code};
    is($code, 500, "$names[$i] in .htaccess: the request fails");
}
my $log = $t->error_log;
$t->stop_httpd;
for my $d (@names) {
    like($log, qr/\Q$d\E not allowed here/, "$d in .htaccess: the log says so");
}
unlike($log, $crash, 'no crash while reading .htaccess files');

done_testing;
