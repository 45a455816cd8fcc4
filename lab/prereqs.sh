#!/usr/bin/env bash
# Checks (and with --install, installs) what the two-host lab needs.
#
#   lab/prereqs.sh            exit 0 if everything is present, else print the
#                             exact apt-get line and exit 1
#   lab/prereqs.sh --install  apt-get install the missing packages without letting
#                             their postinst start nginx/keepalived/tomcat in the
#                             root namespace (policy-rc.d), then stop by PID any
#                             such process that appeared anyway.
set -euo pipefail

# Debian package -> a file it must provide.
declare -A PROBE=(
  [keepalived]=/usr/sbin/keepalived
  [nginx]=/usr/sbin/nginx
  [tomcat10]=/usr/share/tomcat10/bin/catalina.sh
  [iproute2]=/usr/sbin/ip
  [util-linux]=/usr/bin/unshare
  [procps]=/usr/bin/pgrep
  [psmisc]=/usr/bin/killall
  [curl]=/usr/bin/curl
  [default-jre-headless]=/usr/bin/java
  [default-jdk-headless]=/usr/bin/javac
)
# default-jdk-headless: javac, which builds the lab's webapp (lab/webapp) at lab set-up.
PACKAGES=(keepalived nginx tomcat10 iproute2 util-linux procps psmisc curl default-jre-headless default-jdk-headless)

missing=()
for p in "${PACKAGES[@]}"; do
  [[ -e ${PROBE[$p]} ]] || missing+=("$p")
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "lab prerequisites: all present (${PACKAGES[*]})"
  exit 0
fi

if [[ ${1:-} != --install ]]; then
  echo "lab prerequisites missing: ${missing[*]}" >&2
  echo "install with:  lab/prereqs.sh --install   (or, as root, with a policy-rc.d that exits 101:)" >&2
  echo "  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}" >&2
  exit 1
fi

[[ $(id -u) -eq 0 ]] || { echo "prereqs.sh --install: must run as root" >&2; exit 1; }

# Daemons that a postinst might start in the root namespace (processes of a
# running lab live in other network namespaces and are left alone).
daemon_pids() {
  local pid root_net
  root_net=$(readlink /proc/self/ns/net)
  for pid in $(pgrep -x nginx; pgrep -x keepalived; pgrep -f 'org\.apache\.catalina\.startup\.Bootstrap'); do
    [[ $(readlink "/proc/$pid/ns/net" 2>/dev/null) == "$root_net" ]] && echo "$pid"
  done
  return 0
}
before=$(daemon_pids | sort -u)

policy=/usr/sbin/policy-rc.d
created_policy=0
cleanup() { if [[ $created_policy -eq 1 ]]; then rm -f "$policy"; fi; }
trap cleanup EXIT
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\n# temporary, from ha-watchdog lab/prereqs.sh: no service starts during install\nexit 101\n' >"$policy"
  chmod 755 "$policy"
  created_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"

# Anything that started anyway (e.g. a postinst ignoring policy-rc.d): stop exactly those PIDs.
after=$(daemon_pids | sort -u)
new=$(comm -13 <(echo "$before") <(echo "$after") | grep -v '^$' || true)
if [[ -n $new ]]; then
  echo "stopping daemons started by package install: ${new//$'\n'/ }" >&2
  # shellcheck disable=SC2086
  kill -TERM $new 2>/dev/null || true
  sleep 2
  # shellcheck disable=SC2086
  kill -KILL $new 2>/dev/null || true
fi
echo "lab prerequisites installed: ${missing[*]}"
