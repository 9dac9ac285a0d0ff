#!/usr/bin/perl
# The documentation says what the code does. No httpd needed: this reads
# the C sources and the Markdown.
#  (a) every message id in the code ("SGdddd" in a string literal) is in
#      docs/troubleshooting.md, in its reference; every id there exists;
#      the outcome table carries each reason's name and exact text
#  (b) every directive registered (AP_INIT_*) has a "## Name" heading in
#      docs/directives.md, and every name in those headings is registered
#  (c) defaults and ranges agree between the code (#define SG_*_DEFAULT,
#      the handlers' range checks), the directives' help strings and
#      docs/directives.md
#  (d) every StapleGuard* word in docs/troubleshooting.md exists
use strict;
use warnings;
use FindBin;
use Test::More;

my $root = "$FindBin::Bin/..";
my $builder = Test::More->builder;
binmode($builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

sub slurp {
    my ($path) = @_;
    open(my $fh, '<:encoding(UTF-8)', $path) or die "$path: $!\n";
    local $/;
    return scalar <$fh>;
}

# C source -> (code with comments blanked, [string literals as written]).
sub c_parse {
    my ($src, $path) = @_;
    my ($code, @strings) = ('');
    pos($src) = 0;
    while (pos($src) < length($src)) {
        if ($src =~ m{\G(/\*.*?\*/|//[^\n]*)}gcs) {
            $code .= ' ';
        }
        elsif ($src =~ m{\G("(?:[^"\\\n]|\\.)*")}gcs) {
            push @strings, substr($1, 1, -1);
            $code .= $1;
        }
        elsif ($src =~ m{\G('(?:[^'\\\n]|\\.)*'|[^/"']+|/)}gcs) {
            $code .= $1;
        }
        else {
            die "$path: cannot tokenize at offset " . pos($src) . "\n";
        }
    }
    return ($code, \@strings);
}

# Adjacent C string literals, joined as the compiler joins them.
sub c_concat {
    my ($lits) = @_;
    my $s = join '', $lits =~ /"((?:[^"\\]|\\.)*)"/g;
    $s =~ s/\\(["\\])/$1/g;
    return $s;
}

my $LIT = qr/"(?:[^"\\\n]|\\.)*"/;
my $LITS = qr/(?:$LIT\s*)+/;

my @c_files = (glob("$root/*.c"), glob("$root/src/*.c"));
ok(@c_files > 0, 'C sources found') or BAIL_OUT("no C sources in $root");
my (%code, %strings);
for my $f (@c_files) {
    (my $name = $f) =~ s{^\Q$root\E/}{};
    ($code{$name}, $strings{$name}) = c_parse(slurp($f), $f);
}

my $trouble_path = "$root/docs/troubleshooting.md";
my $directives_path = "$root/docs/directives.md";
my $trouble = slurp($trouble_path);
my $directives_md = slurp($directives_path);

# ---- (a) message ids -------------------------------------------------------

my %code_ids;   # id -> [files]
for my $name (sort keys %strings) {
    for my $s (@{ $strings{$name} }) {
        push @{ $code_ids{$_} }, $name for $s =~ /\b(SG\d{4})\b/g;
    }
}
ok(keys(%code_ids) >= 10, 'message ids found in the C sources ('
   . scalar(keys %code_ids) . ')');

my %doc_ids = map { $_ => 1 } $trouble =~ /\b(SG\d{4})\b/g;
my ($reference) = $trouble =~ /^## Message reference\s*$(.*)/ms;
ok(defined $reference, 'troubleshooting.md has a "## Message reference"');
$reference //= '';

my @undocumented = grep { !$doc_ids{$_} } sort keys %code_ids;
is_deeply(\@undocumented, [], 'every id in the code is in troubleshooting.md')
    or diag(join "\n", map { "$_ (in @{ $code_ids{$_} })" } @undocumented);

my @unreferenced = grep {
    $reference !~ /^(?:#+[ \t]+\Q$_\E\b|\|[ \t]*\Q$_\E[ \t]*\|)/m
} sort keys %code_ids;
is_deeply(\@unreferenced, [],
          'every id has an entry (heading or table row) in the reference')
    or diag("no entry for: @unreferenced");

my @invented = grep { !$code_ids{$_} } sort keys %doc_ids;
is_deeply(\@invented, [], 'every id in troubleshooting.md exists in the code')
    or diag("not in the code: @invented");

# The outcome table: name (the metrics label) and the exact reason text.
my %reasons;    # id -> [name, text]
for my $name (sort keys %code) {
    while ($code{$name} =~ /\{\s*SG_R_\w+\s*,\s*"([^"]*)"\s*,\s*"(SG\d{4})"\s*,\s*($LITS)\}/g) {
        $reasons{$2} = [$1, c_concat($3)];
    }
}
ok(keys(%reasons) >= 10, 'the outcomes table of src/sg_reason.c was read ('
   . scalar(keys %reasons) . ' outcomes)');
