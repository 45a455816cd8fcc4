#!/usr/bin/env bash
# PID lists are split on purpose (pgrep output, possibly empty):
# shellcheck disable=SC2046,SC2086
# Per-host control of the lab's services. Runs INSIDE a lab host (its network,
# pid and mount namespaces); refuses to run anywhere else, so that the
# pgrep/killall below can only ever see that host's process table.
#
#   ctl.sh <hostdir> <service> <action>
#
#   service     actions
#   tomcat      start [--wait] | stop | restart | kill [SIG] | status | ready
#               fault 500|flap|clear [500|flap]|status | deploy [SECONDS]
#   nginx       start | stop | restart | kill [SIG] | status | ready
#   keepalived  start | stop | restart | kill [SIG] | status
#   agent       start | stop | status      (ha-watchdog: node dist/cli.js run)
#   seed        start | stop | status      (lab/seed-loop.sh, the seed's bash loop)
#   respawn     start | stop | status      (systemd Restart= emulation, for the
#                                            keepalived vrrp_script peer)
#
# "start" of tomcat/nginx/keepalived fails (exit 1) while the switch file
# <hostdir>/fail/<service> exists. Exit codes: 0 ok, 1 failed, 2 usage/refused.
#
# tomcat's run-time faults (the lab webapp, lab/webapp/halab/Faults.java, reads
# them at each request):
#   fault 500    every request to the running JVM(s) answers HTTP 500, the
#                application and /health alike, while that JVM lives: the file
#                fail/tomcat-500 holds its pid, so a restart heals it
#   fault flap   /health alternates 500 / 200 per request (fail/tomcat-health-flap);
#                the application keeps serving
#   fault clear [500|flap]   remove one fault or both; fault status: print them
# tomcat deploy [SECONDS]: how long the webapp's deployment takes at the next
# start (<hostdir>/tomcat/deploy-seconds); without SECONDS, print it.
set -uo pipefail

hostdir=${1:?usage: ctl.sh <hostdir> <service> <action>}
service=${2:?usage: ctl.sh <hostdir> <service> <action>}
action=${3:?usage: ctl.sh <hostdir> <service> <action>}
shift 3

# shellcheck source=/dev/null
. "$hostdir/host.env" || exit 2

# --- refuse to run outside this host's namespaces ---------------------------
if [[ $(readlink /proc/self/ns/pid) != "$(cat "$hostdir/pidns" 2>/dev/null)" ||
      $(readlink /proc/self/ns/net) != "$(cat "$hostdir/netns" 2>/dev/null)" ]]; then
  echo "ctl.sh: refusing to run outside lab host $HOST ($hostdir)" >&2
  exit 2
fi

RUN=$hostdir/run
STOPPED=""
LOGS=$hostdir/logs
FAIL=$hostdir/fail
[[ -d $RUN && -d $LOGS && -d $FAIL ]] || mkdir -p "$RUN" "$LOGS" "$FAIL"

log() { echo "$(date +%T.%3N) ctl[$HOST] $service $action: $*" >>"$LOGS/ctl.log"; echo "$*" >&2; }

# A PID counts as alive unless gone or a zombie.
alive() {
  local pid=$1 state
  [[ -n $pid && -r /proc/$pid/stat ]] || return 1
  state=$(sed -E 's/^.*\) (.).*/\1/' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ -n $state && $state != Z && $state != X ]]
}
pidfile_pid() { [[ -s $1 ]] && head -c 32 "$1" | tr -dc 0-9; }

# Wait (bounded, in 0.1 s steps) until none of the PIDs is alive.
wait_gone() {
  local tenths=$1; shift
  local i pid any
  for ((i = 0; i < tenths; i++)); do
    any=0
    for pid in "$@"; do alive "$pid" && any=1; done
    [[ $any -eq 0 ]] && return 0
    sleep 0.1
  done
  return 1
}

