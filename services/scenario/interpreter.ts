// The scenario interpreter: runs every call to an inbound number (mode → offline → welcome → scenario) through a CallPort.
import type { Logger } from '../shared/index.js';
import { errorMessage } from '../shared/index.js';
import type { RingMode as CallRingMode, RingTarget } from '../call/index.js';
import type { InboundNumber, Language, LocalisedName, OfflineAction, ScenarioAction, SoundRef, User } from '../directory/index.js';
import { LANGUAGES } from '../directory/index.js';
import type { ConditionEvaluator } from './calendar/index.js';
import type { CallPort, RingOutcome, Utterance } from './call-port.js';
import { actionFields, type PathStep } from './path.js';
import type { QueueGateway } from './queue-gateway.js';
import { confirmCallbackNumber } from './callback-dialog.js';
import type { CallerScreen } from './inbox/index.js';

/** What the interpreter reads; read per call, so a change applies to the next call without a restart. */
export interface ScenarioSource {
  scenarioById(id: number): { name: string; actions: ScenarioAction[] } | undefined;
  scenarioByName(name: string): { name: string; actions: ScenarioAction[] } | undefined;
  userByName(username: string): User | undefined;
  userById(id: number): User | undefined;
  soundName(id: number): string | undefined;
  /** The site language (`fr`, `en`, `es`): prompts and TTS until a set_language. */
  language(): Language;
}

export interface InterpreterDeps {
  source: ScenarioSource;
  conditions: ConditionEvaluator;
  queues: QueueGateway;
  /** Online = an assigned user with a registered phone, not in do-not-disturb. */
  isOnline(userId: number): boolean;
  /** The blocklist: a blocked caller is declined (603) or runs the scenario chosen for it, before anything else. */
  screen?: CallerScreen | undefined;
  logger: Logger;
}

/** The moment conditions are judged at (simulator: the --at time; live: now), and how the call is known. */
export interface RunOptions {
  at: () => Date;
  /** Who counts as online for this run (the simulator's --online); default the deps' live check. */
  isOnline?: ((userId: number) => boolean) | undefined;
}

export interface RunResult {
  path: PathStep[];
  variables: Record<string, string>;
  services: string[];
  language: Language;
}

/** Seed 003: "no user online: ringing" rings the caller for 30 s. */
export const OFFLINE_RINGING_MS = 30_000;
/** docs/site-file.md: call_user rings 20 s unless ring_time says otherwise. */
export const CALL_USER_RING_MS = 20_000;
/** Seed 003: the number's users ring 30 s each (random, longest idle), or together 30 s. */
export const NUMBER_RING_MS = 30_000;
const MAX_GOTOS = 16;

type Flow = 'continue' | 'end';

class Run {
  readonly path: PathStep[] = [];
  readonly variables: Record<string, string> = {};
  readonly services: string[] = [];
  language: Language;
  gotos = 0;

  constructor(
    readonly port: CallPort,
    readonly number: InboundNumber,
    readonly at: () => Date,
    language: Language,
    readonly isOnline: (userId: number) => boolean,
  ) {
    this.language = language;
  }

  step(s: PathStep): PathStep {
    this.path.push(s);
    return s;
  }
}

export class ScenarioInterpreter {
  private readonly log: Logger;

  constructor(private readonly deps: InterpreterDeps) {
    this.log = deps.logger.child({ module: 'scenario' });
  }

  /**
   * Runs one call to `number` in the order of docs/calls.md "Scenario interpreter": (0) a blocked caller, (1) mode, (2) no assigned
   * user online → offline option, (3) welcome sound, (4) the number's scenario, or ringing its assigned users
   * with its ring mode then the offline option when it has none.
   */
  async run(port: CallPort, number: InboundNumber, opts: RunOptions): Promise<RunResult> {
    const r = new Run(port, number, opts.at, this.deps.source.language(), opts.isOnline ?? ((id) => this.deps.isOnline(id)));
    try {
      if (!(await this.screened(r))) await this.runNumber(r);
    } catch (err) {
      this.log.error('scenario failed', { did: number.did, error: errorMessage(err) });
      r.step({ type: 'end', reason: `error: ${errorMessage(err)}` });
      if (!port.gone()) await port.hangup('scenario-error');
    }
    return { path: r.path, variables: r.variables, services: r.services, language: r.language };
  }

