#!/usr/bin/env bash
# The "third peer" supervisor: what systemd's Restart=always + RestartSec=1
# would do for tomcat, nginx and keepalived on a real host (the lab has no
# systemd). Health (HTTP) is not its business: in that setup keepalived's own
# vrrp_script tracks tomcat and gives up the VIP (see keepalived.conf when the
# lab runs with agent=peer).
#
#   respawn.sh <hostdir>      (started by: ctl.sh <hostdir> respawn start)
#
# Like systemd it only notices a process that is gone (not a hung one), and
# restarts it with the host's start script. Bounded by RESPAWN_MAX_SECONDS and
# by the host's life.
set -u
hostdir=$1
ctl=$(dirname "$0")/ctl.sh
max=${RESPAWN_MAX_SECONDS:-7200}
restart_sec=${RESPAWN_RESTART_SEC:-1}

while ((SECONDS < max)); do
  for svc in tomcat nginx keepalived; do
    if ! "$ctl" "$hostdir" "$svc" status >/dev/null 2>&1; then
      echo "$(date +%T.%3N) respawn: $svc is not running, starting it"
      if "$ctl" "$hostdir" "$svc" start 2>&1; then
        echo "$(date +%T.%3N) respawn: $svc started"
      else
        echo "$(date +%T.%3N) respawn: $svc start failed"
      fi
    fi
  done
  sleep "$restart_sec"
done
echo "respawn: max duration reached"
