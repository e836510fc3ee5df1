#!/bin/sh
# bench/run.sh (make bench): training speed of ganc against PyTorch on the same networks.
#
# For each model and batch size: `ganc bench` and bench/torch_gan.py (same G and D, same
# iteration: one D step + one G step, median of ITERS timed iterations after 3 warm-up ones,
# THREADS threads each). Prints one table ending in the line ratio_min=X.XX, the smallest
# ganc it/s / PyTorch it/s over the rows; then the data path's lines (below).
#
# The colour presets run on 3-channel pictures of their size (dcgan32 3x32x32, dcgan64
# 3x64x64), the others on 1x28x28; each row checks that both programs count the same
# parameters. After the table, BENCH_DATA (build/bench_data_path) times the data path of
# 64x64 RGB pictures on one thread beside what the dcgan64 row's training consumes.
#
# PRECISIONS ("fp32 bf16") gives each model and batch a row per precision: `ganc bench
# --precision bf16` (its line names the kernels: AMX-BF16, AVX512-BF16, or the emulation, which
# is no faster than fp32) beside bench/torch_gan.py --autocast (PyTorch's bfloat16 autocast),
# which runs only where the CPU has bf16 in hardware (avx512_bf16 or amx_bf16 in /proc/cpuinfo;
# TORCH_AUTOCAST=1 forces it): without, PyTorch falls back to reference loops some 100 times
# slower than fp32 (mlp, batch 64: 9 s per iteration on the AVX2 EPYC). After ratio_min (fp32
# rows), bf16_speedup_min is the smallest ganc bf16 it/s / ganc fp32 it/s, bf16_vs_torch_min
# the smallest ganc bf16 it/s / PyTorch fp32 it/s.
#
# ROUNDS > 1 alternates the two programs that many times per row and reports each one's
# median round (this shared machine's speed drifts by tens of percent within minutes, and
# one round of each can catch them in different moments).
#
# Environment: ITERS (20), ROUNDS (1), THREADS (2), PRECISIONS ("fp32 bf16"), TORCH_AUTOCAST, MODELS ("dcgan28 mlp dcgan32 dcgan64"), BATCHES
# ("64 256"; the colour presets at 64 only unless BATCHES is set), PYTHON (/usr/bin/python3:
# Debian's, which has torch), GANC (build/ganc), BENCH_DATA (build/bench_data_path; "" skips it).
set -u
cd "$(dirname "$0")/.." || exit 1

ITERS=${ITERS:-20}
ROUNDS=${ROUNDS:-1}
THREADS=${THREADS:-2}
MODELS=${MODELS:-dcgan28 mlp dcgan32 dcgan64}
batches_set=${BATCHES+1}
BATCHES=${BATCHES:-64 256}
PYTHON=${PYTHON:-/usr/bin/python3}
GANC=${GANC:-build/ganc}
BENCH_DATA=${BENCH_DATA-build/bench_data_path}
PRECISIONS=${PRECISIONS:-fp32 bf16}
if grep -qw -e avx512_bf16 -e amx_bf16 /proc/cpuinfo 2>/dev/null; then hw_bf16=1; else hw_bf16=0; fi
[ "${TORCH_AUTOCAST:-0}" = 1 ] && hw_bf16=1

# The data shape of a model's rows (C H W).
shape_of() {
    case $1 in
        dcgan32) echo "3 32 32" ;;
        dcgan64) echo "3 64 64" ;;
        *) echo "1 28 28" ;;
    esac
}

# The batch sizes of a model's rows: a colour preset's iteration costs 4-23 times dcgan28's,
# so by default it runs at batch 64 only.
batches_of() {
    case $1 in
        dcgan32 | dcgan64) [ -n "$batches_set" ] && echo "$BATCHES" || echo 64 ;;
        *) echo "$BATCHES" ;;
    esac
}
# One threading layer in PyTorch (its OpenMP pool); ganc keeps OpenBLAS single-threaded itself.
OPENBLAS_NUM_THREADS=1
export OPENBLAS_NUM_THREADS

make -s || { echo "bench: build failed" >&2; exit 1; }
[ -x "$GANC" ] || { echo "bench: $GANC missing" >&2; exit 1; }

if "$PYTHON" -c "import torch" >/dev/null 2>&1; then
    have_torch=1
    torch_version=$("$PYTHON" -c "import torch; print(torch.__version__)" 2>/dev/null)
else
    have_torch=0
    torch_version="not installed"
fi

