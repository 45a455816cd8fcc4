// A keepalived.conf like the lab's (host A), with the knobs the tests turn.
export const LAB_LIKE = (opts: { vrid?: number; prio?: number; pass?: string; track?: string } = {}) => `! Configuration File for keepalived
global_defs {
    router_id lb1
    enable_script_security
    script_user root
}
vrrp_script chk_tomcat {
    script "/usr/bin/curl -sf -o /dev/null -m 1 http://127.0.0.1:8080/"
    interval 1
    fall 2
    rise 2
}
track_file ha_watchdog {
    file "/run/ha-watchdog/keepalived.track"
    weight ${opts.track ?? '0'}
    init_file 0
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id ${opts.vrid ?? 51}
    priority ${opts.prio ?? 150}
    advert_int 1
    authentication {
        auth_type PASS
        auth_pass ${opts.pass ?? 'halab'}
    }
    virtual_ipaddress {
        192.168.56.70/24 dev eth0
    }
    track_script {
        chk_tomcat
    }
    track_file {
        ha_watchdog
    }
}
`;
