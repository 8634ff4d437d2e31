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
