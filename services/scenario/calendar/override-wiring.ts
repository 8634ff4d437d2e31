// Puts *60-*63 on call control's feature-code registry: the phone's call is answered, hears the new mode, and ends.
// Kept out of the calendar's index: the calendar itself is pure and imported by the directory; this glue needs calls.
import { applyLateAnswer, type CallSipHost, type FeatureCall, type FeatureCodes } from '../../call/index.js';
import { errorMessage, type Logger } from '../../shared/index.js';
import type { OverrideMode } from './condition.js';
import { OVERRIDE_CODES, overrideFeatureHandler } from './override-codes.js';
import type { SiteCalendar } from './site-calendar.js';

export interface OverrideCodesOptions {
  features: FeatureCodes;
  sip: Pick<CallSipHost, 'createUas'>;
  calendar: SiteCalendar;
  mayOverride: (userId: number | null) => boolean;
  /** The prompt file of a key in the site's language, undefined when missing. */
  prompt: (key: `override-${OverrideMode}`) => string | undefined;
  logger: Logger;
}

const DESCRIPTIONS: Record<OverrideMode, string> = {
  day: 'calendar: day mode (office open) until switched back',
  night: 'calendar: night mode (office closed) until switched back',
  holiday: 'calendar: holiday mode until switched back',
  auto: 'calendar: back to the automatic calendar (time of day, holidays)',
};

/** Registers the codes; returns a function that releases them. */
export function registerOverrideCodes(opts: OverrideCodesOptions): () => void {
  const handler = overrideFeatureHandler({
    calendar: opts.calendar,
    mayOverride: opts.mayOverride,
    refuse: (f, status, reason) => (f as FeatureCall).res.send(status, reason),
    answer: async (call) => {
      const f = call as FeatureCall;
      try {
        const dialog = await opts.sip.createUas(f.req, f.res, { localSdp: f.callerEndpoint.localSdp });
        const leg = f.call.legs[0];
        if (leg) leg.dialog = dialog;
        if (f.req.msg.body.length === 0) await applyLateAnswer(f.callerEndpoint, dialog);
        return true;
      } catch (err) {
        opts.logger.info('override code: the caller hung up before the answer', { code: f.code, error: errorMessage(err) });
        return false;
      }
    },
    confirmation: (mode) => opts.prompt(`override-${mode}`),
  });
  const releases = Object.entries(OVERRIDE_CODES).map(([code, mode]) =>
    opts.features.register(code, (f) => handler(f), DESCRIPTIONS[mode]),
  );
  return () => releases.forEach((r) => r());
}
