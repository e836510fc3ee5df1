#!/bin/sh
# The dashboard (ganc serve, ganc train --serve, ganc report) in a real browser and under attack:
#  - ganc report writes one self-contained file (no address outside it, the log and grids inside)
#    that headless Chromium draws: the grid image, a loss chart with as many points as log.jsonl
#    has loss lines, every warning marked;
#  - ganc serve answers only inside the run (traversal, links, other methods, foreign Hosts,
#    oversized requests, many connections, a client that never reads: tests/web_probe.py), never
#    writes into it, stays up and stops cleanly;
#  - ganc train --serve: the page of a live run gets new lines while it trains, and the run
#    trains as fast with hostile clients at the server as with none (the figures are printed);
#  - a build without libmicrohttpd refuses serve and train --serve with one line.
# Screenshots are kept under $(dirname $GANC)/artefacts/. The browser part is skipped, with the
# reason, when Chromium is missing or in the sanitizer build (SAN=1: slow, and it checks the page,
# not ganc's memory); the server part when the build has no server.
# Usage: GANC=path/to/ganc [SAN=1] tests/test_serve.sh
. "$(dirname "$0")/cli_fixture.sh"
PROBE="$PY $(dirname "$0")/web_probe.py"
ART=$(dirname "$GANC")/artefacts
TINY="--data $T/images-idx3-ubyte --model $T/tiny.gan --threads 1"
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}

