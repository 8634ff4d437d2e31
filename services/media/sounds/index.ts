// Sounds: the user sound library (import/convert), system prompts per language, offline TTS, call-progress tones, WAV I/O.
export { SoundLibrary, SoundError, sniffAudio, type SoundLibraryOptions, type ImportOptions } from './sound-library.js';
export { PromptLibrary, DEFAULT_PROMPTS_DIR, type PromptName } from './prompts.js';
export { defaultMohFile, generateDefaultMoh, DEFAULT_MOH_NAME } from './default-moh.js';
export { PROMPT_TEXTS, PROMPT_KEYS, MAX_SPOKEN_NUMBER, promptJobs, type PromptKey } from './prompt-texts.js';
export { TextToSpeech, synthesize, checkLanguage, LANGUAGES, VOICES, type Language } from './tts.js';
export { ToneGenerator, toneSpec, toneSamples, toneWav, dtmfSamples, cycleMs, TONES, BEEP, BEEP_MS, TONE_COUNTRIES, type ToneSpec } from './tones.js';
export {
  parseWav,
  readPcm16Mono,
  writeWav,
  wavHeader,
  telephoneFormatProblems,
  WavError,
  WAVE_FORMAT_PCM,
  WAVE_FORMAT_IEEE_FLOAT,
  WAVE_FORMAT_ALAW,
  WAVE_FORMAT_MULAW,
  WAVE_FORMAT_EXTENSIBLE,
  type WavInfo,
  type WavFormat,
} from './wav.js';
export { finishInterruptedWav } from './wav-repair.js';
export { runTool, ToolError, convertTo8kMonoWav } from './audio-convert.js';
