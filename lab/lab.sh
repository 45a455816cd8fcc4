#!/usr/bin/env bash
# Two-host load-balancer lab: hosts A and B (keepalived + nginx + tomcat10 each),
# a bridge, and a client C, all in network namespaces created for this run.
# Nothing touches the root namespace's network. See lab/README.md.
#
#   lab.sh up [--id ID] [--agent none|watchdog|seed|peer] [--owner PID] [--net 10.213.0]
#             [--no-keepalived] [--no-driver]
#             [--order restart-first|handover-first] [--control stop|track-file] [--guard]
#             [--deploy SECONDS] [--profile lab|shipped] [--tomcat-health PATH]
#       Builds a lab, waits until A holds the VIP and answers through it, prints
#       LAB_DIR=/tmp/halab-<id> as its last line. A lab whose owner process (default:
#       the caller of lab.sh) has died is garbage-collected by the next "up" or by "gc".
#       --agent picks what supervises each host once the lab is up: nothing, the
#       ha-watchdog agent, the seed's bash loop, or the "peer" (keepalived
#       vrrp_script checks + lab/host/respawn.sh, systemd's Restart= stand-in,
#       which starts the services itself). --no-driver: generate that
#       configuration but start no supervisor (lab.ts does it itself; the
#       peer's respawn.sh is started anyway: it is the hosts' service manager).
#       --order, --control, --guard: the agent's failover.order, keepalived.control
#       (track-file also gives keepalived.conf a track_file, weight 0, on
#       <hostdir>/run/keepalived.track) and the peer guard (metrics.listen on the
#       host's address :9120, peer.url = the other host's /healthz). Without them
#       the generated configuration is the default lab's, unchanged.
#       --deploy: seconds tomcat's webapp takes to deploy at each start (lab/webapp:
#       the port is bound meanwhile, requests hang; default 0); written to
#       <hostdir>/tomcat/deploy-seconds, read at each start.
#       --profile shipped: watchdog.yaml with only what is host-specific (stateDir,
#       process matching, http.url, commands, keepalived.vip) plus the peer guard;
#       everything else the agent's defaults. Implies --guard and --tomcat-health /health.
#       --tomcat-health: the path every tomcat health check uses (the agent's
#       http.url, the peer's vrrp_script); default / (the page), /health is the
#       webapp's health endpoint (see ctl.sh tomcat fault).
#   lab.sh down <id|dir>              tear one lab down (idempotent; with
#                                     HALAB_KEEP_LOGS=<dir> its logs/configs are copied there first)
#   lab.sh exec <id|dir> <A|B|C|br> <argv...>   run a command inside a host
#   lab.sh ctl <id|dir> <A|B> <service> <action> [args]   = exec ... lab/host/ctl.sh
#   lab.sh status <id|dir>
#   lab.sh run [up options] [-- argv...]
#       up, then run argv with LAB_DIR exported (or, without argv, wait for
#       Ctrl-C, at most LAB_RUN_MAX_SECONDS=3600), then down. Torn down on exit,
#       failure and Ctrl-C.
#   lab.sh gc                         remove labs whose owner process is gone
#   lab.sh list                       list this machine's labs
set -euo pipefail

LAB_SH=$(readlink -f "${BASH_SOURCE[0]}")
LAB_ROOT=$(dirname "$LAB_SH")
REPO=$(dirname "$LAB_ROOT")
CTL=$LAB_ROOT/host/ctl.sh
PREFIX=halab
TMP_ROOT=${HALAB_TMP:-/tmp}

# A closed stdout/stderr (the caller went away) must not kill a teardown half-way.
trap '' PIPE
die() { echo "lab.sh: $*" >&2 || true; exit 1; }
say() { [[ ${LAB_QUIET:-0} == 1 ]] || echo "lab: $*" >&2 || true; }

