// The box itself: health sampling for the dashboard (with alerts) and the in-memory log tail.
export { SystemMonitor, type HealthSample, type SystemMonitorOptions } from './system-monitor.js';
export { LogRing } from './log-ring.js';
