// POST /api/calls/:id/voicedrop: the agent drops the number's voicedrop message (or a chosen sound) into its call and leaves.
import type Router from '@koa/router';
import { RelaisError } from '../../shared/index.js';
import type { CallModule } from '../../call/index.js';
import type { NumberRepository } from '../../directory/index.js';
import type { SoundLibrary } from '../../media/sounds/index.js';
import type { ApiState, Authenticator } from '../auth.js';
import { readBody, type JsonObject } from '../body.js';

export interface VoicedropDeps {
  auth: Authenticator;
  calls: CallModule;
  numbers: NumberRepository;
  sounds: SoundLibrary;
}

/**
 * Who drops: the authenticated user's extension that is a party of the call (an administrator may name none: the
 * call's extension party is taken). Which sound: `sound` from the body, else the voicedrop message of the number
 * the call presented as caller ID (docs/calls.md "Voicedrop").
 */
export function voicedropRoutes(router: Router<ApiState>, d: VoicedropDeps): void {
  router.post('/calls/:id/voicedrop', d.auth.required(), async (ctx) => {
    const id = ctx.params.id ?? '';
    const raw = await readBody(ctx, 4096);
    let body: JsonObject = {};
    if (raw.length > 0) {
      try {
        const v = JSON.parse(raw.toString('utf8')) as unknown;
        if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
        body = v as JsonObject;
      } catch {
        throw new RelaisError('api.json_invalid', 'the body must be a JSON object like {"sound": "NAME"} (or empty)');
      }
    }
    for (const k of Object.keys(body)) if (k !== 'sound') throw new RelaisError('api.field_unknown', `unknown field "${k}"; expected sound`, { field: k });
    if (body.sound !== undefined && (typeof body.sound !== 'string' || body.sound === '')) throw new RelaisError('api.field_type', 'field "sound" must be a sound name', { field: 'sound' });
    const call = d.calls.calls.get(id);
    if (!call || call.state !== 'answered') throw new RelaisError('call.not_in_progress', `call ${id} is not an answered call in progress`, { status: 404 });
    const user = ctx.state.user!;
    const agent = call.legs.find((l) => l.party.isExtension && (l.party.userId === user.id || (user.role === 'admin' && l.role === 'caller')));
    if (!agent) throw new RelaisError('auth.forbidden', `none of your extensions is in call ${id}`, { status: 403 });
    let name = typeof body.sound === 'string' ? body.sound : undefined;
    if (name === undefined) {
      const number = call.presentedAs !== undefined ? d.numbers.findByDid(call.presentedAs) : undefined;
      const soundId = number ? d.numbers.voicedropSound(number.id) : null;
      const sound = soundId === null ? undefined : d.sounds.list().find((s) => s.id === soundId);
      if (!sound) throw new RelaisError('voicedrop.no_message', `the call's number${number ? ` ${number.did}` : ''} has no voicedrop message: send {"sound": NAME}`, { field: 'sound' });
      name = sound.name;
    }
    if (!d.sounds.get(name)) throw new RelaisError('sound.not_found', `sound "${name}" does not exist`, { field: 'sound', status: 404 });
    const ok = await d.calls.calls.voicedrop(id, agent.party.number, d.sounds.path(name));
    if (!ok) throw new RelaisError('call.not_in_progress', `call ${id} cannot take a voicedrop now`, { status: 409 });
    ctx.body = { call: id, sound: name, by: agent.party.number };
  });
}