  /**
   * A caller on the blocklist (docs/scenarios.md "Blocked callers"): declined with 603 without being answered, or
   * sent to the scenario chosen for it instead of the number's handling. True when the blocklist took the call.
   */
  private async screened(r: Run): Promise<boolean> {
    const verdict = r.port.caller ? this.deps.screen?.screen(r.port.caller) : undefined;
    if (!verdict) return false;
    const scenario = verdict.action === 'scenario' ? this.deps.source.scenarioByName(verdict.scenario) : undefined;
    if (!scenario) {
      r.step({ type: 'blocked', action: 'decline', reason: 'the caller is on the blocklist' });
      await r.port.reject(603, 'Decline');
      return true;
    }
    r.step({ type: 'blocked', action: 'scenario', scenario: scenario.name, reason: 'the caller is on the blocklist' });
    await this.runScenario(r, scenario.name, scenario.actions);
    return true;
  }

  private async runNumber(r: Run): Promise<void> {
    const n = r.number;
    if (n.mode === 'reject') {
      r.step({ type: 'unavailable', action: n.unavailableAction, reason: 'the number does not accept calls' });
      await this.offline(r, n.unavailableAction);
      return;
    }
    if (n.mode === 'forward') {
      const s = r.step({ type: 'forward', to: n.forwardTo ?? '', reason: 'the number forwards all calls' });
      const out = n.forwardTo ? await r.port.transfer(n.forwardTo, NUMBER_RING_MS) : 'failed';
      s.result = out;
      if (out !== 'answered' && !r.port.gone()) await r.port.hangup(`forward-${out}`);
      return;
    }
    const online = n.userIds.filter((id) => r.isOnline(id));
    if (online.length === 0) {
      r.step({ type: 'offline', action: n.offlineAction, reason: 'no assigned user online' });
      await this.offline(r, n.offlineAction);
      return;
    }
    if (n.welcomeSoundId !== null) {
      const sound = this.deps.source.soundName(n.welcomeSoundId);
      if (sound) {
        const s = r.step({ type: 'welcome', sound });
        // Played before ringing as early media: the caller is not answered for a greeting.
        if (!r.port.answered()) await r.port.earlyMedia();
        s.result = await r.port.play([{ sound, language: r.language }]);
        if (r.port.gone()) return this.callerLeft(r);
      }
    }
    const scenario = n.scenarioId !== null ? this.deps.source.scenarioById(n.scenarioId) : undefined;
    if (scenario) {
      await this.runScenario(r, scenario.name, scenario.actions);
      return;
    }
    // No scenario: the generated default — ring the assigned users in the number's ring mode, then the offline option.
    const users = n.userIds.map((id) => this.deps.source.userById(id)?.username ?? String(id));
    const s = r.step({ type: 'ring_users', users, ring_mode: n.ringMode, generated: true });
    s.result = await r.port.ring(
      n.userIds.map((userId): RingTarget => ({ kind: 'user', userId })),
      n.ringMode as CallRingMode,
      NUMBER_RING_MS,
    );
    if (s.result === 'answered') return;
    if (r.port.gone()) return this.callerLeft(r);
    r.step({ type: 'offline', action: n.offlineAction, reason: `nobody answered (${String(s.result)})` });
    await this.offline(r, n.offlineAction);
  }

  /** The six offline options of a number (and its unavailable option when it rejects calls). */
  private async offline(r: Run, a: OfflineAction): Promise<void> {
    const port = r.port;
    switch (a.type) {
      case 'ringing':
        await port.ringingFor(OFFLINE_RINGING_MS);
        if (!port.gone()) await port.reject(480, 'Temporarily Unavailable');
        return;
      case 'busy':
        // 486 only: the caller's phone plays its busy tone; never an answered call that plays one.
        await port.reject(486, 'Busy Here');
        return;
      case 'hangup':
        await port.reject(480, 'Temporarily Unavailable');
        return;
      case 'message':
        if (!(await port.answer())) return this.callerLeft(r);
        await port.play([{ sound: a.sound, language: r.language }]);
        if (!port.gone()) await port.hangup('message-played');
        return;
      case 'voicemail':
        await port.voicemail(undefined, {});
        return;
      case 'forward': {
        const out = await port.transfer(a.to, NUMBER_RING_MS);
        const last = r.path.at(-1);
        if (last) last.result = out;
        if (out !== 'answered' && !port.gone()) await port.hangup(`forward-${out}`);
        return;
      }
    }
  }

