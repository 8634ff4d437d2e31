// Participants' live state from the registrar and the calls in progress, asked at each decision (never cached, so
// a lost event can never leave an agent stuck busy); changes there wake the engine up.
import type { AgentLiveState } from './queue-engine.js';

export interface LiveAgentSources {
  /** Extension numbers of a user. */
  extensionsOf(userId: number): readonly string[];
  isRegistered(extensionNumber: string): boolean;
  /** Users taking part in a call now (caller or callee), however the call came. */
  usersInCalls(): Iterable<number>;
}

export class LiveAgents implements AgentLiveState {
  constructor(private readonly src: LiveAgentSources) {}

  isRegistered(userId: number): boolean {
    return this.src.extensionsOf(userId).some((n) => this.src.isRegistered(n));
  }

  isInCall(userId: number): boolean {
    for (const u of this.src.usersInCalls()) if (u === userId) return true;
    return false;
  }
}
