// One subscription as the notifier sees it (RFC 6665 §4.2): its dialog, its state machine and its expiry timer.
import type { TimerHandle } from '../../shared/index.js';
import type { BindingSource } from '../registrar/index.js';
import type { DialogInfoDetail } from './dialog-info.js';

export type EventPackageName = 'dialog' | 'message-summary';

/**
 * RFC 6665 §4.1.2 subscription states as the notifier keeps them. Relais authorizes at once, so there is no
 * "pending": a subscription is active from its 200 until it terminates (expiry, unsubscribe, failed NOTIFY).
 */
export type SubscriptionState = 'active' | 'terminated';

export type TerminationReason = 'timeout' | 'unsubscribed' | 'noresource' | 'rejected' | 'deactivated';

export class Subscription {
  state: SubscriptionState = 'active';
  /** dialog-info version (RFC 4235 §4.1: increments by one per NOTIFY of this subscription). */
  version = 0;
  /** The dialogs of the last dialog-info NOTIFY (id → detail): one gone since is reported once as terminated. */
  shownDialogs: ReadonlyMap<string, DialogInfoDetail> = new Map();
  localCseq = 0;
  expiresAt: number;
  expiryTimer: TimerHandle | undefined;
  /** A NOTIFY transaction is under way; changes meanwhile are sent once it completes (RFC 6665 §4.2.2). */
  inFlight = false;
  dirty = false;

  constructor(
    readonly key: string,
    readonly event: EventPackageName,
    /** The watched entity: an extension number, a feature code such as *4199900, a mailbox. */
    readonly entity: string,
    /** Extension number of the subscriber (who authenticated). */
    readonly subscriber: string,
    readonly callId: string,
    readonly localTag: string,
    readonly remoteTag: string,
    /** Our URI (the To of the SUBSCRIBE) and theirs (its From), without tags. */
    readonly localUri: string,
    readonly remoteUri: string,
    /** Remote target (Contact of the SUBSCRIBE): the Request-URI of our NOTIFYs. */
    public remoteTarget: string,
    /** Route set from Record-Route (RFC 3261 §12.1.1), in order. */
    readonly routeSet: readonly string[],
    /** Where the SUBSCRIBE came from: NOTIFYs go back there (phones behind NAT). */
    public source: BindingSource,
    expiresAt: number,
  ) {
    this.expiresAt = expiresAt;
  }

  /** Checks the move (STYLE: explicit state machine); terminated is final. */
  transition(to: SubscriptionState): void {
    if (this.state === 'terminated') throw new Error(`subscription ${this.key} is terminated`);
    this.state = to;
  }
}