# TERM (+CONT, for a stopped process), wait up to $1 tenths, then KILL.
# Sets STOPPED to the PIDs that were alive.
terminate() {
  local tenths=$1; shift
  local p live=()
  for p in "$@"; do alive "$p" && live+=("$p"); done
  STOPPED=${live[*]}
  set -- "${live[@]}"
  [[ $# -gt 0 ]] || return 0
  kill -TERM "$@" 2>/dev/null
  kill -CONT "$@" 2>/dev/null
  wait_gone "$tenths" "$@" && return 0
  log "still alive after TERM, sending KILL to $*"
  kill -KILL "$@" 2>/dev/null
  wait_gone 50 "$@"
}

check_fail_switch() {
  if [[ -e $FAIL/$1 ]]; then
    log "start refused: fail switch $FAIL/$1 is set"
    exit 1
  fi
}

http_ok() { # url -> 0 if it answers 2xx/3xx within 1 s (only local URLs are used)
  curl -s -o /dev/null -m 1 -w '%{http_code}' "$1" 2>/dev/null | grep -q '^[23]'
}

# --- tomcat ------------------------------------------------------------------
TOMCAT_CLASS='org\.apache\.catalina\.startup\.Bootstrap'
tomcat_pids() { pgrep -f "$TOMCAT_CLASS" || true; }

tomcat_env() {
  export CATALINA_HOME=/usr/share/tomcat10
  export CATALINA_BASE=$hostdir/tomcat
  export CATALINA_PID=$RUN/tomcat.pid
  export CATALINA_TMPDIR=$hostdir/tomcat/temp
  # Small and fast: C1 only, CDS, no perf data file (/tmp/hsperfdata is shared by both hosts).
  export CATALINA_OPTS="-Xms64m -Xmx128m -XX:TieredStopAtLevel=1 -Xshare:auto -XX:+UseSerialGC -XX:-UsePerfData -Djava.security.egd=file:/dev/./urandom -Dlab.host=$HOST"
}

tomcat_wait_ready() { # bounded by TOMCAT_READY_TIMEOUT seconds
  local deadline=$((SECONDS + ${TOMCAT_READY_TIMEOUT:-45})) pid
  pid=$(pidfile_pid "$RUN/tomcat.pid")
  while ((SECONDS < deadline)); do
    if http_ok http://127.0.0.1:8080/; then return 0; fi
    if [[ -n $pid ]] && ! alive "$pid"; then log "tomcat (pid $pid) died while starting"; return 1; fi
    sleep 0.2
  done
  log "tomcat did not answer on :8080 within ${TOMCAT_READY_TIMEOUT:-45}s"
  return 1
}

tomcat_start() {
  check_fail_switch tomcat
  local pid
  pid=$(pidfile_pid "$RUN/tomcat.pid")
  if alive "$pid"; then log "already running (pid $pid)"; else
    rm -f "$RUN/tomcat.pid"
    tomcat_env
    # setsid: its own session, so a Ctrl-C aimed at whoever started it does not reach the JVM.
    setsid "$CATALINA_HOME/bin/catalina.sh" start </dev/null >>"$LOGS/tomcat-start.log" 2>&1 || { log "catalina.sh start failed"; exit 1; }
    log "started (pid $(pidfile_pid "$RUN/tomcat.pid"))"
  fi
  if [[ ${1:-} == --wait ]]; then tomcat_wait_ready || exit 1; fi
  exit 0
}

tomcat_stop() {
  local pids
  pids=$( { pidfile_pid "$RUN/tomcat.pid"; echo; tomcat_pids; } | sort -u | grep . || true)
  # shellcheck disable=SC2086
  terminate "${TOMCAT_STOP_WAIT_TENTHS:-30}" $pids || { log "could not stop tomcat ($STOPPED)"; return 1; }
  rm -f "$RUN/tomcat.pid"
  [[ -n $STOPPED ]] && log "stopped ($STOPPED)"
  return 0
}

# Run-time faults of the lab webapp (see the header).
tomcat_fault() {
  local what=${1:-status} pids tmp
  case $what in
    500)
      pids=$(tomcat_pids | tr '\n' ' ')
      pids=${pids% }
      [[ -n $pids ]] || { log "no tomcat running: nothing to fault"; exit 1; }
      tmp=$FAIL/.tomcat-500.$$
      echo "$pids" >"$tmp" && mv -f "$tmp" "$FAIL/tomcat-500" || exit 1
      log "HTTP 500 fault on tomcat pid(s) $pids (until cleared or restarted)" ;;
    flap)
      echo "set by the lab" >"$FAIL/tomcat-health-flap" || exit 1
      log "health flapping fault on (/health alternates 500/200)" ;;
    clear)
      case ${2:-all} in
        500) rm -f "$FAIL/tomcat-500" ;;
        flap) rm -f "$FAIL/tomcat-health-flap" ;;
        all) rm -f "$FAIL/tomcat-500" "$FAIL/tomcat-health-flap" ;;
        *) echo "ctl.sh: tomcat fault clear [500|flap]" >&2; exit 2 ;;
      esac
      log "fault ${2:-all} cleared" ;;
    status)
      [[ -e $FAIL/tomcat-500 ]] && echo "500 (pids $(head -c 200 "$FAIL/tomcat-500"))"
      [[ -e $FAIL/tomcat-health-flap ]] && echo "flap"
      exit 0 ;;
    *) echo "ctl.sh: tomcat fault 500|flap|clear [500|flap]|status" >&2; exit 2 ;;
  esac
  exit 0
}

