// Where the config is when no -c/--config or HA_WATCHDOG_CONFIG says otherwise.
export const DEFAULT_CONFIG_PATH = '/etc/ha-watchdog/watchdog.yaml';