  private callerLeft(r: Run): void {
    r.step({ type: 'end', reason: 'the caller hung up' });
  }

  private async runScenario(r: Run, name: string, actions: ScenarioAction[]): Promise<void> {
    r.step({ type: 'scenario', scenario: name });
    const flow = await this.runActions(r, actions);
    if (flow === 'end') return;
    if (r.port.gone()) return this.callerLeft(r);
    r.step({ type: 'end', reason: 'fell off the end of the scenario' });
    this.log.info('scenario fell off the end', { did: r.number.did, scenario: name });
    await r.port.hangup('scenario-end');
  }

  /** Runs actions in order; 'end' when one ended the call (or the caller left). */
  private async runActions(r: Run, actions: ScenarioAction[]): Promise<Flow> {
    for (const a of actions) {
      if (r.port.gone()) {
        this.callerLeft(r);
        return 'end';
      }
      if (a.when && !this.deps.conditions.matches(a.when, r.at())) {
        r.step({ ...actionFields(a), type: a.type, skipped: true, reason: 'condition did not match' });
        continue;
      }
      const flow = await this.runAction(r, a);
      if (flow === 'end') return 'end';
    }
    return 'continue';
  }

  private async runAction(r: Run, a: ScenarioAction): Promise<Flow> {
    const port = r.port;
    const s = r.step({ ...actionFields(a), type: a.type });
    switch (a.type) {
      case 'answer':
        s.result = (await port.answer()) ? 'answered' : 'gone';
        return 'continue';
      case 'set_language':
        r.language = a.language;
        return 'continue';
      case 'play': {
        if (a.early && !port.answered()) await port.earlyMedia();
        else if (!(await port.answer())) return 'continue';
        s.result = await port.play([this.utter(r, a)]);
        return 'continue';
      }
      case 'call_user': {
        const user = this.deps.source.userByName(a.user);
        const out: RingOutcome = user ? await port.ring([{ kind: 'user', userId: user.id }], 'simultaneous', (a.ring_time ?? CALL_USER_RING_MS / 1000) * 1000) : 'unavailable';
        s.result = out;
        return out === 'answered' || out === 'gone' ? 'end' : 'continue';
      }
      case 'transfer': {
        const out = await port.transfer(a.to, (a.ring_time ?? CALL_USER_RING_MS / 1000) * 1000);
        s.result = out;
        return out === 'answered' || out === 'gone' ? 'end' : 'continue';
      }
      case 'distribute': {
        const out = await this.deps.queues.distribute({ queue: a.queue, port, did: r.number.did, variables: { ...r.variables }, services: [...r.services] });
        s.result = out;
        return out === 'closed' && !port.gone() ? 'continue' : 'end';
      }
      case 'callback':
        return this.callback(r, a, s);
      case 'detect_dtmf':
        return this.menu(r, a, s);
      case 'collect_digits': {
        if (!(await port.answer())) return 'continue';
        port.clearDigits();
        if (hasSound(a)) await port.play([this.utter(r, a)], { bargeIn: true });
        const max = a.max_digits ?? 32;
        const digits = await port.readDigits({ max, firstTimeoutMs: (a.timeout ?? 10) * 1000, interDigitMs: (a.timeout ?? 10) * 1000, endKey: '#' });
        s.digits = digits;
        if (digits.length >= (a.min_digits ?? 1) && /^[0-9*]*$/.test(digits)) {
          r.variables[a.variable] = digits;
          s.result = 'collected';
        } else s.result = digits === '' ? 'timeout' : 'invalid';
        return 'continue';
      }
      case 'voicemail':
        await port.voicemail(a.mailbox, { greeting: a.greeting, maxLengthMs: a.max_length !== undefined ? a.max_length * 1000 : undefined });
        s.result = 'ended';
        return 'end';
      case 'goto_scenario': {
        const next = this.deps.source.scenarioByName(a.scenario);
        if (!next || ++r.gotos > MAX_GOTOS) {
          s.result = next ? 'loop' : 'unknown scenario';
          r.step({ type: 'end', reason: next ? `more than ${MAX_GOTOS} goto_scenario` : `scenario ${a.scenario} does not exist` });
          await port.hangup('scenario-error');
          return 'end';
        }
        await this.runScenario(r, next.name, next.actions);
        return 'end';
      }
      case 'hangup':
        await port.hangup('scenario-hangup');
        return 'end';
    }
  }

