// A module of the running appliance: started in order by the composition root, stopped in reverse.

export type HealthStatus = 'ok' | 'degraded' | 'down';

export interface ModuleHealth {
  status: HealthStatus;
  detail?: Record<string, unknown>;
}

export interface Module {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  health(): ModuleHealth;
}

/** The appliance's status from its modules': down if any is down, else degraded if any is, else ok. */
export function overallStatus(statuses: Iterable<HealthStatus>): HealthStatus {
  let out: HealthStatus = 'ok';
  for (const s of statuses) {
    if (s === 'down') return 'down';
    if (s === 'degraded') out = 'degraded';
  }
  return out;
}
