#!/usr/bin/env bash
# systemd's stand-in for the "peer" supervisor (keepalived's vrrp_script checks
# give up the VIP; this restarts what died, as systemd's Restart= would; the lab
# has no systemd). One loop per unit, the parent of the unit's main process, so
# it sees how that process ended (its wait status), as systemd does:
#
#   unit        Restart=     restarted when the main process ...
#   tomcat      on-abort     was killed by an unclean signal (Debian's tomcat10.service)
#   nginx       on-failure   exited non-zero, or was killed by an unclean signal
#   keepalived  on-failure   (the same)
#
# Clean signals are SIGHUP, SIGINT, SIGTERM, SIGPIPE (systemd.service(5)): a JVM
# stopped by TERM (exit 143, tomcat10's SuccessExitStatus) is not restarted.
# Then, systemd's defaults: RestartSec=100ms; StartLimitIntervalSec=10s with
# StartLimitBurst=5: a 6th start within 10 s is refused and the unit given up.
# A unit that is not restarted stays dead: nothing starts it again, so a later
# repair brings nothing back; and a hung process (SIGSTOP) is never noticed.
#
# A start is the unit's ExecStart: the service in the foreground, in its own
# session (its process group stands in for the unit's cgroup). While the lab's
# fail switch <hostdir>/fail/<unit> exists it exits 1 at once: a failed start,
# which on-abort does not restart and on-failure does (until the limit). When
# the main process has ended, what is left of the unit (keepalived's VRRP child,
# nginx's workers) gets SIGTERM, then SIGKILL after 5 s (KillMode=control-group).
#
#   respawn.sh <hostdir>   (ctl.sh <hostdir> respawn start; `lab.sh up --agent peer`
#                           starts it *instead of* starting the services, as at boot)
# Env: RESPAWN_UNITS (default "tomcat nginx keepalived"), RESPAWN_RESTART_SEC (0.1),
# RESPAWN_MAX_SECONDS (7200). A unit already running when this starts is left
# alone (not its child: it could not see how it ends). Stopping this script
# leaves the services running. Log: <hostdir>/logs/respawn.log.
#
# bash reports "killed by signal N" as status 128+N, the same as exit code
# 128+N: none of these daemons exits with such a code by itself, except the
# JVM's 143 after SIGTERM (clean either way).
set -u
hostdir=$1
# shellcheck source=/dev/null
. "$hostdir/host.env"
ctl=$(dirname "$0")/ctl.sh
units=${RESPAWN_UNITS:-tomcat nginx keepalived}
restart_sec=${RESPAWN_RESTART_SEC:-0.1}
max=${RESPAWN_MAX_SECONDS:-7200}
declare -A RESTART=([tomcat]=on-abort [nginx]=on-failure [keepalived]=on-failure)

say() { echo "$(date +%T.%3N) respawn[$HOST] $*"; }

# ExecStart=, run in a subshell that becomes the service (exec, and setsid does not
# fork here): its pid is the main pid and the id of the unit's process group.
exec_start() {
  if [[ -e $hostdir/fail/$1 ]]; then echo "$1: start refused: fail switch set" >&2; exit 1; fi
  case $1 in
    tomcat) # the environment of ctl.sh's tomcat_env; `catalina.sh run` execs the JVM
      export CATALINA_HOME=/usr/share/tomcat10 CATALINA_BASE=$hostdir/tomcat CATALINA_TMPDIR=$hostdir/tomcat/temp
      export CATALINA_OPTS="-Xms64m -Xmx128m -XX:TieredStopAtLevel=1 -Xshare:auto -XX:+UseSerialGC -XX:-UsePerfData -Djava.security.egd=file:/dev/./urandom -Dlab.host=$HOST"
      echo "$BASHPID" >"$hostdir/run/tomcat.pid"
      exec setsid "$CATALINA_HOME/bin/catalina.sh" run >>"$hostdir/tomcat/logs/catalina.out" 2>&1 ;;
    nginx)
      exec setsid /usr/sbin/nginx -c "$hostdir/nginx/nginx.conf" -p "$hostdir/nginx/" -e "$hostdir/logs/nginx-error.log" \
        -g 'daemon off;' >>"$hostdir/logs/nginx-start.log" 2>&1 ;;
    keepalived)
      exec setsid /usr/sbin/keepalived -n -l -D -G -P -f "$hostdir/keepalived/keepalived.conf" \
        -p "$hostdir/run/keepalived.pid" -r "$hostdir/run/keepalived_vrrp.pid" >>"$hostdir/logs/keepalived.log" 2>&1 ;;
  esac
  exit 2
}

# Does Restart=$1 restart after wait status $2?
wants_restart() {
  local sig=$(($2 > 128 ? $2 - 128 : 0))
  case $sig in 1 | 2 | 13 | 15) return 1 ;; esac # clean signals
  case $1 in
    on-abort) ((sig > 0)) ;;
    on-failure) (($2 != 0)) ;;
    *) return 1 ;;
  esac
}

# KillMode=control-group: the rest of the unit (process group $1) goes when its main process has.
stop_rest() {
  local i
  kill -TERM -- "-$1" 2>/dev/null || return 0
  for ((i = 0; i < 50; i++)); do pgrep -g "$1" >/dev/null || return 0; sleep 0.1; done
  kill -KILL -- "-$1" 2>/dev/null
}

ended() { if (($1 > 128)); then echo "killed by SIG$(kill -l $(($1 - 128)))"; else echo "exited with code $1"; fi; }

# One unit: start, wait for the main process, restart or give up.
unit() {
  local u=$1 policy=${RESTART[$1]} starts=() recent t now pid st
  while :; do
    now=${EPOCHREALTIME/./} # µs
    recent=()
    for t in "${starts[@]}"; do ((now - t < 10000000)) && recent+=("$t"); done
    starts=("${recent[@]}" "$now")
    if ((${#starts[@]} > 5)); then
      say "$u: start request repeated too quickly (5 starts within 10 s): failed, not started again"
      return
    fi
    exec_start "$u" </dev/null &
    pid=$!
    say "$u: started (main pid $pid)"
    wait "$pid"
    st=$?
    stop_rest "$pid"
    if ! wants_restart "$policy" "$st"; then
      say "$u: main process $(ended "$st"); Restart=$policy: not restarted, $u stays down"
      return
    fi
    say "$u: main process $(ended "$st"); Restart=$policy: restarting in ${restart_sec}s"
    sleep "$restart_sec"
  done
}

# Stopping this script stops the unit loops, not the services.
trap 'kill $(jobs -p) 2>/dev/null; exit 0' TERM INT
for u in $units; do
  if "$ctl" "$hostdir" "$u" status >/dev/null 2>&1; then
    say "$u: already running (not started here): not supervised"
  else
    unit "$u" &
  fi
done
sleep "$max" &
wait
