#!/bin/sh
# Writes the manual page ganc(1) to stdout from the ganc binary's own --help texts: the command
# list of `ganc --help` and each command's flag table as `ganc COMMAND --help` prints it (the
# tables in src/cli/ and src/gan/config.c), so the page cannot drift from the flags. Only the
# frame (name, synopsis, environment, exit status, files) is written here.
# Usage: mk/man.sh path/to/ganc > ganc.1   (tests/test_man.sh checks the result against --help)
set -eu
GANC=$1
version=$("$GANC" --version | awk '{ print $2; exit }')

# roff: a backslash is \e, a dash is \- (so that searches and copies find real minus signs),
# and a line must not start with a control character ('.' or "'").
esc() { sed -e 's/\\/\\e/g' -e 's/-/\\-/g' -e "s/^\\([.']\\)/\\\\\\&\\1/"; }

# The commands, from `ganc --help`'s list ("  NAME   what it does: example"); `classifier`
# has one sub-command, train, whose --help `ganc classifier --help` prints.
commands=$("$GANC" --help | awk '/^commands:/ { on = 1; next } on && /^$/ { exit } on && /^  [a-z]/ { print $1 }')

cat <<EOF
.TH GANC 1 "" "ganc $version" "User Commands"
.SH NAME
ganc \\- generative adversarial networks in C: train, sample, evaluate
.SH SYNOPSIS
.B ganc
.I COMMAND
.RI [ options ]
.br
.B ganc
.I COMMAND
.B \\-\\-help
.br
.B ganc \\-\\-version
.SH DESCRIPTION
.B ganc
trains a generator G against a discriminator D on a data set, samples from the result and
measures it, on a plain CPU. Every flag of every command is listed below with its default, as
.B ganc
.I COMMAND
.B \\-\\-help
prints it. The library behind it (\\fIganc.h\\fR, \\fIlibganc\\fR; \\fBpkg\\-config \\-\\-cflags \\-\\-libs ganc\\fR)
draws from a trained generator inside other programs; \\fBganc export\\fR writes the file they load.
.SH COMMANDS
EOF
"$GANC" --help | awk '/^commands:/ { on = 1; next } on && /^$/ { exit } on' | esc |
    awk '{ gsub(/   */, " ") } /^ [a-z]/ { print ".TP"; print "\\fB" $1 "\\fR"; sub(/^ [a-z]+ /, ""); print; next } { sub(/^ /, ""); print ".br"; print }'
for c in $commands; do
    help=$("$GANC" $c --help 2>/dev/null || true)
    case $help in usage:*) ;; *) continue ;; esac # `ganc models` just lists the presets
    name=$c
    [ "$c" = classifier ] && name="classifier train"
    echo ".SS \"ganc $name\""
    # usage lines as they are; paragraphs of text; rows "  LABEL   help" with the help wrapped
    # on lines indented to its column (a long LABEL has a line of its own)
    printf '%s\n' "$help" | esc | awk '
        function flush() { if (row != "") { print ".TP"; print label; print row }; row = "" }
        /^usage: / { flush(); sub(/^usage: /, ""); print ".PP"; print ".nf"; print; usage = 1; next }
        usage && /^       / { sub(/^ +/, ""); print; next }
        usage { print ".fi"; usage = 0 }
        /^$/ { flush(); para = 1; next }
        /^  [^ ]/ {
            flush()
            line = substr($0, 3)
            split_at = index(line, "  ")
            if (split_at) { text = substr(line, split_at); line = substr(line, 1, split_at - 1) } else text = ""
            n = split(line, w, " ")
            label = "\\fB" w[1] "\\fR"
            for (i = 2; i <= n; i++) label = label " \\fI" w[i] "\\fR"
            sub(/^ +/, "", text); row = text; if (row == "") row = " "
            next
        }
        /^   / { sub(/^ +/, ""); row = (row == " " ? "" : row " ") $0; next }
        { if (para) print ".PP"; para = 0; print }
        END { flush() }'
done
cat <<'EOF'
.SH ENVIRONMENT
.TP
.B GANC_DATA_DIR
the folder holding \fImnist\-10k/\fR for \fB\-\-data mnist\-10k\fR (else the build tree's \fIdata/\fR, else \fI./data\fR).
.TP
.B GANC_CACHE_DIR
where a picture folder's decoded images are cached (else \fI$XDG_CACHE_HOME/ganc\fR or \fI~/.cache/ganc\fR).
.TP
.B GANC_GEMM
\fBblas\fR: matrix products by OpenBLAS instead of ganc's own AVX\-512/AVX2 kernels.
.SH EXIT STATUS
0 on success; 1 when a command fails or refuses its flags (one line on standard error says why);
2 for a missing or unknown command.
.SH FILES
.TP
.I RUN/ckpt/step_*.safetensors
checkpoints of a run: \fBganc train \-\-resume\fR, \fBsample\fR, \fBinfo\fR, \fBeval\fR and \fBexport\fR read the newest.
.TP
.I share/ganc/models/*.gan
the model presets (also compiled into ganc: \fB\-\-model dcgan28\fR).
.SH SEE ALSO
The README of ganc, and \fIganc.h\fR for the library.
EOF