cpu=$(sed -n 's/^model name[[:space:]]*:[[:space:]]*//p' /proc/cpuinfo 2>/dev/null | head -n 1)
echo "machine: $(nproc) CPUs, ${cpu:-unknown CPU}, load average $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null)"
echo "protocol: threads $THREADS, median of $ITERS iterations after 3 warm-up (1 D step + 1 G step each)," \
     "median of $ROUNDS alternated round(s), OPENBLAS_NUM_THREADS=1, torch $torch_version"
echo

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ganc-bench.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM

# The middle line of file $1 by its first number (the median round), and the largest value
# of column $1 in file $2 ("-" for none).
median_round() { sort -n "$1" | awk '{ l[NR] = $0 } END { if (NR) print l[int((NR + 1) / 2)] }'; }
largest() { awk -v c="$1" 'BEGIN { m = "-" } { if (m == "-" || $c + 0 > m + 0) m = $c } END { print m }' "$2"; }

rows=""      # "model batch precision ganc_it torch_it gflops pct ganc_rss torch_rss" per line
bf16_path=
failed=0
data_consumes=""  # images/s of the dcgan64 row at batch 64 (real images: batch x it/s)
for m in $MODELS; do
    shape=$(shape_of "$m")
    for b in $(batches_of "$m"); do
      for prec in $PRECISIONS; do
        g_params=- t_params=-
        torch_flags=""
        run_torch=$have_torch
        if [ "$prec" = bf16 ]; then
            torch_flags=--autocast
            [ $hw_bf16 = 1 ] || run_torch=0
        fi
        : >"$tmp/g_rounds"
        : >"$tmp/t_rounds"
        r=0
        while [ $r -lt "$ROUNDS" ]; do
            r=$((r + 1))
            g_it=- g_gf=- g_pct=- g_rss=- t_it=- t_rss=-
            # shellcheck disable=SC2086 # $shape is three words
            if "$GANC" bench --model "$m" --batch "$b" --threads "$THREADS" --iters "$ITERS" --shape $shape \
                --precision "$prec" >"$tmp/ganc" 2>&1; then
                [ "$prec" = bf16 ] && bf16_path=$(sed -n 's/^precision bf16: //p' "$tmp/ganc")
                g_params=$(awk '/^parameters / { print $3 "/" $5; exit }' "$tmp/ganc")
                # iter/s X  images/s Y  ms/iter Z (min W)  MFLOP/image F  GFLOP/s G  sgemm peak P GFLOP/s (Q%)  peak RSS R MB
                # shellcheck disable=SC2046 # word splitting wanted
                set -- $(awk '/^iter\/s / {
                    it = gf = pct = rss = "-"
                    for (i = 1; i <= NF; i++) {
                        if ($i == "iter/s") it = $(i + 1)
                        if ($i == "GFLOP/s" && gf == "-") gf = $(i + 1)
                        if ($i ~ /^\([0-9.]+%\)$/) { pct = $i; gsub(/[()%]/, "", pct) }
                        if ($i == "peak" && $(i + 1) == "RSS") rss = $(i + 2)
                    }
                    print it, gf, pct, rss; exit
                }' "$tmp/ganc")
                [ $# -eq 4 ] && { g_it=$1 g_gf=$2 g_pct=$3 g_rss=$4; }
            fi
            if [ "$g_it" = - ]; then
                failed=1
                echo "bench: ganc bench --model $m --batch $b failed:" >&2
                cat "$tmp/ganc" >&2
            fi
            if [ $run_torch = 1 ]; then
                # shellcheck disable=SC2086 # $shape is three words; $torch_flags none or one
                if "$PYTHON" bench/torch_gan.py --model "$m" --batch "$b" --threads "$THREADS" --iters "$ITERS" \
                    --shape $shape $torch_flags >"$tmp/torch" 2>&1; then
                    # shellcheck disable=SC2046 # word splitting wanted
                    set -- $(awk '/^torch / {
                        it = rss = pg = pd = "-"
                        for (i = 2; i <= NF; i++) {
                            split($i, kv, "=")
                            if (kv[1] == "it_s") it = kv[2]
                            if (kv[1] == "rss_mb") rss = kv[2]
                            if (kv[1] == "params_g") pg = kv[2]
                            if (kv[1] == "params_d") pd = kv[2]
                        }
                        print it, rss, pg "/" pd
                    }' "$tmp/torch" | tail -n 1)
                    [ $# -eq 3 ] && { t_it=$1 t_rss=$2 t_params=$3; }
                fi
                if [ "$t_it" = - ]; then
                    failed=1
                    echo "bench: torch_gan.py --model $m --batch $b failed:" >&2
                    cat "$tmp/torch" >&2
                elif [ "$g_it" != - ] && [ "$g_params" != "$t_params" ]; then
                    # not the same networks: the row would compare nothing
                    failed=1
                    echo "bench: $m: ganc counts G/D parameters $g_params, PyTorch $t_params" >&2
                    t_it=-
                fi
            fi
            [ "$g_it" != - ] && echo "$g_it $g_gf $g_pct $g_rss" >>"$tmp/g_rounds"
            [ "$t_it" != - ] && echo "$t_it $t_rss" >>"$tmp/t_rounds"
        done
        # each program's median round (by it/s); RSS: the largest of the rounds
        g_it=- g_gf=- g_pct=- t_it=-
        # shellcheck disable=SC2046 # word splitting wanted
        set -- $(median_round "$tmp/g_rounds")
        [ $# -eq 4 ] && { g_it=$1 g_gf=$2 g_pct=$3; }
        g_rss=$(largest 4 "$tmp/g_rounds")
        # shellcheck disable=SC2046 # word splitting wanted
        set -- $(median_round "$tmp/t_rounds")
        [ $# -eq 2 ] && t_it=$1
        t_rss=$(largest 2 "$tmp/t_rounds")
        if [ "$m" = dcgan64 ] && [ "$b" = 64 ] && [ "$prec" = fp32 ] && [ "$g_it" != - ]; then
            data_consumes=$(awk -v b="$b" -v it="$g_it" 'BEGIN { printf "%.2f", b * it }')
        fi
        rows="$rows$m $b $prec $g_it $t_it $g_gf $g_pct $g_rss $t_rss
"
      done
    done
done
[ -n "$bf16_path" ] && echo "bf16 rows: ganc's $bf16_path; PyTorch's autocast rows$([ $hw_bf16 = 1 ] || echo ' not run (no bf16 in hardware here)')"
echo

printf '%s' "$rows" | awk -v have_torch=$have_torch '
    function cell(v, fmt) { return v == "-" ? "-" : sprintf(fmt, v) }
    BEGIN {
        fmt = "| %-8s | %5s | %9s | %9s | %10s | %6s | %12s | %6s | %11s | %12s |\n"
        printf fmt, "model", "batch", "precision", "ganc it/s", "torch it/s", "ratio", "ganc GFLOP/s", "% peak", "ganc RSS MB", "torch RSS MB"
        printf "|----------|-------|-----------|-----------|------------|--------|--------------|--------|-------------|--------------|\n"
        min = ""; missing = 0; sp = ""; vt = ""
    }
    NF == 9 {
        key = $1 " " $2
        ratio = "-"
        if ($4 != "-" && $5 != "-" && $5 + 0 > 0) ratio = sprintf("%.2f", $4 / $5)
        if ($3 == "fp32") {
            g32[key] = $4; t32[key] = $5
            if (ratio != "-") { if (min == "" || $4 / $5 < min) min = $4 / $5 } else missing = 1
        } else if ($3 == "bf16" && $4 != "-") {
            if (g32[key] != "" && g32[key] != "-") { r = $4 / g32[key]; if (sp == "" || r < sp) sp = r }
            if (t32[key] != "" && t32[key] != "-") { r = $4 / t32[key]; if (vt == "" || r < vt) vt = r }
        }
        printf fmt, $1, $2, $3, cell($4, "%.2f"), cell($5, "%.2f"), ratio, cell($6, "%.1f"), cell($7, "%.0f"),
            cell($8, "%.0f"), cell($9, "%.0f")
    }
    END {
        print ""
        if (!have_torch) print "ratio_min=n/a (python3-torch not installed)"
        else if (missing || min == "") print "ratio_min=n/a (a run failed)"
        else printf "ratio_min=%.2f\n", min
        if (sp != "") printf "bf16_speedup_min=%.2f\n", sp
        if (vt != "") printf "bf16_vs_torch_min=%.2f\n", vt
    }'

# The data path (bench/data_path.c): shuffle, fill, flip, DiffAugment of 64x64 RGB on one
# thread, beside the images/s dcgan64 training consumes (its row above, when there is one).
if [ -n "$BENCH_DATA" ]; then
    echo
    if [ ! -x "$BENCH_DATA" ]; then
        failed=1
        echo "bench: $BENCH_DATA missing (make $BENCH_DATA)" >&2
    elif ! OMP_NUM_THREADS=1 "$BENCH_DATA" ${data_consumes:+--consumes "$data_consumes"}; then
        failed=1
        echo "bench: $BENCH_DATA failed" >&2
    fi
fi
exit $failed