# Every process started here is killed on the way out, whatever happens.
pids=""
cleanup() {
    for p in $pids; do kill "$p" 2>/dev/null; done
    for p in $pids; do wait "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# bg NAME ganc-args...: ganc in the background (PID), its stderr in $T/NAME.err; waits (up to
# 10 s) for the line with its address and sets PORT from it (empty when none came).
bg() {
    name=$1; shift
    : > "$T/$name.err"
    "$GANC" "$@" 2> "$T/$name.err" &
    PID=$!
    pids="$pids $PID"
    i=0
    while ! grep -q ' on http://' "$T/$name.err" && kill -0 $PID 2>/dev/null && [ $i -lt 100 ]; do
        sleep 0.1; i=$((i + 1))
    done
    PORT=$(sed -n 's|.* on http://.*:\([0-9]*\)/$|\1|p' "$T/$name.err" | head -n 1)
}
# Stops a background ganc with SIGTERM; returns its exit status.
stop() { kill -TERM "$1" 2>/dev/null; wait "$1"; }

# The browser: the DOM after the page's scripts ran (BUDGET ms of virtual time), a screenshot.
BUDGET=8000
dom() { timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --user-data-dir="$T/chromium" \
        --virtual-time-budget=$BUDGET --dump-dom "$1" > "$2" 2> "$T/chromium.err"; }
shot() { timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --user-data-dir="$T/chromium" --hide-scrollbars \
         --virtual-time-budget=$BUDGET --window-size=1280,1600 --screenshot="$2" "$1" > /dev/null 2> "$T/chromium.err"; }
# attr NAME FILE [CONTEXT]: the first value of NAME="..." (after the text CONTEXT when given).
attr() { grep -o "${3:-}[^>]*$1=\"[^\"]*\"" "$2" | head -n 1 | sed "s/.*$1=\"\([^\"]*\)\".*/\1/"; }
browser=""
if [ -z "$CHROMIUM" ]; then echo "test_serve: browser checks skipped: no chromium (apt-get install chromium)"
elif [ "${SAN:-0}" = 1 ]; then echo "test_serve: browser checks skipped in the sanitizer build (they check the page, run in the default build)"
else browser=1; mkdir -p "$ART"; fi

# --- a finished run, with a warning line among its lines ---------------------------------------
$GANC train $TINY --steps 40 --log-every 2 --sample-every 10 --out "$T/run" 2> /dev/null
echo '{"step": 20, "warning": "test: a warning that the curves must mark"}' >> "$T/run/log.jsonl"
losses=$(grep -c '"d_loss"' "$T/run/log.jsonl")
warnings=$(grep -c '"warning"' "$T/run/log.jsonl")
grids=$(ls "$T/run/samples" | grep -c '^step_[0-9]*\.png$')
last_grid=$(ls "$T/run/samples" | grep '^step_[0-9]*\.png$' | sort | tail -n 1 | sed 's/step_0*\([0-9]*\)\.png/\1/')
# what an attacker would aim at: a file beside the run, links out of samples/, odd entries
echo "not for the browser" > "$T/secret.png"
ln -s ../../secret.png "$T/run/samples/link-out.png"
ln -s ../log.jsonl "$T/run/samples/link-log.png"
echo x > "$T/run/samples/.hidden.png"
mkfifo "$T/run/samples/fifo.png"
mkdir "$T/run/samples/dir.png"
snapshot() { (cd "$T/run" && find . -exec ls -ld --time-style=+%s.%N {} + | sort && find . -type f -exec cksum {} + | sort); }
snapshot > "$T/before.txt"
check "the fixture run has 20 loss lines, 4 grids and a warning" "[ $losses = 20 ] && [ $grids = 4 ] && [ $warnings = 1 ]"

# --- ganc report: one file, nothing from outside ----------------------------------------------
check "ganc report writes the page" "$GANC report $T/run -o $T/report.html 2> $T/report.err && grep -q 'wrote $T/report.html (1 run' $T/report.err"
check "... with every grid inside as a data: URI" "[ \$(grep -o 'data:image/png;base64,' $T/report.html | wc -l) = $grids ]"
check "... and no address outside the file (the SVG namespace is a name, not a fetch)" \
    "! grep -o 'https\?://[^\"'\\'' )<]*' $T/report.html | grep -vqx 'http://www.w3.org/2000/svg'"
check "... nor a reference to a file beside it" "! grep -q ' src=\"[^d]' $T/report.html && ! grep -q '<link' $T/report.html"
check "... with the log inside, byte for byte" \
    "$PY -c 'import base64, json, re, sys; d = json.loads(re.search(r\"id=\\\"ganc-report\\\">(.*?)</script>\", open(sys.argv[1]).read(), re.S).group(1)); sys.exit(base64.b64decode(d[\"runs\"][0][\"log\"]) != open(sys.argv[2], \"rb\").read())' $T/report.html $T/run/log.jsonl"
check "--grids 2 keeps two grids" "$GANC report $T/run -o $T/r2.html --grids 2 2>/dev/null && [ \$(grep -o 'data:image/png;base64,' $T/r2.html | wc -l) = 2 ]"
check "two runs side by side in one report" "$GANC report $T/run $T/run -o $T/r3.html 2>/dev/null && [ \$(grep -o '{\"name\": ' $T/r3.html | wc -l) = 2 ]"
mkdir -p "$T/empty"
expect_error "report without -o" "report: -o FILE is required" $GANC report "$T/run"
expect_error "report of no run" "report: which run?" $GANC report -o "$T/x.html"
expect_error "report of a missing directory" "$T/nothere: No such file or directory" $GANC report "$T/nothere" -o "$T/x.html"
expect_error "report of a directory that is not a run" "$T/empty: not a ganc run" $GANC report "$T/empty" -o "$T/x.html"
expect_error "report into a missing directory" "$T/no/dir/r.html: cannot write" $GANC report "$T/run" -o "$T/no/dir/r.html"
expect_error "report --grids -1" "report: --grids needs an integer in [0, 100000], got '-1'" $GANC report "$T/run" -o "$T/x.html" --grids -1
snapshot > "$T/after.txt"
check "ganc report wrote nothing into the run (names, sizes, times, contents)" "cmp -s $T/before.txt $T/after.txt"

if [ -n "$browser" ]; then
    dom "file://$T/report.html" "$T/report.dom"
    check "Chromium: the report's script ran" "[ \"\$(attr data-ready $T/report.dom)\" = 1 ]"
    check "Chromium: the report's loss chart has one point per loss line ($losses)" \
        "[ \"\$(attr data-points $T/report.dom 'data-chart=\"loss\"')\" = $losses ]"
    check "Chromium: the report's grid image is the newest grid, inside the page" \
        "grep -q '<img class=\"grid\"[^>]*src=\"data:image/png;base64,' $T/report.dom && [ \"\$(attr data-step $T/report.dom '<img class=\"grid\"')\" = $last_grid ]"
    check "Chromium: the slider has every grid ($grids)" "[ \"\$(attr data-grids $T/report.dom)\" = $grids ]"
    charts=$(grep -o 'data-chart="[a-z-]*"' "$T/report.dom" | wc -l)
    check "Chromium: the warning is marked on every one of the $charts charts and listed" \
        "[ $charts -ge 4 ] && [ \$(grep -o '<g class=\"warning\" data-step=\"20\"' $T/report.dom | wc -l) = $charts ] && [ \$(grep -o '<li data-step=\"[0-9]*\"' $T/report.dom | wc -l) = $warnings ]"
    check "Chromium: the hyper-parameters and model are shown" "grep -q '<td>lr_g</td>' $T/report.dom && grep -q 'dropout p=0.2' $T/report.dom"
    dom "file://$T/r3.html" "$T/r3.dom"
    check "Chromium: two runs, side by side, and their curves over each other ($losses points, 2 series)" \
        "grep -q 'data-run=\"1\"' $T/r3.dom && grep -q 'data-chart=\"compare-g_loss\" data-points=\"$losses\" data-series=\"2\"' $T/r3.dom"
    # a long log: every point counted, no more drawn than the chart has pixel columns (x2)
    mkdir "$T/long"
    awk 'BEGIN { for (i = 1; i <= 20000; i++) printf "{\"step\": %d, \"d_loss\": %.4f, \"g_loss\": %.4f}\n", i, 1 + sin(i / 50), 1 + cos(i / 70) }' > "$T/long/log.jsonl"
    $GANC report "$T/long" -o "$T/long.html" 2> /dev/null
    dom "file://$T/long.html" "$T/long.dom"
    check "Chromium: a log of 20000 loss lines gives a chart of 20000 points" \
        "[ \"\$(attr data-points $T/long.dom 'data-chart=\"loss\"')\" = 20000 ]"
    vertices=$(grep -o '<path d="[^"]*" class="series"[^>]*data-label="D loss"' "$T/long.dom" | tr -cd 'L' | wc -c)
    check "... drawn with at most 2 vertices per pixel column (564 columns: $vertices)" "[ $vertices -gt 500 ] && [ $vertices -le 1130 ]"
    shot "file://$T/report.html" "$ART/report.png"
    check "Chromium: a screenshot of the report ($ART/report.png)" "[ -s $ART/report.png ] && head -c 8 $ART/report.png | grep -q PNG"
fi

# --- without the server -----------------------------------------------------------------------
if ! $GANC --version | grep -q ' http'; then
    expect_error "serve in a build without the server" "no HTTP server" $GANC serve "$T/run"
    expect_error "train --serve in a build without the server, before making the run" "no HTTP server" \
        $GANC train $TINY --steps 2 --serve --out "$T/bad"
    echo "test_serve: server checks skipped: this build has no HTTP server (MHD=0 or no libmicrohttpd)"
    echo "test_serve: $pass passed, $fail failed"
    [ $fail -eq 0 ]
    exit
fi

# --- bad input --------------------------------------------------------------------------------
expect_error "serve of no run" "serve: which run?" $GANC serve
expect_error "serve of a missing directory" "$T/nothere: No such file or directory" $GANC serve "$T/nothere"
expect_error "serve of a directory that is not a run" "$T/empty: not a ganc run" $GANC serve "$T/empty"
expect_error "serve --port 70000" "serve: --port needs an integer in [0, 65535], got '70000'" $GANC serve "$T/run" --port 70000
expect_error "serve --host that is no address" "--host nowhere.example: not an IPv4 or IPv6 address" $GANC serve "$T/run" --host nowhere.example --port 0
bg busy serve "$T/run" --port 0
busy=$PID
check "serve --port 0 says the port it took" "[ -n '$PORT' ]"
expect_error "serve on a port in use" "cannot listen on 127.0.0.1 port $PORT" $GANC serve "$T/run" --port "$PORT"
expect_error "train --serve on a port in use, before making the run" "cannot listen on 127.0.0.1 port $PORT" \
    $GANC train $TINY --steps 2 --serve "$PORT" --out "$T/bad"
check "serve stops on SIGTERM with status 0" "stop $busy && grep -q 'stopped serving' $T/busy.err"
bg open serve "$T/run" --host 0.0.0.0 --port 0
check "serve --host 0.0.0.0 warns that others see the runs" "grep -q 'warning: serving on 0.0.0.0, not on this machine alone' $T/open.err"
stop $PID

# --- attacks: traversal, links, methods, Host, sizes, floods, a client that never reads --------
bg attacked serve "$T/run" --port 0
server=$PID
# its descriptors and threads before the attacks; after them the same again (Linux's /proc)
nfd() { ls "/proc/$1/fd" 2>/dev/null | wc -l; }
ntask() { ls "/proc/$1/task" 2>/dev/null | wc -l; }
fds=$(nfd $server); tasks=$(ntask $server)
$PROBE security "$PORT" "$T/run" > "$T/security.txt" 2>&1; probe=$?
while read -r verdict what; do
    case $verdict in PASS) ok ;; FAIL) bad "security: $what" ;; *) bad "security: $verdict $what" ;; esac
