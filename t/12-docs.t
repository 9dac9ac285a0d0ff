#!/usr/bin/perl
# The documentation says what the code does. No httpd needed: this reads
# the C sources and the Markdown.
#  (a) every message id in the code ("SGdddd" in a string literal) is in
#      docs/troubleshooting.md, in its reference; every id there exists;
#      the outcome table carries each reason's name and exact text; each
#      line of the glue's message table (httpd/sgh_msg.c) is logged from
#      exactly one call site, at the level(s) its entry in the docs names;
#      each id the command (cli/) prints is the glue's line of the same
#      name (so documented, and meaning the same) or a core outcome
#  (b) every directive registered (AP_INIT_*) has a "## Name" heading in
#      docs/directives.md, and every name in those headings is registered
#  (c) defaults and ranges agree between the code (the directive table of
#      httpd/sgh_config.c, from which the handlers check ranges and set
#      defaults), the directives' help strings and docs/directives.md
#  (d) every StapleGuard* word in docs/troubleshooting.md exists (a
#      directive, a status key, an alert of conf/staple_guard.rules.yml)
use strict;
use warnings;
use FindBin;
use lib "$FindBin::Bin/lib";
use SGSource;
use Test::More;

my $root = "$FindBin::Bin/..";
my $builder = Test::More->builder;
binmode($builder->$_, ':encoding(UTF-8)')
    for qw(output failure_output todo_output);

my $LITS = $SGSource::LITS;
sub slurp { SGSource::slurp(@_) }

my ($code_ref, $strings_ref) = SGSource::read_c($root);
my %code = %$code_ref;
my %strings = %$strings_ref;
ok(keys(%code) > 0, 'C sources found') or BAIL_OUT("no C sources in $root");

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
        $reasons{$2} = [$1, SGSource::c_concat($3)];
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

# The glue's message table: [SGH_M_NAME] = { "SGnnnn", APLOG_L, LOUD }.
my %msg;        # SGH_M_NAME -> {id, levels}
my $msg_c = $code{'httpd/sgh_msg.c'} // '';
while ($msg_c =~ /\[\s*(SGH_M_\w+)\s*\]\s*=\s*\{\s*"(SG\d{4})"\s*,\s*APLOG_(\w+)\s*,\s*(?:APLOG_(\w+)|SGH_SAME)\s*\}/g) {
    $msg{$1} = { id => $2, levels => [grep { defined } $3, $4] };
}
ok(keys(%msg) >= 20, 'the message table of httpd/sgh_msg.c was read ('
   . scalar(keys %msg) . ' lines)');

# Ids live in the two tables only, not in the lines' text.
my @stray = grep { $_ ne 'httpd/sgh_msg.c' && $_ ne 'src/sg_reason.c' }
            map { @$_ } values %code_ids;
is_deeply([sort @stray], [], 'message ids are written in the tables only')
    or diag("ids written in: @stray");

# Each line is logged from one call site: an operator who greps an id finds
# one place in the code.
my @sites;
for my $m (sort keys %msg) {
    my $n = 0;
    for my $f (grep { $_ ne 'httpd/sgh_msg.c' } keys %code) {
        $n += () = $code{$f} =~ /\b\Q$m\E\b/g;
    }
    push @sites, "$msg{$m}{id} ($m): $n call sites" if $n != 1;
}
is_deeply(\@sites, [], 'each message id is logged from exactly one call site')
    or diag(join "\n", @sites);

# The levels of the table are those the reference names.
my %level_word = (EMERG => 'emerg', ALERT => 'alert', CRIT => 'crit',
                  ERR => 'error', WARNING => 'warning', NOTICE => 'notice',
                  INFO => 'info', DEBUG => 'debug');