proc_alive() { # PID exists and is not a zombie
  local st
  st=$(sed -E 's/^.*\) (.).*/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
  [[ -n $st && $st != Z && $st != X ]]
}
proc_start_time() { # starttime (field 22) of a PID, empty if gone
  [[ -r /proc/$1/stat ]] || return 0
  sed -E 's/^.*\) //' "/proc/$1/stat" 2>/dev/null | awk '{print $20}'
}

resolve_dir() { # id or dir -> dir
  local x=$1
  if [[ -d $x && -f $x/lab.env ]]; then readlink -f "$x"; return; fi
  [[ $x =~ ^[0-9a-f]{4,16}$ ]] || die "not a lab id or dir: $x"
  [[ -f $TMP_ROOT/$PREFIX-$x/lab.env ]] || die "no lab $x"
  echo "$TMP_ROOT/$PREFIX-$x"
}

# ---------------------------------------------------------------------------
# teardown
# ---------------------------------------------------------------------------
kill_pids_in_netns() { # ns: SIGKILL every process in that (our) network namespace
  local ns=$1 pids
  ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$ns" || return 0
  pids=$(ip netns pids "$ns" 2>/dev/null || true)
  # shellcheck disable=SC2086
  [[ -z $pids ]] || kill -KILL $pids 2>/dev/null || true
}

down_dir() { # dir
  local dir=$1 h pid i ns
  # Finish the teardown even if the terminal goes away or Ctrl-C is pressed again.
  trap '' HUP INT TERM
  [[ -f $dir/lab.env ]] || { rm -rf "$dir"; return 0; }
  # shellcheck source=/dev/null
  . "$dir/lab.env"
  # 1. Hosts: SIGKILL their PID 1; the kernel then kills the whole pid namespace.
  for h in A B; do
    pid=$(cat "$dir/$h/init.pid" 2>/dev/null || true)
    if [[ -n $pid && -e /proc/$pid && $(readlink "/proc/$pid/ns/pid" 2>/dev/null) == "$(cat "$dir/$h/pidns" 2>/dev/null)" ]]; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
  done
  # 2. Anything else still inside our namespaces (client in C, nsenter children).
  for ns in "$NS_A" "$NS_B" "$NS_C" "$NS_BR"; do kill_pids_in_netns "$ns"; done
  # 3. The unshare parents exit once their child is gone; wait for them (bounded).
  for h in A B; do
    pid=$(cat "$dir/$h/unshare.pid" 2>/dev/null || true)
    [[ -n $pid ]] || continue
    for ((i = 0; i < 50; i++)); do
      if ! proc_alive "$pid" || [[ $(proc_start_time "$pid") != "$(cat "$dir/$h/unshare.start" 2>/dev/null)" ]]; then break; fi
      sleep 0.1
    done
  done
  for ((i = 0; i < 50; i++)); do
    local left=""
    for ns in "$NS_A" "$NS_B" "$NS_C" "$NS_BR"; do
      ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$ns" || continue
      [[ -z $(ip netns pids "$ns" 2>/dev/null) ]] || left+=" $ns"
    done
    [[ -z $left ]] && break
    for ns in $left; do kill_pids_in_netns "$ns"; done
    sleep 0.1
  done
  # 4. Namespaces (veths and the bridge go with them), then files (logs kept
  #    first when HALAB_KEEP_LOGS names a directory).
  if [[ -n ${HALAB_KEEP_LOGS:-} ]]; then
    local keep=$HALAB_KEEP_LOGS/$PREFIX-$LAB_ID
    mkdir -p "$keep"
    (cd "$dir" && find . \( -path '*/logs/*' -o -name '*.jsonl' -o -name '*.conf' -o -name '*.yaml' -o -name '*.env' \) -type f \
      -exec cp --parents {} "$keep/" \;) 2>/dev/null || true
    say "logs kept in $keep"
  fi
  # 4. Namespaces (veths and the bridge go with them), then files.
  for ns in "$NS_A" "$NS_B" "$NS_C" "$NS_BR"; do
    if ip netns list 2>/dev/null | awk '{print $1}' | grep -qx "$ns"; then ip netns del "$ns" 2>/dev/null || true; fi
  done
  rm -rf "$dir"
  say "down: $LAB_ID"
}

gc() { # remove labs whose owner is gone; and our namespaces that lost their dir
  local envf dir owner start ns id
  for envf in "$TMP_ROOT/$PREFIX"-*/lab.env; do
    [[ -f $envf ]] || continue
    dir=$(dirname "$envf")
    owner=$(sed -n 's/^OWNER_PID=//p' "$envf"); start=$(sed -n 's/^OWNER_START=//p' "$envf")
    if [[ -z $owner || $(proc_start_time "$owner") != "$start" ]]; then
      say "gc: lab $(basename "$dir") has lost its owner (pid $owner), removing"
      (LAB_QUIET=1 down_dir "$dir") || true
    fi
  done
  for ns in $(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$PREFIX-[0-9a-f]+-(A|B|C|br)$" || true); do
    id=${ns#"$PREFIX"-}; id=${id%-*}
    if [[ ! -d $TMP_ROOT/$PREFIX-$id ]]; then
      say "gc: namespace $ns has no lab dir, removing"
      kill_pids_in_netns "$ns"; sleep 0.2; ip netns del "$ns" 2>/dev/null || true
    fi
  done
}

# ---------------------------------------------------------------------------
# running commands inside hosts
# ---------------------------------------------------------------------------
in_host() { # dir host argv...
  local dir=$1 h=$2; shift 2
  # shellcheck source=/dev/null
  . "$dir/lab.env"
  case $h in
    A | B) exec_nsenter "$dir/$h" "$@" ;;
    C) ip netns exec "$NS_C" "$@" ;;
    br) ip netns exec "$NS_BR" "$@" ;;
    *) die "unknown host $h (A, B, C, br)" ;;
  esac
}
exec_nsenter() { # hostdir argv...
  local hd=$1 pid; shift
  pid=$(cat "$hd/init.pid")
  nsenter -t "$pid" -n -m -p -u --wd="$hd" -- "$@"
}