tomcat_deploy() {
  local f=$hostdir/tomcat/deploy-seconds
  if [[ $# -eq 0 ]]; then cat "$f" 2>/dev/null || echo 0; exit 0; fi
  [[ $1 =~ ^[0-9]{1,3}(\.[0-9]{1,3})?$ ]] || { echo "ctl.sh: tomcat deploy SECONDS (e.g. 20 or 0.5)" >&2; exit 2; }
  echo "$1" >"$f.tmp" && mv -f "$f.tmp" "$f" || exit 1
  log "deployment time at the next start: $1 s"
  exit 0
}

# --- nginx -------------------------------------------------------------------
NGINX_ARGS=(-c "$hostdir/nginx/nginx.conf" -p "$hostdir/nginx/" -e "$LOGS/nginx-error.log")
nginx_pids() { pgrep -x nginx || true; }
nginx_start() {
  check_fail_switch nginx
  local pid
  pid=$(pidfile_pid "$RUN/nginx.pid")
  if alive "$pid"; then log "already running (pid $pid)"; exit 0; fi
  rm -f "$RUN/nginx.pid"
  /usr/sbin/nginx "${NGINX_ARGS[@]}" </dev/null >>"$LOGS/nginx-start.log" 2>&1 || { log "nginx failed to start"; exit 1; }
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s $RUN/nginx.pid ]] && http_ok http://127.0.0.1/nginx-health && { log "started (pid $(pidfile_pid "$RUN/nginx.pid"))"; exit 0; }
    sleep 0.1
  done
  log "nginx started but /nginx-health does not answer"
  exit 1
}
nginx_stop() {
  local pids
  pids=$( { pidfile_pid "$RUN/nginx.pid"; echo; nginx_pids; } | sort -u | grep . || true)
  # shellcheck disable=SC2086
  terminate 30 $pids || return 1
  rm -f "$RUN/nginx.pid"
  [[ -n $STOPPED ]] && log "stopped ($STOPPED)"
  return 0
}

# --- keepalived --------------------------------------------------------------
keepalived_pids() { pgrep -x keepalived || true; }
keepalived_start() {
  check_fail_switch keepalived
  local pid
  pid=$(pidfile_pid "$RUN/keepalived.pid")
  if alive "$pid"; then log "already running (pid $pid)"; exit 0; fi
  rm -f "$RUN/keepalived.pid" "$RUN/keepalived_vrrp.pid"
  # -n: no fork (we background it ourselves, its output goes to a per-host log),
  # -l -D -G: detailed log on the console instead of syslog (there is none here),
  # -P: VRRP subsystem only. The process name stays "keepalived".
  setsid /usr/sbin/keepalived -n -l -D -G -P \
    -f "$hostdir/keepalived/keepalived.conf" \
    -p "$RUN/keepalived.pid" -r "$RUN/keepalived_vrrp.pid" \
    </dev/null >>"$LOGS/keepalived.log" 2>&1 &
  local i
  for ((i = 0; i < 50; i++)); do
    [[ -s $RUN/keepalived.pid && -s $RUN/keepalived_vrrp.pid ]] && { log "started (pid $(pidfile_pid "$RUN/keepalived.pid"))"; exit 0; }
    alive $! || break
    sleep 0.1
  done
  log "keepalived did not come up (see $LOGS/keepalived.log)"
  exit 1
}
keepalived_stop() {
  local pids main='' comm=''
  # As `systemctl stop` does: TERM to the main pid first (builtins only, no fork: on a
  # loaded lab each fork costs tens of ms, and the peer takes the VIP only once
  # keepalived has sent its priority-0 advert); then the sweep below for the rest.
  read -r main <"$RUN/keepalived.pid" 2>/dev/null
  if [[ $main =~ ^[0-9]+$ ]] && read -r comm <"/proc/$main/comm" 2>/dev/null && [[ $comm == keepalived ]]; then
    kill -TERM "$main" 2>/dev/null
  fi
  pids=$( { pidfile_pid "$RUN/keepalived.pid"; echo; keepalived_pids; } | sort -u | grep . || true)
  # keepalived's parent stops its children and drops the VIP on TERM.
  # shellcheck disable=SC2086
  terminate 50 $pids || return 1
  rm -f "$RUN/keepalived.pid" "$RUN/keepalived_vrrp.pid"
  [[ -n $STOPPED ]] && log "stopped ($STOPPED)"
  return 0
}

