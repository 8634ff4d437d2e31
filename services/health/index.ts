// Health: the one health check of the appliance (used by /healthz, LEDs, console, update agent) and the systemd watchdog.
export { HealthCheck, cachedProbe, publicHealth, type HealthReport, type CheckResult, type HealthProbe, type HealthCheckOptions } from './health-check.js';
export {
  moduleProbe,
  storeWritableProbe,
  diskProbe,
  temperatureProbe,
  throttlingProbe,
  readCpuTemperature,
  readPiThrottling,
  DEFAULT_DISK_LIMITS,
  DEFAULT_TEMPERATURE_LIMITS,
  THROTTLE_BITS,
  type DiskLimits,
  type TemperatureLimits,
  type ThrottleReader,
  type StatFs,
} from './probes.js';
export { SystemdNotifier, type NotifierOptions } from './sd-notify.js';
