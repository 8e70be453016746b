#!/bin/sh
# mod_reqprof demo: a private httpd (event MPM) on 127.0.0.1:PORT serving a
# small site with the module on, every request profiled.
#
#   sh scripts/demo.sh start PORT    (what `make demo` runs, after the build)
#   sh scripts/demo.sh stop PORT     (what `make demo-stop` runs)
#
# Everything lives in $REQPROF_DEMO_DIR (default /tmp/reqprof-demo, mode
# 0755 so that the www-data children can read the site and write profiles).
# The config and the site come from tests/integration/httpd.py and
# tests/integration/site/, the same ones the integration tests use.
set -eu

cmd=${1:-}
port=${2:-8080}
top=$(cd "$(dirname "$0")/.." && pwd)
demo=${REQPROF_DEMO_DIR:-/tmp/reqprof-demo}
py=${PYTHON:-/usr/bin/python3}
apache=${APACHE2:-/usr/sbin/apache2}
module=$top/.libs/mod_reqprof.so
conf=$demo/conf/httpd.conf
pidfile=$demo/run/httpd.pid
errlog=$demo/logs/error_log
url=http://127.0.0.1:$port

die() { echo "demo: $*" >&2; exit 1; }

# The pid in the PidFile when that process is alive and is our apache2.
demo_pid() {
    [ -f "$pidfile" ] || return 1
    pid=$(cat "$pidfile" 2>/dev/null) || return 1
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    state=$(cut -d' ' -f3 "/proc/$pid/stat" 2>/dev/null) || return 1
    [ "$state" != Z ] || return 1
    tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qF -- "$conf" || return 1
    echo "$pid"
}

conf_port() {
    sed -n 's/^Listen 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$conf" 2>/dev/null | head -n 1
}

stop() {
    if ! pid=$(demo_pid); then
        echo "demo: no demo server running (no live PidFile $pidfile)"
        return 0
    fi
    running_port=$(conf_port)
    [ "$running_port" = "$port" ] ||
        die "the demo server (pid $pid) listens on port $running_port, not $port: make demo-stop DEMO_PORT=$running_port"
    kill -TERM "$pid"
    i=0
    while demo_pid >/dev/null; do
        i=$((i + 1))
        [ $i -le 100 ] || die "apache2 (pid $pid) did not stop within 10 s"
        sleep 0.1
    done
    echo "demo: stopped apache2 (pid $pid) on port $port"
}

request() {   # request PATH [curl options...]
    path=$1; shift
    curl -sS -o /dev/null "$@" \
        -w "  %{http_code}  %{size_download} bytes  %{time_total} s  GET $path\n" "$url$path"
}

start() {
    [ -f "$module" ] || die "$module is missing: run make first"
    command -v curl >/dev/null || die "curl is missing: make deps"
    if pid=$(demo_pid); then
        echo "demo: a demo server is already running (pid $pid); stopping it first"
        port_was=$port; port=$(conf_port); stop; port=$port_was
    fi
    mkdir -p "$demo"
    chmod 0755 "$demo"
    rm -rf "$demo/profiles" "$demo/logs" "$demo/htdocs"   # a fresh run shows only its own
    "$py" "$top/tests/integration/httpd.py" write-config --root "$demo" \
        --port "$port" --mpm event --error-log --demo >/dev/null
    rm -rf "$demo/profiles"                  # the module creates it (0750, www-data)
    "$apache" -f "$conf" -k start || {
        [ -f "$errlog" ] && tail -n 20 "$errlog" >&2
        die "apache2 did not start"
    }
    # Wait for the port with a bare connect: an HTTP probe would be profiled.
    "$py" -c 'import socket, sys, time
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close(); sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)' "$port" || die "nothing answers on $url; see $errlog"
    pid=$(demo_pid) || die "apache2 started but its PidFile $pidfile is not live"
    echo "demo: apache2 (event MPM, pid $pid) serves $demo/htdocs on $url"
    echo "demo: one request of each kind:"
    request /static.txt
    request /                      --compressed
    request /sub/
    request /page.shtml
    request "/cgi-bin/sleep.cgi?0.2"
    request /nope
    sleep 0.5                                # profiles are written after the response
    echo
    echo "demo: the report of GET /cgi-bin/sleep.cgi?0.2 in $errlog:"
    echo
    "$py" "$top/tests/integration/httpd.py" show-report --log "$errlog" \
        --path /cgi-bin/sleep.cgi || true
    echo
    echo "demo: the Server-Timing header of GET /cgi-bin/sleep.cgi?0.1 (a"
    echo "browser's developer tools show it under Timing):"
    curl -sS -o /dev/null -D - "$url/cgi-bin/sleep.cgi?0.1" | grep -i '^server-timing' \
        || echo "  (no Server-Timing header: see $errlog)"
    sleep 0.5
    echo
    echo "demo: the status page answers:"
    curl -sS "$url/reqprof-status?auto" | head -n 4 | sed 's/^/  /'
    echo
    echo "demo: the files of one request in $demo/profiles (each format):"
    base=$(ls -t "$demo/profiles" | grep 'sleep\.cgi.*\.prof$' | head -n 1)
    base=${base%.prof}
    ls -l "$demo/profiles" | grep -F "$base" | sed 's/^/  /'
    p=$demo/profiles/$base
    cat <<EOF

Open them with:
  pstats (python3):  $py -c "import pstats; pstats.Stats('$p.prof').sort_stats('cumulative').print_stats(20)"
                     (pstats.Stats(a, b, ...) adds several files up)
  callgrind:         callgrind_annotate '$p.callgrind'    (Debian: valgrind; or kcachegrind)
  Chrome trace:      load $p.json in https://ui.perfetto.dev or chrome://tracing
                     (or speedscope: npm install -g speedscope; speedscope '$p.json')
  folded stacks:     speedscope '$p.folded'   (or flamegraph.pl from the FlameGraph project)

The status page: time per module and hook, the slowest requests with a
flame view of each (only from this machine: Require local):
  $url/reqprof-status          (HTML; ?json, ?prometheus, ?auto)
Every request you send to $url/ adds files there and a report to $errlog.
Stop the server with: make demo-stop$( [ "$port" = 8080 ] || echo " DEMO_PORT=$port")
EOF
}

case "$cmd" in
    start) start ;;
    stop) stop ;;
    *) echo "usage: $0 start|stop PORT" >&2; exit 2 ;;
esac
