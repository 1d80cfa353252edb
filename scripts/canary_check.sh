#!/usr/bin/env bash
# Leak canaries (docs/fault-matrix.md#leak-canaries): re-runs the unit,
# integration, faults, cli and stores suites of an existing build with verbose
# logging, keeping every file the tests write, and fails if a secret shows up
# anywhere but in a token store record.
#
#   scripts/canary_check.sh [BUILD_DIR]      default: build/gcc (never rebuilt)
#   DEVFLOW_CANARY_LABELS="unit faults" scripts/canary_check.sh   only those suites
#   DEVFLOW_CANARY_JOBS=N      tests run at once (default 4: most of them wait on
#                              real time, not on the CPU)
#
# What counts as a secret:
#   - the marker CANARY: every token, device code and client secret of the fake
#     server (devflow::testing) and of the hostile server (tests/faults) has it;
#   - the integration provider's confidential client secret, and its Basic
#     credentials as they would travel in an Authorization header;
#   - a JWT (id_tokens; JWT access tokens);
#   - a 43-character base64url word with upper case, lower case and digits: the
#     shape of every opaque token oidc-provider issues (access and refresh
#     tokens, device codes: 32 random bytes as nanoid).
# Where it looks: the whole captured output of ctest -V (stdout and stderr of
# every test, prompts, log lines and exception messages echoed under
# DEVFLOW_TEST_VERBOSE=1, the provider's request log under DEVFLOW_LOG=1), and
# every file written under BUILD_DIR during the run, which includes the
# private TMPDIR, HOME and XDG directories the tests get (temp directories are
# kept: DEVFLOW_TEST_KEEP_TEMP=1). Token store records may hold tokens and are
# skipped, as are PEM files and build products (the exact rules, and what the
# check cannot see, are in the document).
#
# Exit status: 0 clean; 1 a secret was found (each finding is printed as
# file:line and a redacted excerpt, never the secret itself); 2 the check
# could not run, or the suites failed (the scan still runs and reports).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="$(cd "${1:-$here/build/gcc}" 2>/dev/null && pwd)" || {
    echo "canary_check: no build directory ${1:-$here/build/gcc} (run scripts/test.sh first)" >&2
    exit 2
}
if [[ ! -f "$build/CTestTestfile.cmake" ]]; then
    echo "canary_check: $build is not a configured build (run scripts/test.sh first)" >&2
    exit 2
fi
command -v perl >/dev/null || { echo "canary_check: perl is needed" >&2; exit 2; }

started=$SECONDS
work="$build/canary-check"
rm -rf "$work"
mkdir -p "$work/tmp" "$work/home" "$work/state" "$work/config" "$work/cache"
chmod 700 "$work/tmp" "$work/home"
stamp="$work/.started"
touch "$stamp"
sleep 1  # file times have 1 s granularity on some file systems: "newer" must mean "written by the run"

# The suites this build has, of the five the check covers (or of those named
# in DEVFLOW_CANARY_LABELS, e.g. "unit faults", to look at one suite).
wanted=" ${DEVFLOW_CANARY_LABELS:-unit integration faults cli stores} "
labels=()
while read -r label; do
    case "$label" in
        unit | integration | faults | cli | stores) [[ "$wanted" == *" $label "* ]] && labels+=("$label") ;;
    esac
