#!/bin/sh
# The manual page ganc(1) says what the binary's --help says: a section per command of
# `ganc --help`, each listing the flags of `ganc COMMAND --help` in the same order (mk/man.sh
# writes it from them: this catches a page left stale by the build or mangled by the writer),
# the version of `ganc --version`, the usage lines, and roff that renders without a warning.
# Usage: GANC=build/ganc MAN_PAGE=build/ganc.1 tests/test_man.sh
. "$(dirname "$0")/cli_fixture.sh"
MAN_PAGE=${MAN_PAGE:-$(dirname "$GANC")/ganc.1}
check "the man page exists" "[ -s $MAN_PAGE ]"
version=$($GANC --version | awk '{ print $2; exit }')
check "ganc --version prints a version (ganc $version)" "echo '$version' | grep -qE '^[0-9]+\.[0-9]+\.[0-9]+\$'"
check "the page is of that version" "grep -q '^\.TH GANC 1 .*\"ganc $version\"' $MAN_PAGE"

# "COMMAND FLAG" for every flag row of every command: from the --help texts, and from the page's
# sections (.SS "ganc COMMAND", then .TP and the flag in bold, \- for each dash)
commands=$($GANC --help | awk '/^commands:/ { on = 1; next } on && /^$/ { exit } on && /^  [a-z]/ { print $1 }')
check "ganc --help lists the commands (export among them)" "echo '$commands' | grep -qx export"
: > "$T/help.txt"
for c in $commands; do
    $GANC $c --help > "$T/one.txt" 2>/dev/null || true
    grep -q '^usage: ' "$T/one.txt" || continue # ganc models: no flags
    name=$c; [ "$c" = classifier ] && name="classifier train"
    awk -v c="$name" '/^  [^ ]/ { print c " " $1 }' "$T/one.txt" >> "$T/help.txt"
    usage=$(sed -n 's/^usage: //p' "$T/one.txt" | head -n 1)
    check "ganc $name: its first usage line is on the page" \
        "sed -e 's/\\\\-/-/g' -e 's/\\\\e/\\\\/g' $MAN_PAGE | grep -qxF -- '$usage'"
done
awk '/^\.SS / { sub(/^\.SS "ganc /, ""); sub(/"$/, ""); c = $0; next }
     /^\.SH / { c = "" }
     tp && c != "" { line = $0; gsub(/\\-/, "-", line); sub(/^\\fB/, "", line); sub(/\\fR.*/, "", line); print c " " line }
     { tp = /^\.TP$/ }' "$MAN_PAGE" > "$T/man.txt"
check "the help lists over 100 flags ($(wc -l < "$T/help.txt"))" "[ \$(wc -l < $T/help.txt) -gt 100 ]"
check "the page's flags are the help's, command by command, in order ($(diff "$T/help.txt" "$T/man.txt" | grep '^[<>]' | head -n 4 | tr '\n' ' '))" \
    "cmp -s $T/help.txt $T/man.txt"
if command -v groff >/dev/null; then
    check "groff renders it without a warning" "groff -man -Tutf8 -ww -z $MAN_PAGE 2>$T/groff.err && [ ! -s $T/groff.err ]"
else
    echo "man: groff not installed: rendering not checked"
fi
echo "man: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
