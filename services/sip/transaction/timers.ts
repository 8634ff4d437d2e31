// RFC 3261 §17.1.1.1 / Table 4 timer values, overridable for tests and fast networks.

export interface TimerConfig {
  /** RTT estimate (500 ms). */
  T1: number;
  /** Maximum retransmit interval for non-INVITE requests and INVITE responses (4 s). */
  T2: number;
  /** Maximum duration a message will remain in the network (5 s). */
  T4: number;
}

export const DEFAULT_TIMERS: TimerConfig = { T1: 500, T2: 4000, T4: 5000 };