# ---------------------------------------------------------------------------
# generated per-host configuration
# ---------------------------------------------------------------------------
gen_host() { # dir host addr priority state agent peer-addr  (+ globals ORDER CONTROL GUARD DEPLOY PROFILE TOMCAT_HEALTH)
  local dir=$1 h=$2 addr=$3 prio=$4 state=$5 agent=$6 peer_addr=$7
  local hd=$dir/$h
  local trackfile=$hd/run/keepalived.track
  mkdir -p "$hd"/{bin,run,logs,fail,state,nginx/temp,keepalived,tomcat/{conf,logs,temp,work,lib,webapps/ROOT/WEB-INF}}
  cat >"$hd/host.env" <<EOF
HOST=$h
LAB_ID=$LAB_ID
HOST_DIR=$hd
REPO=$REPO
NODE=$NODE
AGENT_CLI=$AGENT_CLI
ADDR=$addr
VIP=$VIP
PRIORITY=$prio
EOF
  # Per-host control scripts (what the agent's / seed loop's configs point at).
  local svc act
  for svc in tomcat nginx keepalived; do
    for act in start stop restart kill status; do
      printf '#!/bin/sh\nexec %q %q %q %q "$@"\n' "$CTL" "$hd" "$svc" "$act" >"$hd/bin/$svc-$act"
      chmod 755 "$hd/bin/$svc-$act"
    done
  done

  # --- tomcat: a trimmed CATALINA_BASE ---
  local tb=$hd/tomcat
  cat >"$tb/conf/server.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<!-- halab: no shutdown port (stopped by signal), one HTTP connector, no AJP, no manager. -->
<Server port="-1" shutdown="SHUTDOWN">
  <Service name="Catalina">
    <Connector port="8080" protocol="HTTP/1.1" connectionTimeout="5000" maxThreads="20" />
    <Engine name="Catalina" defaultHost="localhost">
      <Host name="localhost" appBase="webapps" unpackWARs="false" autoDeploy="false" />
    </Engine>
  </Service>
</Server>
EOF
  cat >"$tb/conf/web.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<web-app xmlns="https://jakarta.ee/xml/ns/jakartaee" version="6.0" metadata-complete="true">
  <servlet>
    <servlet-name>default</servlet-name>
    <servlet-class>org.apache.catalina.servlets.DefaultServlet</servlet-class>
    <init-param><param-name>listings</param-name><param-value>false</param-value></init-param>
    <load-on-startup>1</load-on-startup>
  </servlet>
  <servlet-mapping><servlet-name>default</servlet-name><url-pattern>/</url-pattern></servlet-mapping>
  <mime-mapping><extension>txt</extension><mime-type>text/plain</mime-type></mime-mapping>
  <mime-mapping><extension>html</extension><mime-type>text/html</mime-type></mime-mapping>
  <welcome-file-list><welcome-file>index.txt</welcome-file></welcome-file-list>
</web-app>
EOF
  cat >"$tb/conf/context.xml" <<'EOF'
<?xml version="1.0" encoding="UTF-8"?>
<Context>
  <WatchedResource>WEB-INF/web.xml</WatchedResource>
  <Manager pathname="" />
  <JarScanner scanClassPath="false" scanManifest="false" />
</Context>
EOF
  cp /usr/share/tomcat10/etc/catalina.properties "$tb/conf/catalina.properties"
  printf '\n# halab: skip all jar scanning (start-up time)\ntomcat.util.scan.StandardJarScanFilter.jarsToSkip=*.jar\n' >>"$tb/conf/catalina.properties"
  cat >"$tb/conf/logging.properties" <<'EOF'
handlers = java.util.logging.ConsoleHandler
.handlers = java.util.logging.ConsoleHandler
java.util.logging.ConsoleHandler.level = FINE
java.util.logging.ConsoleHandler.formatter = org.apache.juli.OneLineFormatter
java.util.logging.ConsoleHandler.encoding = UTF-8
EOF
  # The webapp (lab/webapp): the page, a deployment of deploy-seconds (read at each
  # start), the run-time faults and /health. Its classes are copied in by up() once
  # build_webapp has compiled them.
  printf 'host=%s\n' "$h" >"$tb/webapps/ROOT/index.txt"
  cp "$LAB_ROOT/webapp/web.xml" "$tb/webapps/ROOT/WEB-INF/web.xml"
  printf '%s\n' "$DEPLOY" >"$tb/deploy-seconds"

  # --- nginx ---
  cat >"$hd/nginx/nginx.conf" <<EOF
# halab host $h
user root;
worker_processes 1;
pid $hd/run/nginx.pid;
error_log $hd/logs/nginx-error.log info;
events { worker_connections 256; }
http {
  access_log $hd/logs/nginx-access.log;
  client_body_temp_path $hd/nginx/temp/body;
  proxy_temp_path $hd/nginx/temp/proxy;
  fastcgi_temp_path $hd/nginx/temp/fastcgi;
  uwsgi_temp_path $hd/nginx/temp/uwsgi;
  scgi_temp_path $hd/nginx/temp/scgi;
  server {
    listen 80 default_server;
    add_header X-Lab-Host $h always;
    location = /nginx-health {
      access_log off;
      default_type text/plain;
      return 200 "nginx=$h ok\n";
    }
    location / {
      proxy_pass http://127.0.0.1:8080;
      proxy_connect_timeout 1s;
      proxy_read_timeout 3s;
      proxy_next_upstream off;
    }
  }
}
EOF

  # --- keepalived ---
  local track="" scripts=""
  if [[ $agent == peer ]]; then
    scripts=$(cat <<EOF
vrrp_script chk_tomcat {
    script "/usr/bin/curl -sf -o /dev/null -m 1 http://127.0.0.1:8080$TOMCAT_HEALTH"
    interval 1
    timeout 2
    fall 2
    rise 2
}
vrrp_script chk_nginx {
    script "/usr/bin/curl -sf -o /dev/null -m 1 http://127.0.0.1/nginx-health"
    interval 1
    timeout 2
    fall 2
    rise 2
}
EOF
)
    track=$'    track_script {\n        chk_tomcat\n        chk_nginx\n    }'
  fi
  if [[ $CONTROL == track-file ]]; then
    # keepalived.control track-file: the agent writes 1 (FAULT: the VIP moves while
    # keepalived keeps running) or 0 into this file. weight 0: any non-zero value is a
    # failure. init_file 0 creates it with 0 when missing (an existing file is kept).
    scripts+=$(printf '\ntrack_file ha_watchdog {\n    file "%s"\n    weight 0\n    init_file 0\n}' "$trackfile")
    track+=$'\n    track_file {\n        ha_watchdog\n    }'
  fi
  cat >"$hd/keepalived/keepalived.conf" <<EOF
# halab host $h (lab $LAB_ID)
global_defs {
    router_id ${PREFIX}_${LAB_ID}_$h
    enable_script_security
    script_user root
}
$scripts
vrrp_instance VI_1 {
    state $state
    interface eth0
    virtual_router_id 51
    priority $prio
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass halab
    }
    virtual_ipaddress {
        $VIP/24 dev eth0
    }
$track
}
EOF

  # --- ha-watchdog agent ---
  if [[ $PROFILE == shipped ]]; then
    # As shipped: only what is specific to this host. interval, probe timeouts and
    # retry delays, fall/rise, restart timeout/grace/attempts and failover.order are
    # the agent's defaults; critical: true is the default too. No keepalived.stop: the
    # shipped file stops keepalived.service as a D-Bus job (~15 ms to systemd's SIGTERM);
    # this lab has no systemd, and the nearest stand-in is the agent's own default,
    # SIGTERM to keepalived's main pid (ctl.sh's stop, a script, took 0.2-1 s to signal
    # on a loaded lab).
    cat >"$hd/watchdog.yaml" <<EOF