my @row_problems;
for my $id (sort keys %reasons) {
    my ($rname, $text) = @{ $reasons{$id} };
    my ($row) = $reference =~ /^(\|[ \t]*\Q$id\E[ \t]*\|.*)$/m;
    if (!defined $row) {
        push @row_problems, "$id: no table row";
        next;
    }
    push @row_problems, "$id: name `$rname` missing" if index($row, "`$rname`") < 0;
    push @row_problems, "$id: text '$text' missing" if index($row, $text) < 0;
}
is_deeply(\@row_problems, [],
          'each outcome row names the reason and quotes its text exactly')
    or diag(join "\n", @row_problems);

# ---- (b) directives and their headings -------------------------------------

my %cmds;       # directive -> {kind, handler, help, file}
for my $name (sort keys %code) {
    while ($code{$name} =~ /AP_INIT_(\w+)\s*\(\s*"(StapleGuard\w*)"\s*,\s*(\w+)\s*,[^,]*,[^,]*,\s*($LITS)\)/g) {
        $cmds{$2} = { kind => $1, handler => $3, help => c_concat($4),
                      file => $name };
    }
}
ok(keys(%cmds) >= 5, 'directives registered in the code ('
   . scalar(keys %cmds) . ')');

# "## A, B" -> section text, by every name in the heading
my (%section, @heading_names);
while ($directives_md =~ /^##[ \t]+([^\n]*?)[ \t]*\n(.*?)(?=^##[ \t]|\z)/gms) {
    my ($heading, $body) = ($1, $2);
    my @names = $heading =~ /\b(StapleGuard\w*)\b/g;
    push @heading_names, @names;
    $section{$_} = { names => \@names, body => $body } for @names;
}

my @no_heading = grep { !$section{$_} } sort keys %cmds;
is_deeply(\@no_heading, [],
          'every registered directive has a heading in directives.md')
    or diag("no \"## Name\" heading for: @no_heading");

my @unknown = grep { !$cmds{$_} } @heading_names;
is_deeply(\@unknown, [],
          'every directive named in a directives.md heading is registered')
    or diag("not registered in the code: @unknown");

# ---- (c) defaults and ranges -----------------------------------------------

my $config = $code{'mod_sg_config.c'} // '';
ok($config ne '', 'mod_sg_config.c read');

# #define NAME value, evaluated when it is plain integer arithmetic
my %define;
my $config_h = -e "$root/mod_sg_config.h"
               ? (c_parse(slurp("$root/mod_sg_config.h"), 'mod_sg_config.h'))[0]
               : '';
for my $src ($config_h, $config) {
    while ($src =~ /^[ \t]*#[ \t]*define[ \t]+(SG_\w+)[ \t]+([^\n]+?)[ \t]*$/mg) {
        $define{$1} = $2;
    }
}
sub c_value {
    my ($expr, $depth) = @_;
    $depth //= 0;
    return undef if !defined $expr || $depth > 5;
    $expr =~ s/\b(SG_\w+)\b/my $v = c_value($define{$1}, $depth + 1);
                            defined $v ? $v : 'UNDEF'/ge;
    return undef if $expr !~ /^[\d\s()+*\/-]+$/;
    my $v = eval $expr;     ## no critic (ProhibitStringyEval): digits only
    return $@ ? undef : $v;
}

# The field a directive sets (from its handler) and the define that field
# starts from (sg_config_reset): directive -> SG_*_DEFAULT.
my %field_default;
while ($config =~ /sg_global\.([\w.]+)\s*=\s*(?:apr_time_from_sec\s*\(\s*)?(SG_\w+_DEFAULT)\b/g) {
    $field_default{$1} = $2;
}
sub handler_body {
    my ($handler) = @_;
    return $config =~ /\b\Q$handler\E\s*\([^)]*\)\s*\{(.*?)^\}/ms ? $1 : '';
}
my %default_define;
for my $d (sort keys %cmds) {
    my $body = handler_body($cmds{$d}{handler});
    my ($field) = $body =~ /sg_global\.([\w.]+)/;
    $default_define{$d} = $field_default{$field}
        if defined $field && $field_default{$field};
}

my %used = map { $_ => 1 } values %default_define;
my @orphans = grep { /_DEFAULT$/ && !$used{$_} } sort keys %define;
is_deeply(\@orphans, [], 'every SG_*_DEFAULT belongs to a directive')
    or diag("no directive found for: @orphans");

my @required = qw(StapleGuardResponderTimeout StapleGuardClockSkew
                  StapleGuardStartupTimeout StapleGuardRefreshAt
                  StapleGuardRetryMin StapleGuardRetryMax);
for my $d (@required) {
    ok($default_define{$d}, "$d: its default's #define found")
        or diag("cannot tell which SG_*_DEFAULT $d starts from");
}

my %unit = (ms => 0.001, s => 1, sec => 1, mi => 60, min => 60,
            h => 3600, d => 86400);
sub with_unit {
    my ($n, $u) = @_;
    return $n * (defined $u && exists $unit{lc $u} ? $unit{lc $u} : 1);
}

# A table row of a section: "| Default | ... |"
sub doc_row {
    my ($d, $label) = @_;
    my $body = $section{$d} ? $section{$d}{body} : '';
    return $body =~ /^\|[ \t]*\Q$label\E[ \t]*\|[ \t]*(.*?)[ \t]*\|[ \t]*$/m
           ? $1 : undef;
}

