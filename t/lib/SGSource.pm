# SGSource: what the C sources declare, read by tests without building
# anything: the string literals of every file (message ids), the
# directives registered with AP_INIT_*, and the rows of the numeric
# directive table (SGH_NUMERIC_DIRECTIVES in httpd/sgh_config.c). Tests
# that walk every directive take the list from here, so that a new one is
# covered (or reported as not covered) without editing them.
package SGSource;

use strict;
use warnings;

our $LIT = qr/"(?:[^"\\\n]|\\.)*"/;
our $LITS = qr/(?:$LIT\s*)+/;

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

# The C files of @dirs under $root (by default the module's: hooks, core,
# glue): ({name => code}, {name => [string literals]}), names relative to
# $root.
sub read_c {
    my ($root, @dirs) = @_;
    @dirs = ('', 'src', 'httpd') if !@dirs;
    my (%code, %strings);
    for my $f (map { glob($_ eq '' ? "$root/*.c" : "$root/$_/*.c") } @dirs) {
        (my $name = $f) =~ s{^\Q$root\E/}{};
        ($code{$name}, $strings{$name}) = c_parse(slurp($f), $f);
    }
    return (\%code, \%strings);
}

# The directives, from code as read_c returns it:
#   cmds:  name -> {kind (TAKE1, RAW_ARGS, ...), handler, help, file}
#   table: name -> {kind (SECONDS, PERCENT, NUMBER), lo, hi, def} for the
#          rows of SGH_NUMERIC_DIRECTIVES, which are in cmds too (TAKE1)
#   units: kind -> what the help strings append to a number ("s", "%")
# The command table appends " (min-max UNIT, default DEF UNIT)" to a row's
# help, as here.
sub directives {
    my ($code) = @_;
    my (%cmds, %table, %units);
    for my $name (sort keys %$code) {
        while ($code->{$name} =~ /AP_INIT_(\w+)\s*\(\s*"(StapleGuard\w*)"\s*,\s*(\w+)\s*,[^,]*,[^,]*,\s*($LITS)\)/g) {
            $cmds{$2} = { kind => $1, handler => $3, help => c_concat($4),
                          file => $name };
        }
    }
    (my $config = $code->{'httpd/sgh_config.c'} // '') =~ s/\\\n/\n/g;
    while ($config =~ /^[ \t]*#[ \t]*define[ \t]+SGH_UNIT_(\w+)[ \t]+"([^"]*)"/mg) {
        $units{$1} = $2;
    }
    while ($config =~ /\bX\(\s*(StapleGuard\w+)\s*,\s*(\w+)\s*,\s*[\w.]+\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*($LITS)\)/g) {
        my ($d, $kind, $lo, $hi, $def, $help) = ($1, $2, $3, $4, $5,
                                                 c_concat($6));
        my $u = $units{$kind} // '?';
        $table{$d} = { kind => $kind, lo => $lo, hi => $hi, def => $def };
        $cmds{$d} = { kind => 'TAKE1', handler => 'sgh_cmd_numeric',
                      help => "$help ($lo-$hi$u, default $def$u)",
                      file => 'httpd/sgh_config.c' };
    }
    return { cmds => \%cmds, table => \%table, units => \%units };
}

1;