# halab host $h (generated by lab/lab.sh, profile shipped: the agent's defaults + the peer guard)
stateDir: $hd/state
services:
  tomcat:
    process: { name: java, args: 'org\.apache\.catalina\.startup\.Bootstrap' }
    http: { url: http://127.0.0.1:8080$TOMCAT_HEALTH }
    restart: { command: [$hd/bin/tomcat-restart] }
  nginx:
    process: { name: nginx }
    http: { url: http://127.0.0.1/nginx-health }
    restart: { command: [$hd/bin/nginx-restart] }
keepalived:
  start: { command: [$hd/bin/keepalived-start] }
  vip: { url: http://$VIP/ }
EOF
  else
  cat >"$hd/watchdog.yaml" <<EOF
# halab host $h (generated by lab/lab.sh)
interval: 1s
stateDir: $hd/state
services:
  tomcat:
    critical: true
    process: { name: java, args: 'org\.apache\.catalina\.startup\.Bootstrap' }
    http: { url: http://127.0.0.1:8080$TOMCAT_HEALTH, timeout: 1s }
    fall: 2
    rise: 2
    restart: { command: [$hd/bin/tomcat-restart], timeout: 60s, grace: 30s, attempts: 1 }
  nginx:
    critical: true
    process: { name: nginx }
    http: { url: http://127.0.0.1/nginx-health, timeout: 1s }
    restart: { command: [$hd/bin/nginx-restart] }
keepalived:
  process: { name: keepalived }
  start: { command: [$hd/bin/keepalived-start] }
  stop:  { command: [$hd/bin/keepalived-stop] }
  # The VIP as the client reaches it: after this host failed over, nothing healthy
  # answering on it for 3 polls logs vip.unserved (no healthy host remains).
  vip: { url: http://$VIP/, timeout: 1s }
EOF
  fi
  # Options of the lab (lab.sh up --control/--order/--guard); none by default.
  if [[ $CONTROL == track-file ]]; then
    cat >>"$hd/watchdog.yaml" <<EOF
  # The VIP moves by keepalived's track_file (keepalived.conf: weight 0), keepalived keeps running.
  control: track-file
  trackFile: $trackfile
EOF
  elif [[ -n $CONTROL ]]; then
    printf '  control: %s\n' "$CONTROL" >>"$hd/watchdog.yaml"
  fi
  if [[ -n $ORDER ]]; then
    printf 'failover: { order: %s }\n' "$ORDER" >>"$hd/watchdog.yaml"
  fi
  if [[ $PROFILE == shipped ]]; then
    # The peer guard as README.md documents it for a pair (its timeout: the default).
    cat >>"$hd/watchdog.yaml" <<EOF
# The peer guard: /healthz on this host's address, the other host's asked before giving up the VIP.
metrics: { listen: '$addr:9120' }
peer: { url: 'http://$peer_addr:9120/healthz' }
EOF
  elif [[ $GUARD == 1 ]]; then
    cat >>"$hd/watchdog.yaml" <<EOF
# The peer guard: /healthz on this host's address, the other host's asked before giving up the VIP.
metrics: { listen: '$addr:9120' }
peer: { url: 'http://$peer_addr:9120/healthz', timeout: 1s }
EOF
  fi
}

# The lab webapp's classes: lab/webapp/halab/*.java compiled with javac against
# tomcat10's servlet API, into outdir/classes. The result is cached in
# lab/webapp/build/<hash of the sources, javac and the API jar>/ (git-ignored), so
# only the first lab after a change pays for javac (about 1 s); a new cache entry is
# built aside and renamed into place, so labs starting at once never see half of one.
build_webapp() { # outdir
  local out=$1 api=/usr/share/tomcat10/lib/servlet-api.jar cache key tmp
  mkdir -p "$out"
  key=$( { cat "$LAB_ROOT"/webapp/halab/*.java; readlink -f /usr/bin/javac; stat -c '%s %Y' "$api"; } | sha256sum | cut -c1-16)
  cache=$LAB_ROOT/webapp/build/$key
  if [[ ! -f $cache/ok ]]; then
    mkdir -p "$LAB_ROOT/webapp/build"
    tmp=$(mktemp -d "$LAB_ROOT/webapp/build/.tmp-XXXXXX")
    if ! /usr/bin/javac --release 17 -encoding UTF-8 -nowarn -cp "$api" \
      -d "$tmp/classes" "$LAB_ROOT"/webapp/halab/*.java >"$out/javac.log" 2>&1; then
      rm -rf "$tmp"
      return 1
    fi
    touch "$tmp/ok"
    mv -T "$tmp" "$cache" 2>/dev/null || rm -rf "$tmp" # another lab got there first
  fi
  cp -r "$cache/classes" "$out/classes"
}

start_host() { # dir host : its PID 1 in fresh pid/mount/uts namespaces inside its netns
  local dir=$1 h=$2 ns upid i kids
  ns=$(sed -n "s/^NS_$h=//p" "$dir/lab.env")
  setsid ip netns exec "$ns" unshare --pid --fork --mount-proc --uts --kill-child -- \
    /bin/bash "$LAB_ROOT/host/init.sh" "$dir/$h" </dev/null >>"$dir/$h/logs/init.log" 2>&1 &
  upid=$!
  echo "$upid" >"$dir/$h/unshare.pid"
  proc_start_time "$upid" >"$dir/$h/unshare.start"
  for ((i = 0; i < 100; i++)); do
    if [[ -f $dir/$h/init.ready ]]; then
      kids=$(cat "/proc/$upid/task/$upid/children" 2>/dev/null || true)
      kids=${kids%% *}
      [[ -n $kids ]] && { echo "$kids" >"$dir/$h/init.pid"; return 0; }
    fi
    sleep 0.05
  done
  die "host $h did not start (see $dir/$h/logs/init.log)"
}

# ---------------------------------------------------------------------------
# up
# ---------------------------------------------------------------------------
up() {
  local id="" agent=none owner=$PPID net=10.213.0 keepalived=1 driver=1 health=""
  ORDER="" CONTROL="" GUARD=0 DEPLOY=0 PROFILE=lab
  while [[ $# -gt 0 ]]; do
    case $1 in
      --id) id=$2; shift 2 ;;
      --agent) agent=$2; shift 2 ;;
      --owner) owner=$2; shift 2 ;;
      --net) net=$2; shift 2 ;;
      --no-keepalived) keepalived=0; shift ;;
      --no-driver) driver=0; shift ;;
      --order) ORDER=$2; shift 2 ;;
      --control) CONTROL=$2; shift 2 ;;
      --guard) GUARD=1; shift ;;
      --deploy) DEPLOY=$2; shift 2 ;;
      --profile) PROFILE=$2; shift 2 ;;
      --tomcat-health) health=$2; shift 2 ;;
      *) die "up: unknown option $1" ;;
    esac
  done
  [[ $agent =~ ^(none|watchdog|seed|peer)$ ]] || die "--agent must be none, watchdog, seed or peer"
  [[ -z $ORDER || $ORDER =~ ^(restart-first|handover-first)$ ]] || die "--order must be restart-first or handover-first"
  [[ -z $CONTROL || $CONTROL =~ ^(stop|track-file)$ ]] || die "--control must be stop or track-file"
  [[ $net =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || die "--net wants the first three octets, e.g. 10.213.0"
  [[ $DEPLOY =~ ^[0-9]{1,3}(\.[0-9]{1,3})?$ ]] || die "--deploy wants seconds, e.g. 20 or 0.5"
  [[ $PROFILE =~ ^(lab|shipped)$ ]] || die "--profile must be lab or shipped"
  # shipped: the peer guard as documented, and tomcat checked on the webapp's /health.
  [[ $PROFILE == shipped ]] && GUARD=1
  TOMCAT_HEALTH=${health:-$([[ $PROFILE == shipped ]] && echo /health || echo /)}
  [[ $TOMCAT_HEALTH =~ ^/[A-Za-z0-9/._-]*$ ]] || die "--tomcat-health wants a path such as /health"
  [[ $(uname -s) == Linux ]] || die "Linux only"
  [[ $(id -u) -eq 0 ]] || die "must run as root"
  "$LAB_ROOT/prereqs.sh" >/dev/null || die "prerequisites missing (lab/prereqs.sh)"
  [[ -r /proc/$owner/stat ]] || die "owner pid $owner not found"
  NODE=${NODE:-$(command -v node || true)}
  # The agent's entry point: the repo's build, or a snapshot of it (bench/lab.ts
  # runs from a copy of dist/ so that a rebuild during a long bench changes nothing).
  AGENT_CLI=${HALAB_AGENT_CLI:-$REPO/dist/cli.js}

  gc

  if [[ -z $id ]]; then id=$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n'); fi
  [[ $id =~ ^[0-9a-f]{4,16}$ ]] || die "--id must be 4-16 lowercase hex digits"
  LAB_ID=$id
  local dir=$TMP_ROOT/$PREFIX-$id
  mkdir -m 755 "$dir" || die "lab $id exists already"
  VIP=$net.10
  local t0=$SECONDS
  local ok=0
  # shellcheck disable=SC2064
  trap "[[ \$ok == 1 ]] || { echo 'lab.sh: up failed, tearing down' >&2 || true; LAB_QUIET=1 down_dir '$dir'; }" EXIT
  trap 'exit 130' INT TERM HUP

  cat >"$dir/lab.env" <<EOF
LAB_ID=$id
LAB_DIR=$dir
REPO=$REPO
AGENT=$agent
ORDER=$ORDER
CONTROL=$CONTROL
GUARD=$GUARD
DEPLOY=$DEPLOY
PROFILE=$PROFILE
TOMCAT_HEALTH=$TOMCAT_HEALTH
OWNER_PID=$owner
OWNER_START=$(proc_start_time "$owner")
NS_BR=$PREFIX-$id-br
NS_A=$PREFIX-$id-A
NS_B=$PREFIX-$id-B
NS_C=$PREFIX-$id-C
NET=$net.0/24
VIP=$VIP
ADDR_A=$net.11
ADDR_B=$net.12
ADDR_C=$net.100
EOF
  # shellcheck source=/dev/null
  . "$dir/lab.env"
  mkdir -p "$dir/C"
  # The webapp's classes, compiled while the network is built (about 1 s).
  local jc
  build_webapp "$dir/webapp" & jc=$!

  # --- network: bridge in its own namespace, one veth per host ---
  local h ns addr
  for ns in "$NS_BR" "$NS_A" "$NS_B" "$NS_C"; do
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
  done
  ip -n "$NS_BR" link add br0 type bridge mcast_snooping 0 stp_state 0
  ip -n "$NS_BR" link set br0 up
  for h in A B C; do
    ns=$(sed -n "s/^NS_$h=//p" "$dir/lab.env"); addr=$(sed -n "s/^ADDR_$h=//p" "$dir/lab.env")
    ip -n "$NS_BR" link add "v$h" type veth peer name eth0 netns "$ns"
    ip -n "$NS_BR" link set "v$h" master br0 up
    ip -n "$ns" addr add "$addr/24" dev eth0
    ip -n "$ns" link set eth0 up
  done

  # --- hosts ---
  gen_host "$dir" A "$ADDR_A" 150 MASTER "$agent" "$ADDR_B"
  gen_host "$dir" B "$ADDR_B" 100 BACKUP "$agent" "$ADDR_A"
  start_host "$dir" A
  start_host "$dir" B
  say "network and hosts up in $((SECONDS - t0))s ($dir)"
  wait "$jc" || die "the lab webapp did not compile (see $dir/webapp/javac.log)"
  for h in A B; do cp -r "$dir/webapp/classes" "$dir/$h/tomcat/webapps/ROOT/WEB-INF/classes"; done

  if [[ $agent == peer ]]; then
    # The peer's services run under respawn.sh, systemd's stand-in: it starts them, as
    # systemd does at boot, so that it is their parent and sees how they end (also
    # with --no-driver: lab.ts's "respawn start" then finds it running).
    local units="tomcat nginx" i
    [[ $keepalived == 1 ]] && units+=" keepalived"
    for h in A B; do RESPAWN_UNITS=$units exec_nsenter "$dir/$h" "$CTL" "$dir/$h" respawn start; done
    for h in A B; do
      for ((i = 0; i < 225; i++)); do # 45 s, as TOMCAT_READY_TIMEOUT
        exec_nsenter "$dir/$h" "$CTL" "$dir/$h" tomcat ready && break
        sleep 0.2
      done
      ((i < 225)) || die "tomcat on $h did not start under respawn (see $dir/$h/logs/respawn.log)"
    done
  else
    # tomcat (slowest) on both hosts in parallel, then nginx and keepalived.
    local pa pb
    exec_nsenter "$dir/A" "$CTL" "$dir/A" tomcat start --wait & pa=$!
    exec_nsenter "$dir/B" "$CTL" "$dir/B" tomcat start --wait & pb=$!
    for h in A B; do exec_nsenter "$dir/$h" "$CTL" "$dir/$h" nginx start; done
    if [[ $keepalived == 1 ]]; then
      for h in A B; do exec_nsenter "$dir/$h" "$CTL" "$dir/$h" keepalived start; done
    fi
    wait "$pa" || die "tomcat on A did not start (see $dir/A/tomcat/logs/catalina.out)"
    wait "$pb" || die "tomcat on B did not start (see $dir/B/tomcat/logs/catalina.out)"
  fi
  say "tomcat answering on A and B after $((SECONDS - t0))s"

  if [[ $keepalived == 1 ]]; then
    # A (priority 150, state MASTER) must hold the VIP and answer through it, seen from C.
    local i body=""
    for ((i = 0; i < 150; i++)); do
      body=$(ip netns exec "$NS_C" curl -s -m 1 "http://$VIP/" 2>/dev/null || true)
      [[ $body == host=A* ]] && ip -n "$NS_A" -4 -o addr show dev eth0 | grep -q " $VIP/" && break
      sleep 0.1
    done
    [[ $body == host=A* ]] || die "VIP $VIP is not served by A (last answer: '$body')"
  fi

  [[ $driver == 1 ]] || agent=configured-only
  case $agent in
    watchdog) for h in A B; do exec_nsenter "$dir/$h" "$CTL" "$dir/$h" agent start; done ;;
    seed) for h in A B; do exec_nsenter "$dir/$h" "$CTL" "$dir/$h" seed start; done ;;
    peer) ;; # respawn.sh started with the services (above)
  esac
  # The owner may have gone while we were building (e.g. a test process killed mid-up).
  [[ $(proc_start_time "$owner") == "$OWNER_START" ]] || die "owner $owner went away during up"
  ok=1
  trap - EXIT INT TERM HUP
  say "up in $((SECONDS - t0))s: A=$ADDR_A B=$ADDR_B C=$ADDR_C VIP=$VIP agent=$agent profile=$PROFILE deploy=${DEPLOY}s"
  echo "LAB_DIR=$dir"
}

status() {
  local dir=$1 h
  # shellcheck source=/dev/null
  . "$dir/lab.env"
  echo "lab $LAB_ID ($dir) agent=${AGENT:-?} VIP=$VIP${ORDER:+ order=$ORDER}${CONTROL:+ control=$CONTROL}$([[ ${GUARD:-0} == 1 ]] && echo " guard") profile=${PROFILE:-lab} deploy=${DEPLOY:-0}s tomcat-health=${TOMCAT_HEALTH:-/}"
  for h in A B; do
    echo "--- host $h: $(ip -n "$(sed -n "s/^NS_$h=//p" "$dir/lab.env")" -4 -o addr show dev eth0 | awk '{print $4}' | tr '\n' ' ')"
    exec_nsenter "$dir/$h" ps -eo pid,ppid,stat,comm,args --width 160 || true
  done
}

run() {
  local upargs=() cmd=()
  while [[ $# -gt 0 ]]; do
    if [[ $1 == -- ]]; then shift; cmd=("$@"); break; fi
    upargs+=("$1"); shift
  done
  local out dir rc=0
  out=$(up --owner $$ "${upargs[@]}") || exit 1
  dir=${out##*LAB_DIR=}
  # shellcheck disable=SC2064
  trap "down_dir '$dir'" EXIT
  trap 'exit 130' INT TERM HUP
  export LAB_DIR=$dir
  if [[ ${#cmd[@]} -gt 0 ]]; then
    "${cmd[@]}" || rc=$?
    exit "$rc"
  fi
  local max=${LAB_RUN_MAX_SECONDS:-3600}
  echo "lab is up: LAB_DIR=$dir. Try: $LAB_SH exec $dir C curl -s http://$(sed -n 's/^VIP=//p' "$dir/lab.env")/" >&2
  echo "Ctrl-C (or ${max}s) tears it down." >&2
  while ((SECONDS < max)); do sleep 1; done
}

usage() { awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$LAB_SH"; }
subcmd=${1:-}
[[ -n $subcmd ]] || { usage; exit 2; }
shift
case $subcmd in
  up) up "$@" ;;
  down) [[ $# -ge 1 ]] || die "down <id|dir>"; d=$1; [[ -d $d ]] || d=$TMP_ROOT/$PREFIX-$d; down_dir "$d" ;;
  exec) d=$(resolve_dir "$1"); h=$2; shift 2; in_host "$d" "$h" "$@" ;;
  ctl) d=$(resolve_dir "$1"); h=$2; shift 2; in_host "$d" "$h" "$CTL" "$d/$h" "$@" ;;
  status) status "$(resolve_dir "$1")" ;;
  run) run "$@" ;;
  gc) gc ;;
  list) for e in "$TMP_ROOT/$PREFIX"-*/lab.env; do [[ -f $e ]] && sed -n 's/^LAB_DIR=//p' "$e"; done; true ;;
  -h | --help | help) usage ;;
  *) die "unknown command $subcmd" ;;
esac