# The documented default of $d: the backticked value in its Default row
# that stands at $d's place among the heading's names.
sub doc_default {
    my ($d) = @_;
    my $row = doc_row($d, 'Default');
    return (undef, 'no Default row') if !defined $row;
    my @vals = $row =~ /`([^`]+)`/g;
    my @names = @{ $section{$d}{names} };
    my ($i) = grep { $names[$_] eq $d } 0 .. $#names;
    if (@names > 1) {
        return (undef, "Default row has " . scalar(@vals) . " values for "
                       . scalar(@names) . " directives") if @vals != @names;
        @vals = ($vals[$i]);
    }
    return (undef, 'no value in the Default row') if !@vals;
    return ($vals[0], undef);
}

sub as_number {
    my ($s) = @_;
    return undef if !defined $s;
    return $s =~ /^\s*(\d+)\s*([a-z]+)?\s*$/i ? with_unit($1, $2) : undef;
}

for my $d (sort keys %cmds) {
    next if !$section{$d};      # reported under (b)
    my $help = $cmds{$d}{help};
    my ($doc_val, $why) = doc_default($d);

    if (my $def = $default_define{$d}) {
        my $code_val = c_value($def);
        ok(defined $code_val, "$d: $def evaluates") or next;
        my ($hn, $hu) = $help =~ /\bdefault:?\s+(\d+)\s*([a-z]+)?/i;
        ok(defined $hn, "$d: the help string states the default")
            or diag("help: $help");
        is(with_unit($hn, $hu), $code_val,
           "$d: help string default = $def ($code_val)") if defined $hn;
        ok(!defined $why, "$d: directives.md states the default")
            or diag($why);
        is(as_number($doc_val), $code_val,
           "$d: directives.md default = $def ($code_val)") if !defined $why;
    }
    elsif ($cmds{$d}{kind} eq 'FLAG' && $help =~ /\bdefault:?\s+(On|Off)\b/i) {
        my $help_val = $1;
        is(lc($doc_val // ''), lc $help_val,
           "$d: directives.md default = help string default ($help_val)");
    }
    elsif ($d eq 'StapleGuardStoreDir') {
        # a name inside DefaultRuntimeDir (mod_sg_config.h)
        my $name = ($define{SG_STORE_DEFAULT_NAME} // '') =~ s{^"|"$}{}gr;
        ok($name ne '', "$d: SG_STORE_DEFAULT_NAME found") or next;
        like($help, qr/default\b.*\Q$name\E/, "$d: help string default names $name");
        my $row = doc_row($d, 'Default') // '';
        like($row, qr/`\Q$name\E`/, "$d: directives.md default names $name");
        like($row, qr/DefaultRuntimeDir/,
             "$d: ... inside DefaultRuntimeDir, as the help string says")
            if $help =~ /DefaultRuntimeDir/;
    }

    # Ranges: what the handler checks, the help string, the Range row.
    my $body = handler_body($cmds{$d}{handler});
    my @lim = $body =~ /sg_config_seconds\s*\(\s*cmd\s*,\s*arg\s*,\s*(\w+)\s*,\s*(\w+)\s*,/;
    @lim = $body =~ /sg_config_int\s*\(\s*cmd\s*,\s*arg\s*,\s*(\w+)\s*,\s*(\w+)\s*,/ if !@lim;
    @lim = $body =~ /\bv\s*<\s*(\w+)\s*\|\|\s*v\s*>\s*(\w+)/ if !@lim;
    next if !@lim;
    my @code_range = map { c_value($_) } @lim;
    next if grep { !defined } @code_range;
    my @help_range = $help =~ /\((\d+)\s*-\s*(\d+)/;
    is("@help_range", "@code_range",
       "$d: help string range = the handler's check (@code_range)");
    my $row = doc_row($d, 'Range');
    ok(defined $row, "$d: directives.md has a Range row") or next;
    my @doc_range = $row =~ /(\d+)\s*[\x{2013}-]\s*(\d+)/;
    is("@doc_range", "@code_range",
       "$d: directives.md range = the handler's check (@code_range)");
}

# ---- (d) directive-like words in troubleshooting.md ------------------------

# ?auto keys of the status page: "StapleGuardAtRisk: %d" is a key,
# "StapleGuardCert%d" a prefix.
my (%status_key, %status_prefix);
for my $s (@{ $strings{'mod_sg_status.c'} // [] }) {
    while ($s =~ /\b(StapleGuard\w*)(%?)/g) {
        ($2 ? $status_prefix{$1} : $status_key{$1}) = 1;
    }
}
my %seen;
my @strange = grep {
    my $w = $_;
    !$seen{$w}++ && !$cmds{$w} && !$status_key{$w}
        && !grep { index($w, $_) == 0 } keys %status_prefix
} $trouble =~ /\b(StapleGuard\w*)/g;
is_deeply(\@strange, [],
          'every StapleGuard* word in troubleshooting.md is a directive '
          . 'or a status key')
    or diag("unknown: @strange");

done_testing();