# --- long-running drivers: agent / seed loop / respawn -----------------------
# $1 name, rest argv; output to $LOGS/<name>.log (stdout) and <name>.err.
driver_start() {
  local name=$1; shift
  local pid
  pid=$(pidfile_pid "$RUN/$name.pid")
  if alive "$pid"; then log "already running (pid $pid)"; exit 0; fi
  setsid "$@" </dev/null >>"$LOGS/$name.log" 2>>"$LOGS/$name.err" &
  echo $! >"$RUN/$name.pid"
  log "started (pid $!)"
  exit 0
}
driver_stop() {
  local name=$1 pid
  pid=$(pidfile_pid "$RUN/$name.pid")
  terminate 50 $pid || exit 1
  rm -f "$RUN/$name.pid"
  exit 0
}
driver_status() {
  local pid
  pid=$(pidfile_pid "$RUN/$1.pid")
  alive "$pid" && { echo "$1 running (pid $pid)"; exit 0; }
  echo "$1 not running"; exit 1
}

status_of() { # service, pids
  local svc=$1; shift
  if [[ $# -gt 0 ]]; then echo "$svc running ($*)"; exit 0; fi
  echo "$svc not running"; exit 1
}

signal() { # SIG pids...
  local sig=${1#-}; shift
  [[ $# -gt 0 ]] || { log "nothing to signal"; exit 1; }
  kill "-$sig" "$@" || exit 1
  log "sent SIG$sig to $*"
  exit 0
}

case "$service:$action" in
  tomcat:start) tomcat_start "$@" ;;
  tomcat:stop) tomcat_stop; exit $? ;;
  tomcat:restart) tomcat_stop || exit 1; tomcat_start --wait ;;
  tomcat:kill) signal "${1:-KILL}" $(tomcat_pids) ;;
  tomcat:status) status_of tomcat $(tomcat_pids) ;;
  tomcat:ready) http_ok http://127.0.0.1:8080/ ;;
  tomcat:fault) tomcat_fault "$@" ;;
  tomcat:deploy) tomcat_deploy "$@" ;;

  nginx:start) nginx_start ;;
  nginx:stop) nginx_stop; exit $? ;;
  nginx:restart) nginx_stop || exit 1; nginx_start ;;
  nginx:kill) signal "${1:-KILL}" $(nginx_pids) ;;
  nginx:status) status_of nginx $(nginx_pids) ;;
  nginx:ready) http_ok http://127.0.0.1/nginx-health ;;

  keepalived:start) keepalived_start ;;
  keepalived:stop) keepalived_stop; exit $? ;;
  keepalived:restart) keepalived_stop || exit 1; keepalived_start ;;
  # What the seed's loop does: killall (psmisc) only sees this host's /proc.
  keepalived:kill) log "killall -s ${1:-TERM} keepalived"; exec killall -s "${1:-TERM}" keepalived ;;
  keepalived:status) status_of keepalived $(keepalived_pids) ;;

  agent:start)
    cli=${AGENT_CLI:-$REPO/dist/cli.js}
    [[ -f $cli ]] || { log "$cli missing: run 'npm run build' first"; exit 1; }
    driver_start agent "$NODE" "$cli" run -c "$hostdir/watchdog.yaml" ;;
  agent:stop) driver_stop agent ;;
  agent:status) driver_status agent ;;

  seed:start)
    TOMCAT_START=$hostdir/bin/tomcat-start KEEPALIVED_KILL=$hostdir/bin/keepalived-kill \
      KEEPALIVED_START=$hostdir/bin/keepalived-start \
      driver_start seed /bin/bash "$REPO/lab/seed-loop.sh" ;;
  seed:stop) driver_stop seed ;;
  seed:status) driver_status seed ;;

  respawn:start) driver_start respawn /bin/bash "$REPO/lab/host/respawn.sh" "$hostdir" ;;
  respawn:stop) driver_stop respawn ;;
  respawn:status) driver_status respawn ;;

  *) echo "ctl.sh: unknown '$service $action'" >&2; exit 2 ;;
esac
