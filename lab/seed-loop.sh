#!/bin/bash
# shellcheck disable=SC2006,SC2009,SC2126,SC2086
# The seed document's watchdog loop (section 2.4.6, "keepalived的问题"), kept
# as-is for side-by-side benches against ha-watchdog. Its logic is untouched,
# bugs included (e.g. $A is not re-measured after the restart, and `grep tomcat`
# also counts any other process whose command line mentions tomcat). Only the
# three commands are adapted to the lab host it runs in:
#
#   /usr/local/server/apache-tomcat-6.0.37/bin/startupsss.sh -> $TOMCAT_START
#   killall keepalived                                       -> $KEEPALIVED_KILL
#   service keepalived start                                 -> $KEEPALIVED_START
#
# Run inside a lab host (lab/host/ctl.sh <hostdir> seed start), where ps -ef
# and killall see only that host's processes. Its loop is bounded by the host's
# life (lab.sh down kills the whole pid namespace) and by SEED_LOOP_MAX_SECONDS.
TOMCAT_START=${TOMCAT_START:?TOMCAT_START (the host tomcat start script) is required}
KEEPALIVED_KILL=${KEEPALIVED_KILL:?KEEPALIVED_KILL (the host keepalived kill script) is required}
KEEPALIVED_START=${KEEPALIVED_START:?KEEPALIVED_START (the host keepalived start script) is required}
SEED_LOOP_MAX_SECONDS=${SEED_LOOP_MAX_SECONDS:-7200}

while true;
do
    # lab addition: bound the loop
    if [ "$SECONDS" -ge "$SEED_LOOP_MAX_SECONDS" ]; then echo "seed loop: max duration reached"; exit 0; fi
    A=`ps -ef|grep tomcat |wc -l`
	B=`ps -ef|grep keepalived |wc -l`
	echo $A
	# 如果tomcat挂掉，则重启tomcat，如果启动失败杀死keepalived
	if [ $A -eq 1 ];then
	    echo 'restart tomcat!!!!'
	    "$TOMCAT_START"
	    # 验证tomcat是否重启成功
		if [ $A -eq 1 ];then
			if [ $B -gt 1 ];then
				   echo 'tomcat dead  !!!! kill keepalived'
				   "$KEEPALIVED_KILL"
			fi
		fi
	fi
	# 如果tomcat存活，但keepalived死掉，则尝试启动keepalived
	if [ $A -eq 2 ];then
		if [ $B -eq 1 ];then
			   echo 'tomcat live  !!!! start keepalived'
			   "$KEEPALIVED_START"
		fi
	fi
	sleep 3
done