done < "$T/security.txt"
check "the security probe ran to its end, all passed ($(grep -c '^PASS' "$T/security.txt") checks)" "[ $probe = 0 ]"
check "the server is still up after them" "kill -0 $server && $PROBE get $PORT /api/runs > $T/alive.txt && [ \"\$(head -n 1 $T/alive.txt)\" = 200 ]"
if [ -d "/proc/$server/fd" ]; then
    i=0 # (connections the attackers left are closed once the server sees their end, or time out)
    while [ "$(nfd $server)" != "$fds" ] && [ $i -lt 150 ]; do sleep 0.1; i=$((i + 1)); done
    check "... with as many descriptors open as before them ($fds) and as many threads ($tasks)" \
        "[ \$(nfd $server) = $fds ] && [ \$(ntask $server) = $tasks ]"
fi
if [ -n "$browser" ]; then
    dom "http://127.0.0.1:$PORT/" "$T/serve.dom"
    check "Chromium: ganc serve's loss chart has one point per loss line ($losses)" \
        "[ \"\$(attr data-points $T/serve.dom 'data-chart=\"loss\"')\" = $losses ]"
    check "Chromium: its grid image is the newest grid, from the server" \
        "grep -q '<img class=\"grid\"[^>]*src=\"run/0/samples/step_' $T/serve.dom && [ \"\$(attr data-step $T/serve.dom '<img class=\"grid\"')\" = $last_grid ]"
    check "Chromium: the hyper-parameters and model of its checkpoint" "grep -q '<td>lr_g</td>' $T/serve.dom && grep -q 'dropout p=0.2' $T/serve.dom"
