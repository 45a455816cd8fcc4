#!/usr/bin/env bash
# PID 1 of one lab host.
#
# Started by lab.sh as
#   ip netns exec <ns> unshare --pid --fork --mount-proc --uts --kill-child -- bash init.sh <hostdir>
# so it runs in the host's network namespace and in fresh pid, mount and UTS
# namespaces. It gives the host a private /run, sets the hostname, records the
# namespace ids (ctl.sh refuses to act outside them), then idles and reaps
# orphans (a killed tomcat is re-parented to PID 1 and must not stay a zombie
# that a process probe could see).
#
# The host ends when this process is SIGKILLed from the root namespace (the
# kernel then kills every process of the pid namespace) or when its parent
# unshare dies (--kill-child).
set -u
hostdir=$1
# shellcheck source=/dev/null
. "$hostdir/host.env"

mount -t tmpfs -o mode=755,size=16m "halab-run-$HOST" /run
mkdir -p /run/lock
hostname "$HOST"
readlink /proc/self/ns/pid >"$hostdir/pidns"
readlink /proc/self/ns/net >"$hostdir/netns"
echo ready >"$hostdir/init.ready"

# PID 1 ignores signals it has no handler for; TERM/INT end the host cleanly.
trap 'exit 0' TERM INT
# Bounded by the host's life: lab.sh down kills us. bash reaps every child,
# adopted orphans included, each time SIGCHLD interrupts the wait.
while :; do
  sleep 3600 &
  wait $!
done
