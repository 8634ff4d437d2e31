// Publishers of the board (LEDs, button) and of firmware updates on the event bus, with their snapshots (admins).
import type { BoardController } from '../../board/index.js';
import type { HealthCheck } from '../health/index.js';
import type { UpdateAgent } from '../update/index.js';
import type { EventBus } from './event-bus.js';

export function publishBoard(bus: EventBus, board: BoardController): void {
  board.observer.on('led', (led, pattern) => bus.publish('board.led', { led, pattern }));
  board.observer.on('button', (action, heldMs) => bus.publish('board.button', { action, heldMs }));
  board.observer.on('ip-announced', (addresses) => bus.publish('board.button', { action: 'ip-announced', heldMs: 0, addresses }));
  bus.addSnapshotSource({ key: 'board', audience: 'admin', read: () => board.state() });
}

export function publishUpdates(bus: EventBus, agent: UpdateAgent): void {
  const o = agent.observer;
  o.on('update.progress', (phase, percent, message) => bus.publish('update.progress', { phase, percent, message }));
  o.on('update.state', (state) => bus.publish('update.state', { state }));
  o.on('update.installed', (version, slot) => bus.publish('update.state', { state: 'installed', version, slot }));
  o.on('update.failed', (error) => bus.publish('update.state', { state: 'failed', error }));
  o.on('update.confirmed', (version, slot) => bus.publish('update.state', { state: 'confirmed', version, slot }));
  o.on('update.rolled-back', (version, slot, reason) => bus.publish('update.state', { state: 'rolled-back', version, slot, error: { code: 'update.rolled_back', message: reason } }));
  bus.addSnapshotSource({ key: 'update', audience: 'admin', read: () => ({ state: agent.currentState() }) });
}

/**
 * The health check on the console: a `system.alert` when the overall status changes (ok → degraded → down and
 * back), naming the checks that are not ok; the last report is the `healthCheck` snapshot (administrators).
 */
export function publishHealth(bus: EventBus, health: HealthCheck): void {
  let last: string | undefined;
  health.onReport((report) => {
    if (report.status === last) return;
    const first = last === undefined;
    last = report.status;
    if (first && report.status === 'ok') return;
    const failing = Object.entries(report.checks)
      .filter(([, c]) => c.status !== 'ok')
      .map(([, c]) => c.message);
    const level = report.status === 'down' ? 'critical' : report.status === 'degraded' ? 'warning' : 'info';
    bus.publish('system.alert', { level, code: `health.${report.status}`, message: failing.length ? failing.join('; ') : `health: ${report.status}` });
  });
  bus.addSnapshotSource({ key: 'healthCheck', audience: 'admin', read: () => health.latest() ?? null });
}