fi
check "serve stops on SIGTERM with status 0" "stop $server"
snapshot > "$T/after.txt"
check "the server wrote nothing into the run (names, sizes, times, contents)" "cmp -s $T/before.txt $T/after.txt"

# --- a log written anew under the page (as ganc train --resume and --on-nan rollback do) is read
# again from its start; one appended to is read on from where the page was
mkdir "$T/relog"
head -n 10 "$T/run/log.jsonl" > "$T/relog/log.jsonl"
bg relog serve "$T/relog" --port 0
relog=$PID
# log FROM ID: the answer's text in $T/got.txt, "status next id reset" in $T/head.txt
log() { $PROBE log "$PORT" "$1" "$2" > "$T/got.txt" 2> "$T/head.txt"; }
field() { awk -v k="$1" '{ print $k }' "$T/head.txt"; }
log 0 0
id1=$(field 3); next1=$(field 2)
check "the log's first answer: all of it, where to go on, which file" \
    "[ \"\$(field 1) \$(field 4)\" = '200 0' ] && cmp -s $T/got.txt $T/relog/log.jsonl && [ $next1 = \$(wc -c < $T/relog/log.jsonl) ]"
sed -n 11,12p "$T/run/log.jsonl" > "$T/more.txt"
cat "$T/more.txt" >> "$T/relog/log.jsonl"
log "$next1" "$id1"
check "appended lines: only they, from where the page was" "[ \"\$(field 4) \$(field 3)\" = '0 $id1' ] && cmp -s $T/got.txt $T/more.txt"
head -n 5 "$T/run/log.jsonl" > "$T/relog/new.jsonl"
for i in 1 2 3 4 5 6; do cat "$T/more.txt" >> "$T/relog/new.jsonl"; done
check "(the new log is longer than the old: its size alone cannot tell)" "[ \$(wc -c < $T/relog/new.jsonl) -gt \$(wc -c < $T/relog/log.jsonl) ]"
mv "$T/relog/new.jsonl" "$T/relog/log.jsonl"
log "$(field 2)" "$id1"
check "a log renamed over the old: read again from its start (reset)" \
    "[ \"\$(field 4)\" = 1 ] && [ \"\$(field 3)\" != '$id1' ] && cmp -s $T/got.txt $T/relog/log.jsonl"
