// POST /api/sounds/tts: a sound spoken from text in French, English or Spanish (espeak-ng, offline), stored like an upload.
import type Router from '@koa/router';
import { z } from 'zod';
import type { SoundLibrary } from '../../media/sounds/index.js';
import { RelaisError } from '../../shared/index.js';
import type { ApiState, Authenticator } from '../auth.js';
import { queryParams } from '../body.js';
import { readInput } from '../validate.js';
import { MOH_NOTICE, publicSound } from './sounds.js';

const ttsSchema = z.strictObject({
  name: z.string().trim().min(1).max(80),
  text: z.string().trim().min(1, 'nothing to say: the text is empty').max(500),
  language: z.enum(['fr', 'en', 'es']),
  kind: z.enum(['prompt', 'moh']).default('prompt'),
  /** Replace a sound of the same name (default: refuse). */
  replace: z.boolean().default(false),
});

export function ttsRoutes(router: Router<ApiState>, auth: Authenticator, library: SoundLibrary): void {
  const busy = new Set<string>();
  router.post('/sounds/tts', auth.requireRight('sounds'), async (ctx) => {
    queryParams(ctx, []);
    const body = await readInput(ctx, ttsSchema);
    if (busy.has(body.name) || (!body.replace && library.repo.findByName(body.name))) {
      throw new RelaisError('sound.exists', `sound "${body.name}" already exists; choose another name or send "replace": true`, { status: 409, field: 'name' });
    }
    busy.add(body.name);
    try {
      // The speech is cached by text and voice; the library converts and stores its own copy.
      const wav = await library.speech.say(body.language, body.text);
      const sound = await library.import(wav, body.name, body.kind, { originalName: 'text-to-speech.wav', language: body.language });
      ctx.status = 201;
      ctx.body = {
        sound: publicSound(sound),
        ...(body.kind === 'moh' ? { notice: MOH_NOTICE } : {}),
      };
    } finally {
      busy.delete(body.name);
    }
  });
}