done < <(ctest --test-dir "$build" --print-labels 2>/dev/null | sed -n 's/^ *//p')
if ((${#labels[@]} == 0)); then
    echo "canary_check: $build has none of the labels unit, integration, faults, cli, stores" >&2
    exit 2
fi
regex="^($(IFS='|'; echo "${labels[*]}"))\$"
echo "== canary check: running ${labels[*]} in $build (verbose, temp files kept)"

suites_ok=1
env TMPDIR="$work/tmp" HOME="$work/home" XDG_STATE_HOME="$work/state" \
    XDG_CONFIG_HOME="$work/config" XDG_CACHE_HOME="$work/cache" \
    DEVFLOW_TEST_VERBOSE=1 DEVFLOW_TEST_KEEP_TEMP=1 DEVFLOW_LOG=1 \
    ctest --test-dir "$build" -L "$regex" -V -j "${DEVFLOW_CANARY_JOBS:-4}" --timeout 120 \
    >"$work/ctest-output.log" 2>&1 || suites_ok=0
ran="$(grep -Eo '[0-9]+ tests? failed out of [0-9]+' "$work/ctest-output.log" | tail -1 || true)"
echo "== canary check: suites done in $((SECONDS - started)) s (${ran:-no summary}); scanning"

# Every file the run wrote under the build directory (our report excepted).
files="$work/files.txt"
find "$build" -type f -newer "$stamp" ! -path "$work/findings.txt" ! -path "$files" -print0 \
    >"$files"

secret="${DEVFLOW_CONFIDENTIAL_SECRET:-devflow-test-secret}"
basic="$(printf '%s' "devflow-confidential:$secret" | base64 -w0)"

status=0
export CANARY_BUILD="$build"
CANARY_SECRETS="$secret"$'\n'"$basic" perl -e '
    use strict; use warnings;
    my @literals = ("CANARY", grep { length } split /\n/, $ENV{CANARY_SECRETS});
    my $lit = join "|", map { quotemeta } @literals;
    my $jwt = qr/eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/;
    my $word = qr/(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])/;
    # A random 43-character base64url word has upper case, lower case and a
    # digit with probability > 99.9 %; identifiers and words rarely do.
    sub opaque { my $w = shift; return $w =~ /[A-Z]/ && $w =~ /[a-z]/ && $w =~ /[0-9]/; }
    sub redact { my $s = shift; return substr($s, 0, 4) . "\x{2026}(" . length($s) . " chars)"; }
    sub printable { my $s = shift; $s =~ s/[^\x20-\x7e]/?/g; return $s; }
    binmode STDOUT, ":utf8";
    my ($count, $shown) = (0, 0);
    local $/ = "\0";
    open my $list, "<", $ARGV[0] or die "cannot read the file list: $!";
    my @paths = ($ARGV[1], map { chomp; $_ } <$list>);
    my %seen;
    local $/ = "\n";
    for my $path (grep { !$seen{$_}++ } @paths) {
        my $name = $path =~ s{.*/}{}r;
        # file_store set-aside copies and temp files hold records by design.
        next if $name =~ /\.(corrupt|untrusted)-\d/ || $name =~ /^\..*\.tmp-\d+-\d+$/;
        # The data of an etcd member (write-ahead log, snapshots, database) is a
        # token store too: etcd_store keeps its records there.
        next if $path =~ m{/member/(wal|snap)/};
        open my $fh, "<:raw", $path or next;
        my $text = do { local $/; <$fh> } // "";
        close $fh;
        # A token store record may hold tokens: a devflow record by content, or
        # what file_store writes: a private (0600) .json file, named after
        # the key in directory mode (tests store raw canary values too).
        next if $text =~ /\A\s*\{.*"devflow_record"\s*:/s;
        next if $name =~ /^[0-9a-f]{32}\.json$/;
        my $mode = (stat $path)[2] // 0;
        next if $name =~ /\.json$/ && ($mode & 07777) == 0600;
        # Certificates and keys the tests make: base64, not tokens.
        next if $text =~ /\A-----BEGIN [A-Z ]+-----/;
        # Build products (a build running beside the check): the test
        # programs hold the canary marker as string literals.
        next if $text =~ /\A\x7fELF/ || $name =~ /\.(gch|pch|o|a|so)$/;
        my $line = 0;
        for my $l (split /\n/, $text, -1) {
            ++$line;
            my @hits;
            while ($l =~ /($lit)/g) {
                my ($s, $e) = ($-[0], $+[0]);
                # The whole token, not just the marker.
                my $b = $s; $b-- while $b > 0 && substr($l, $b - 1, 1) =~ /[A-Za-z0-9_.\-]/;
                $e++ while $e < length($l) && substr($l, $e, 1) =~ /[A-Za-z0-9_.\-]/;
                push @hits, ["known secret", $b, $e];
            }
            while ($l =~ /($jwt)/g) { push @hits, ["JWT", $-[0], $+[0]]; }
            while ($l =~ /($word)/g) {
                my ($b, $e, $w) = ($-[0], $+[0], $1);
                # oidc-provider names its interaction and device pages by a
                # 43-character uid in the path (its request log shows paths):
                # a session id of the simulated browser, not a token.
                next if substr($l, 0, $b) =~ m{/(interaction|device)/\z};
                push @hits, ["opaque token shape", $b, $e] if opaque($w);
            }
            # Merge overlapping hits (a marker inside a JWT is one finding).
            @hits = sort { $a->[1] <=> $b->[1] } @hits;
            my @merged;
            for my $h (@hits) {
                if (@merged && $h->[1] < $merged[-1][2]) {
                    $merged[-1][2] = $h->[2] if $h->[2] > $merged[-1][2];
                } else {
                    push @merged, [@$h];
                }
            }
            for my $i (0 .. $#merged) {
                ++$count;
                next if ++$shown > 50;
                # The line with every secret in it redacted; this one marked.
                my ($shown_line, $at, $pos) = ("", 0, 0);
                for my $j (0 .. $#merged) {
                    my ($kind, $b, $e) = @{$merged[$j]};
                    $shown_line .= printable(substr($l, $pos, $b - $pos));
                    my $secret = substr($l, $b, $e - $b);
                    if ($j == $i) {
                        $at = length $shown_line;
                        $shown_line .= "\x{27e6}" . redact($secret) . "\x{27e7}";
                    } else {
                        $shown_line .= "[redacted]";
                    }
                    $pos = $e;
                }
                $shown_line .= printable(substr($l, $pos));
                my $from = $at > 40 ? $at - 40 : 0;
                my $excerpt = ($from ? "\x{2026}" : "") . substr($shown_line, $from, 100);
                $excerpt .= "\x{2026}" if length($shown_line) > $from + 100;
                my $where = $path; $where =~ s{^\Q$ENV{CANARY_BUILD}\E/}{};
                print "$where:$line: $merged[$i][0]: $excerpt\n";
            }
        }
    }
    print "... and ", $count - 50, " more\n" if $count > 50;
    print "canary_check: $count finding(s) in ", scalar(keys %seen), " file(s) scanned\n";
    exit($count ? 1 : 0);
' "$files" "$work/ctest-output.log" >"$work/findings.txt" || status=$?

cat "$work/findings.txt"
if ((status == 1)); then
    echo "== canary check: FAILED: a secret appears outside the token store (full output: $work/ctest-output.log)"
    exit 1
elif ((status != 0)); then
    echo "== canary check: the scanner failed (status $status)" >&2
    exit 2
fi
if ((suites_ok == 0)); then
    echo "== canary check: no leak found, but the suites failed during the check: see $work/ctest-output.log" >&2
    exit 2
fi
echo "== canary check: passed in $((SECONDS - started)) s"
