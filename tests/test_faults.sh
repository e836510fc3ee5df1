#!/bin/sh
# Faults during training: SIGKILL at random moments (checkpoints are written every step, so
# many kills land inside a write) must always leave checkpoints that load, and a run that,
# resumed again and again, ends bit-identical to one that was never killed; a full disk or a
# file-size limit while writing a checkpoint gives a clear error and keeps the previous one.
# Usage: GANC=path/to/ganc tests/test_faults.sh   (KILL_SEED=N repeats a failing sequence)
. "$(dirname "$0")/cli_fixture.sh"

RUN="--model $T/tiny.gan --data $T/images-idx3-ubyte --seed 11 --log-every 50 --sample-every 50 --ckpt-every 1 --keep 2 --threads 1"
# Every checkpoint in the directory loads; prints their count.
all_load() {
    n=0
    for f in "$1"/ckpt/step_*.safetensors; do
        [ -e "$f" ] || continue
        $GANC info "$f" >/dev/null 2>"$T/info.err" || { echo "corrupt: $f: $(cat "$T/info.err")" >&2; return 1; }
        n=$((n + 1))
    done
    [ "$n" -gt 0 ]
}
# ganc's own error lines in a stderr file (not the "training ..." banner, progress or "done").
errors_in() { grep '^ganc: ' "$1" | grep -v '^ganc: training \|^ganc: done' ; }
step_of() { $GANC info "$1" 2>/dev/null | sed -n 's/^step *\([0-9]*\).*/\1/p'; }

# --- SIGKILL at 20 random moments -------------------------------------------------------------
seed=${KILL_SEED:-$(date +%s)}
delays=$(awk -v s="$seed" 'BEGIN { srand(s); for (i = 0; i < 20; i++) printf "%.3f ", 0.05 + rand() * 0.45 }')
$GANC train $RUN --steps 100000 --out "$T/k" 2>/dev/null &
pid=$!
# The first kill must find a checkpoint to keep: wait for the first one.
for _ in $(seq 100); do ls "$T"/k/ckpt/step_*.safetensors >/dev/null 2>&1 && break; sleep 0.05; done
kills=0; loads=0; last=0; advanced=0
for d in $delays; do
    sleep "$d"
    kill -KILL $pid 2>/dev/null
    wait $pid 2>/dev/null
    kills=$((kills + 1))
    if all_load "$T/k"; then loads=$((loads + 1)); fi
    now=$(step_of "$T/k")
    [ -n "$now" ] && [ "$now" -gt "$last" ] && advanced=$((advanced + 1)) && last=$now
    $GANC train --resume "$T/k" 2>>"$T/k.err" &
    pid=$!
done
kill -KILL $pid 2>/dev/null; wait $pid 2>/dev/null
check "after each of 20 SIGKILLs every checkpoint loads (KILL_SEED=$seed)" "[ $loads -eq 20 ] && [ $kills -eq 20 ]"
check "the resumed runs made progress between kills ($advanced of 20, reached step $last)" "[ $advanced -ge 10 ]"
check "resuming never failed: $(errors_in $T/k.err | head -n 1)" "[ -z \"\$(errors_in $T/k.err)\" ]"
final=$((last + 3))
check "the killed run resumes to the end" "$GANC train --resume $T/k --steps $final 2>/dev/null && all_load $T/k"
check "no half-written temporary checkpoint is left behind" "[ -z \"\$(ls $T/k/ckpt | grep -v '^step_[0-9]*\.safetensors$')\" ]"
check "a run never killed reaches the same step" "$GANC train $RUN --steps $final --out $T/straight 2>/dev/null"
f=$(printf 'step_%09d.safetensors' $final)
check "killed 20 times and resumed, it ends bit-identical to the run never killed" "cmp -s $T/k/ckpt/$f $T/straight/ckpt/$f"

# --- SIGTERM (what a scheduler or `kill` sends): a checkpoint, exit 143 within 2 seconds ------
$GANC train $RUN --ckpt-every 1000000 --steps 1000000 --out "$T/term" 2>/dev/null &
pid=$!
for _ in $(seq 100); do [ -s "$T/term/log.jsonl" ] && break; sleep 0.05; done
kill -TERM $pid
t0=$(date +%s)
wait $pid; rc=$?
t1=$(date +%s)
check "SIGTERM exits with 143 within 2 seconds" "[ $rc -eq 143 ] && [ $((t1 - t0)) -le 2 ]"
at=$(step_of "$T/term")
check "SIGTERM leaves a checkpoint the run resumes from" \
    "[ -n \"$at\" ] && $GANC train --resume $T/term --steps $((${at:-0} + 2)) 2>/dev/null && [ \"\$(step_of $T/term)\" = $((${at:-0} + 2)) ]"

# --- a checkpoint write that cannot complete ----------------------------------------------------
# 10 steps leave step_10; the resumed run then fails to write step_20. The model is made large
# (checkpoints of about 13 MB) so that the pictures, which a build without stb writes
# uncompressed (up to about 1 MB), stay far below every limit used here.
sed 's/^dense 32 bias=0$/dense 1024 bias=0/' "$T/tiny.gan" > "$T/big.gan"
SMALL="--model $T/big.gan --data $T/images-idx3-ubyte --seed 5 --log-every 10 --sample-every 10 --ckpt-every 10"
disk_full_case() { # name, directory, shell snippet that limits the write, expected reason, snippet that lifts it
    name=$1; dir=$2; limit=$3
    $GANC train $SMALL --steps 10 --out "$dir" 2>/dev/null
    cp "$dir/ckpt/step_000000010.safetensors" "$T/before.safetensors"
    sh -c "$limit; exec $GANC train --resume $dir --steps 30" 2>"$T/full.err"; rc=$?
    check "$name: non-zero exit" "[ $rc -ne 0 ]"
    errors_in "$T/full.err" > "$T/full.lines"
    check "$name: one clear line naming the checkpoint and the reason ($(cat "$T/full.lines"))" \
        "[ \$(wc -l < $T/full.lines) -eq 1 ] && grep -q 'step_000000020.safetensors: cannot write checkpoint' $T/full.lines && grep -qi '$4' $T/full.lines"
    check "$name: the previous checkpoint is intact" "cmp -s $T/before.safetensors $dir/ckpt/step_000000010.safetensors"
    check "$name: nothing half-written is left" "[ \"\$(ls $dir/ckpt)\" = step_000000010.safetensors ]"
    eval "$5"
    check "$name: the run resumes once space is back" "$GANC train --resume $dir --steps 20 2>/dev/null && $GANC info $dir/ckpt/step_000000020.safetensors >/dev/null"
}
# A file-size limit (RLIMIT_FSIZE: 8000 blocks, 4 or 8 MB as a block is 512 or 1024 bytes) needs
# no privileges.
disk_full_case "file-size limit" "$T/fsize" "ulimit -f 8000" "too large" true
# A real full file system: a 20 MB tmpfs holds the run and one checkpoint, not two. Needs root.
mkdir -p "$T/tmpfs"
trap 'umount "$T/tmpfs" 2>/dev/null; rm -rf "$T"' EXIT
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=20m ganc-test "$T/tmpfs" 2>/dev/null; then
    disk_full_case "full disk" "$T/tmpfs/run" "true" "no space" "mount -o remount,size=64m $T/tmpfs"
    umount "$T/tmpfs"
else
    echo "note: not root or no tmpfs mount here; the full-disk case is covered by the file-size limit only"
fi

echo "faults: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