my @levels;
for my $m (sort keys %msg) {
    my $id = $msg{$m}{id};
    my ($entry) = $reference =~ /^#+[ \t]+\Q$id\E\b(.*?)(?=^#|\z)/ms;
    my ($line) = ($entry // '') =~ /\*\*Level:\*\*(.*?)(?=^\s*- \*\*|\z)/ms;
    if (!defined $line) {
        push @levels, "$id: no Level line";
        next;
    }
    for my $l (@{ $msg{$m}{levels} }) {
        my $w = $level_word{$l} // lc $l;
        push @levels, "$id: level '$w' not named" if $line !~ /\b\Q$w\E\b/i;
    }
}
is_deeply(\@levels, [], 'each message entry names the levels of the table')
    or diag(join "\n", @levels);

# The command (cli/) prints some of these lines' ids for the same verdicts,
# each from a constant SGC_ID_NAME: it must be the id of SGH_M_NAME in the
# glue's table (so it is documented, and means the same), and no id is
# written in cli/ but in those constants. Its other ids are the core's
# outcomes (sg_reason_id), from the table read above.
my ($cli_code, $cli_strings) = SGSource::read_c($root, 'cli');
my %cli_id;     # NAME -> id
for my $f (sort keys %$cli_code) {
    while ($cli_code->{$f} =~ /^[ \t]*#[ \t]*define[ \t]+SGC_ID_(\w+)[ \t]+"(SG\d{4})"/mg) {
        $cli_id{$1} = $2;
    }
}
ok(keys(%cli_id) >= 3, 'the command\'s ids read from cli/ ('
   . scalar(keys %cli_id) . ')');
my @cli_wrong = map {
    my $m = $msg{"SGH_M_$_"};
    !$m ? "SGC_ID_$_ ($cli_id{$_}): no SGH_M_$_ in httpd/sgh_msg.c"
    : $m->{id} ne $cli_id{$_}
        ? "SGC_ID_$_ is $cli_id{$_}, SGH_M_$_ is $m->{id}"
    : $reference !~ /^#+[ \t]+\Q$cli_id{$_}\E\b/m
        ? "$cli_id{$_} (SGC_ID_$_): no entry in the reference" : ();
} sort keys %cli_id;
is_deeply(\@cli_wrong, [], 'each id the command prints is the module\'s '
          . 'line of the same name, and documented')
    or diag(join "\n", @cli_wrong);
my $cli_written = () = join("\n", map { @$_ } values %$cli_strings)
                       =~ /\bSG\d{4}\b/g;
is($cli_written, scalar(keys %cli_id),
   'cli/ writes ids only in its SGC_ID_ constants');

# ---- (b) directives and their headings -------------------------------------

# The numeric directives are rows of one table in httpd/sgh_config.c
# (t/lib/SGSource.pm reads it and the command table).
my $src = SGSource::directives(\%code);
my %cmds = %{ $src->{cmds} };       # directive -> {kind, handler, help, file}
my %table = %{ $src->{table} };     # directive -> {kind, lo, hi, def}
ok(($code{'httpd/sgh_config.c'} // '') ne '', 'httpd/sgh_config.c read');
ok(keys(%table) >= 8, 'the directive table was read ('
   . scalar(keys %table) . ' rows)');
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
    return $s =~ /^\s*(\d+)\s*%?\s*([a-z]+)?\s*$/i ? with_unit($1, $2) : undef;
}

# A table row's default and range, as its help string and the docs state.
sub check_numeric {
    my ($d) = @_;
    my $t = $table{$d};
    my $help = $cmds{$d}{help};
    my ($hn, $hu) = $help =~ /\bdefault:?\s+(\d+)\s*([a-z]+)?/i;
    ok(defined $hn, "$d: the help string states the default")
        or diag("help: $help");
    is(with_unit($hn, $hu), $t->{def}, "$d: help string default = "
       . "the table's ($t->{def})") if defined $hn;
    my ($doc_val, $why) = doc_default($d);
    ok(!defined $why, "$d: directives.md states the default") or diag($why);
    is(as_number($doc_val), $t->{def},
       "$d: directives.md default = the table's ($t->{def})") if !defined $why;
    my @help_range = $help =~ /\((\d+)\s*-\s*(\d+)/;
    is("@help_range", "$t->{lo} $t->{hi}",
       "$d: help string range = the table's ($t->{lo} $t->{hi})");
    my $row = doc_row($d, 'Range');
    ok(defined $row, "$d: directives.md has a Range row") or return;
    my @doc_range = $row =~ /(\d+)\s*[\x{2013}-]\s*(\d+)/;
    is("@doc_range", "$t->{lo} $t->{hi}",
       "$d: directives.md range = the table's ($t->{lo} $t->{hi})");
}

my ($store_default) = slurp("$root/httpd/sgh_config.h")
    =~ /^[ \t]*#[ \t]*define[ \t]+SGH_STORE_DEFAULT_NAME[ \t]+"([^"]*)"/m;

for my $d (sort keys %cmds) {
    next if !$section{$d};      # reported under (b)
    my $help = $cmds{$d}{help};
    if ($table{$d}) {
        check_numeric($d);
    }
    elsif ($help =~ /^On\|Off\b/ && $help =~ /\bdefault:?\s+(On|Off)\b/i) {
        my $help_val = $1;
        my ($doc_val) = doc_default($d);
        is(lc($doc_val // ''), lc $help_val,
           "$d: directives.md default = help string default ($help_val)");
    }
    elsif ($d eq 'StapleGuardStoreDir') {
        # a name inside DefaultRuntimeDir (httpd/sgh_config.h)
        my $name = $store_default // '';
        ok($name ne '', "$d: SGH_STORE_DEFAULT_NAME found") or next;
        like($help, qr/default\b.*\Q$name\E/, "$d: help string default names $name");
        my $row = doc_row($d, 'Default') // '';
        like($row, qr/`\Q$name\E`/, "$d: directives.md default names $name");
        like($row, qr/DefaultRuntimeDir/,
             "$d: ... inside DefaultRuntimeDir, as the help string says")
            if $help =~ /DefaultRuntimeDir/;
    }
}

# ---- (d) directive-like words in troubleshooting.md ------------------------

# ?auto keys of the status page: "StapleGuardAtRisk: %d" is a key,
# "StapleGuardCert%d" a prefix.
my (%status_key, %status_prefix);
for my $s (@{ $strings{'httpd/sgh_status.c'} // [] }) {
    while ($s =~ /\b(StapleGuard\w*)(%?)/g) {
        ($2 ? $status_prefix{$1} : $status_key{$1}) = 1;
    }
}
# the alerts of conf/staple_guard.rules.yml
my %alert = map { $_ => 1 }
    slurp("$root/conf/staple_guard.rules.yml") =~ /^\s*- alert: (\w+)$/mg;
my %seen;
my @strange = grep {
    my $w = $_;
    !$seen{$w}++ && !$cmds{$w} && !$status_key{$w} && !$alert{$w}
        && !grep { index($w, $_) == 0 } keys %status_prefix
} $trouble =~ /\b(StapleGuard\w*)/g;
is_deeply(\@strange, [],
          'every StapleGuard* word in troubleshooting.md is a directive, '
          . 'a status key or an alert')
    or diag("unknown: @strange");

done_testing();
