// The first check of a call coming in from a trunk (docs/product.md §7, docs/scenarios.md "Blocked callers"): a blocked caller is
// refused with 603 Decline, never answered, before any call state exists; one sent to a chosen scenario goes on to call
// control, whose interpreter runs that scenario. A SIP middleware placed before call control.
import type { IncomingRequest, ServerResponse, NextFunction, InboundMatch } from '../../sip/index.js';
import type { Logger } from '../../shared/index.js';
import type { CallerScreen } from './blocklist.js';

export interface ScreenMiddlewareOptions {
  screen: CallerScreen;
  /** Which trunk (and number) an INVITE came in on; undefined for phones (never screened). */
  matchInbound: (req: IncomingRequest) => InboundMatch | undefined;
  logger: Logger;
  /**
   * Whether the call path runs a blocked caller's chosen scenario itself (the interpreter asks the screen at its
   * entry). When it does not (no interpreter), every blocked caller is declined: blocked stays blocked.
   */
  scenarioRunsVerdict?: () => boolean;
}

export function callerScreenMiddleware(opts: ScreenMiddlewareOptions): (req: IncomingRequest, res: ServerResponse, next: NextFunction) => void {
  return (req, res, next) => {
    // Only new calls: re-INVITEs carry a To tag.
    if (req.msg.to().tag !== undefined) return next();
    const trunk = opts.matchInbound(req);
    if (!trunk) return next();
    const caller = req.msg.from().uri.user ?? '';
    const verdict = caller ? opts.screen.screen(caller) : undefined;
    if (!verdict || (verdict.action === 'scenario' && opts.scenarioRunsVerdict?.())) return next();
    opts.logger.info('blocked caller declined', { caller, trunk: trunk.trunkName, dialled: trunk.dialled, entry: verdict.entry.id });
    res.send(603, 'Decline');
  };
}