stop $relog

# --- a live run: the page follows it -----------------------------------------------------------
bg live train $TINY --steps 100000 --log-every 10 --sample-every 200 --serve 0 --out "$T/live"
live=$PID
check "train --serve says where its page is" "[ -n '$PORT' ] && grep -q \"the run's dashboard on http://127.0.0.1:$PORT/\" $T/live.err"
if [ -n "$browser" ]; then
    sleep 1 # a first grid
    dom "http://127.0.0.1:$PORT/" "$T/live.dom"
    first=$(attr data-first-steps "$T/live.dom"); now=$(attr data-steps "$T/live.dom"); lines=$(grep -c '"d_loss"' "$T/live/log.jsonl")
    check "Chromium: the live page got new lines while the run trained ($first, then $now of $lines)" \
        "kill -0 $live && [ \"\$(attr data-updates $T/live.dom)\" -ge 2 ] && [ ${first:-0} -gt 0 ] && [ ${now:-0} -gt ${first:-0} ] && [ ${now:-0} -le $lines ]"
    check "Chromium: the live page shows a grid of the run" "grep -q '<img class=\"grid\"[^>]*src=\"run/0/samples/step_' $T/live.dom"
    shot "http://127.0.0.1:$PORT/" "$ART/dashboard.png"
    check "Chromium: a screenshot of the live page ($ART/dashboard.png)" "[ -s $ART/dashboard.png ]"
fi
stop $live; rc=$?
check "the run stops on SIGTERM as without --serve (status 143, a checkpoint)" "[ $rc = 143 ] && grep -q 'stopped at step' $T/live.err"

# --- the run trains as fast with hostile clients at its server as with no server ---------------
# Median milliseconds per step of a run's log (its sec_per_step).
ms() { $PY -c 'import json, statistics, sys; print("%.3f" % (1000 * statistics.median(json.loads(l)["sec_per_step"] for l in open(sys.argv[1]) if "sec_per_step" in l)))' "$1"; }
# (each three times, alternating, and the fastest of the three: the machine's other load comes and
# goes). The attackers start first and wait for the port to open.
SPEED="$TINY --steps $([ "${SAN:-0}" = 1 ] && echo 500 || echo 1000) --log-every 5 --sample-every 100"
for k in 1 2 3; do
    $GANC train $SPEED --out "$T/alone$k" 2> /dev/null
    $GANC train $SPEED --serve 0 --out "$T/quiet$k" 2> /dev/null
    port=$($PROBE port)
    $PROBE hostile "$port" 120 > "$T/hostile$k.txt" 2>&1 &
    attacker=$!
    pids="$pids $attacker"
    $GANC train $SPEED --serve "$port" --out "$T/hostile$k" 2> "$T/hostile$k.err"; rc=$?
    kill -TERM $attacker; wait $attacker
    check "the run under attack finished ($k)" "[ $rc = 0 ]"
    echo "test_serve: run $k under attack: $(cat "$T/hostile$k.txt")"
    check "the attackers got through to its server ($k)" \
        "grep -q 'hostile: [1-9][0-9]* rounds, [1-9][0-9]* connections held, [1-9][0-9]* bytes' $T/hostile$k.txt"
done
fastest() { for k in 1 2 3; do ms "$T/$1$k/log.jsonl"; done | sort -n | head -n 1; }
a=$(fastest alone); q=$(fastest quiet); h=$(fastest hostile)
echo "test_serve: median ms per step (fastest of 3 runs): $a without a server, $q with an idle server, $h with hostile clients"
check "hostile clients slow training by less than half ($h against $q ms per step)" \
    "awk -v h=$h -v q=$q 'BEGIN { exit !(h < 1.5 * q) }'"

echo "test_serve: $pass passed, $fail failed"
[ $fail -eq 0 ]