  /**
   * callback (services/scenario/callback-dialog.ts): the number read back and confirmed (or keyed in when withheld),
   * then offered to the queue; hanging up before confirming is the queue's lost call, not a callback.
   */
  private async callback(r: Run, a: Extract<ScenarioAction, { type: 'callback' }>, s: PathStep): Promise<Flow> {
    const port = r.port;
    const d = await confirmCallbackNumber(port, r.language, r.variables.callback_number ?? port.caller);
    const offer = { queue: a.queue, delayMinutes: a.delay_minutes ?? 0, did: r.number.did, variables: { ...r.variables }, services: [...r.services], port };
    if (d.number !== undefined) s.number = d.number;
    if (d.outcome === 'gone') {
      s.result = 'lost';
      this.deps.queues.offerAbandoned?.({ ...offer, number: port.caller });
      this.callerLeft(r);
      return 'end';
    }
    if (d.outcome === 'unconfirmed') {
      s.result = 'unconfirmed';
      return 'continue';
    }
    if (d.keyedIn) r.variables.callback_number = d.number;
    s.result = await this.deps.queues.callback({ ...offer, variables: { ...r.variables }, number: d.number });
    if (s.result === 'accepted') await port.play([{ prompt: 'we-will-call-you-back', language: r.language }]);
    return 'continue';
  }

  /** detect_dtmf: prompt (barge-in), options announced by TTS, a key per attempt; the option's actions, or no_match. */
  private async menu(r: Run, a: Extract<ScenarioAction, { type: 'detect_dtmf' }>, s: PathStep): Promise<Flow> {
    const port = r.port;
    if (!(await port.answer())) return 'continue';
    const attempts = a.attempts ?? 3;
    const timeoutMs = (a.timeout ?? 5) * 1000;
    const invalid: string[] = [];
    port.clearDigits();
    for (let i = 0; i < attempts && !port.gone(); i++) {
      const items: Utterance[] = [];
      if (hasSound(a)) items.push(this.utter(r, a));
      if (a.announce_options) {
        for (const o of a.options) items.push({ text: announcement(r.language, nameIn(o.name, r.language), o.key), language: r.language });
      }
      if (items.length > 0) await port.play(items, { bargeIn: true });
      const key = await port.readDigits({ max: 1, firstTimeoutMs: timeoutMs });
      const option = a.options.find((o) => o.key === key);
      if (option) {
        const name = nameIn(option.name, r.language);
        s.key = key;
        s.option = name;
        s.result = 'key';
        if (invalid.length > 0) s.invalid = invalid;
        r.services.push(name);
        return this.runActions(r, option.actions);
      }
      if (key !== '') {
        invalid.push(key);
        port.clearDigits();
        if (i + 1 < attempts) await port.play([{ prompt: 'invalid-option', language: r.language }], { bargeIn: true });
      }
    }
    if (invalid.length > 0) s.invalid = invalid;
    if (port.gone()) {
      this.callerLeft(r);
      return 'end';
    }
    s.result = 'no_match';
    if (a.no_match) return this.runActions(r, a.no_match);
    return 'continue';
  }

  private utter(r: Run, ref: SoundRef): Utterance {
    const u: Utterance = { language: r.language };
    if (ref.sound !== undefined) u.sound = ref.sound;
    if (ref.prompt !== undefined) u.prompt = ref.prompt;
    if (ref.text !== undefined) u.text = ref.text;
    return u;
  }
}

function hasSound(ref: SoundRef): boolean {
  return ref.sound !== undefined || ref.prompt !== undefined || ref.text !== undefined;
}

/** A menu option's name in the call's language (the first one given when that language has none). */
export function nameIn(name: LocalisedName, lang: Language): string {
  if (typeof name === 'string') return name;
  return name[lang] ?? LANGUAGES.map((l) => name[l]).find((v) => v !== undefined) ?? '';
}

/** "To reach NAME, press KEY" in the call's language (spoken by TTS). */
export function announcement(lang: Language, name: string, key: string): string {
  const k = key === '*' ? { fr: 'étoile', en: 'star', es: 'asterisco' }[lang] : key === '#' ? { fr: 'dièse', en: 'pound', es: 'almohadilla' }[lang] : key;
  if (lang === 'fr') return `Pour ${name}, tapez ${k}.`;
  if (lang === 'es') return `Para ${name}, pulse ${k}.`;
  return `For ${name}, press ${k}.`;
}
