// The system prompt texts in French, English and Spanish, spoken by espeak-ng at build time (scripts/build-prompts).
import type { Language } from './tts.js';

/**
 * Keys are file names (dist/prompts/<lang>/<key>.wav). Numbers 0-99 are generated separately as
 * `number-<n>` (espeak-ng reads "75" as "soixante-quinze", "seventy-five", "setenta y cinco").
 */
export const PROMPT_TEXTS = {
  welcome: { fr: 'Bonjour et bienvenue.', en: 'Hello, and welcome.', es: 'Hola, y bienvenido.' },
  'thank-you-for-calling': { fr: 'Merci de votre appel.', en: 'Thank you for calling.', es: 'Gracias por su llamada.' },
  'you-are-caller-number': { fr: 'Vous êtes le correspondant numéro', en: 'You are caller number', es: 'Usted es el llamante número' },
  'please-hold': { fr: 'Veuillez patienter, nous allons donner suite à votre appel.', en: 'Please hold, your call will be answered shortly.', es: 'Por favor, espere. Su llamada será atendida en breve.' },
  'all-agents-busy': { fr: 'Tous nos conseillers sont actuellement en ligne.', en: 'All our agents are busy at the moment.', es: 'Todos nuestros agentes están ocupados en este momento.' },
  'leave-message-after-tone': { fr: 'Laissez votre message après le bip sonore.', en: 'Please leave a message after the tone.', es: 'Deje su mensaje después de la señal.' },
  'thank-you-goodbye': { fr: 'Merci, au revoir.', en: 'Thank you, goodbye.', es: 'Gracias, adiós.' },
  goodbye: { fr: 'Au revoir.', en: 'Goodbye.', es: 'Adiós.' },
  press: { fr: 'tapez', en: 'press', es: 'pulse' },
  for: { fr: 'pour', en: 'for', es: 'para' },
  'to-reach': { fr: 'Pour joindre', en: 'To reach', es: 'Para hablar con' },
  or: { fr: 'ou', en: 'or', es: 'o' },
  star: { fr: 'étoile', en: 'star', es: 'asterisco' },
  hash: { fr: 'dièse', en: 'hash', es: 'almohadilla' },
  'confirm-or-reenter': { fr: 'Pour confirmer, tapez 1. Pour saisir un autre numéro, tapez 2.', en: 'To confirm, press 1. To enter another number, press 2.', es: 'Para confirmar, pulse 1. Para introducir otro número, pulse 2.' },
  'enter-phone-number': { fr: 'Veuillez composer votre numéro de téléphone, suivi de la touche dièse.', en: 'Please key in your phone number, followed by the hash key.', es: 'Por favor, marque su número de teléfono, seguido de la tecla almohadilla.' },
  'your-number-is': { fr: 'Votre numéro est le', en: 'Your number is', es: 'Su número es el' },
  'we-will-call-you-back': { fr: 'Nous vous rappellerons dès que possible.', en: 'We will call you back as soon as possible.', es: 'Le devolveremos la llamada lo antes posible.' },
  'callback-offer': { fr: 'Pour être rappelé sans perdre votre place, tapez 1.', en: 'To be called back without losing your place, press 1.', es: 'Para que le devolvamos la llamada sin perder su turno, pulse 1.' },
  'language-menu': { fr: 'Pour le français, tapez 1. Pour l’anglais, tapez 2.', en: 'For French, press 1. For English, press 2.', es: 'Para francés, pulse 1. Para inglés, pulse 2.' },
  'for-this-language-press': { fr: 'Pour le français, tapez', en: 'For English, press', es: 'Para español, pulse' },
  'choose-service': { fr: 'Veuillez choisir un service.', en: 'Please choose a service.', es: 'Por favor, elija un servicio.' },
  'choose-category': { fr: 'Veuillez choisir une catégorie.', en: 'Please choose a category.', es: 'Por favor, elija una categoría.' },
  'invalid-option': { fr: 'Choix non valide.', en: 'Invalid option.', es: 'Opción no válida.' },
  'no-input': { fr: 'Nous n’avons pas reçu votre choix.', en: 'We did not receive your choice.', es: 'No hemos recibido su elección.' },
  'number-not-available': { fr: 'Le numéro que vous avez demandé n’est pas disponible.', en: 'The number you dialled is not available.', es: 'El número que ha marcado no está disponible.' },
  'number-busy': { fr: 'Votre correspondant est en ligne.', en: 'The person you are calling is busy.', es: 'La persona a la que llama está ocupada.' },
  'no-answer': { fr: 'Votre correspondant ne répond pas.', en: 'There is no answer.', es: 'No hay respuesta.' },
  closed: { fr: 'Nos bureaux sont actuellement fermés.', en: 'Our offices are currently closed.', es: 'Nuestras oficinas están cerradas en este momento.' },
  'transferring': { fr: 'Nous transférons votre appel.', en: 'Transferring your call.', es: 'Transferimos su llamada.' },
  'call-recorded': { fr: 'Cet appel peut être enregistré.', en: 'This call may be recorded.', es: 'Esta llamada puede ser grabada.' },
  // Voicemail
  'you-have': { fr: 'Vous avez', en: 'You have', es: 'Tiene' },
  'new-message': { fr: 'nouveau message.', en: 'new message.', es: 'mensaje nuevo.' },
  'new-messages': { fr: 'nouveaux messages.', en: 'new messages.', es: 'mensajes nuevos.' },
  'no-new-messages': { fr: 'Vous n’avez pas de nouveau message.', en: 'You have no new messages.', es: 'No tiene mensajes nuevos.' },
  'saved-messages': { fr: 'messages enregistrés.', en: 'saved messages.', es: 'mensajes guardados.' },
  message: { fr: 'Message', en: 'Message', es: 'Mensaje' },
  'enter-pin': { fr: 'Veuillez composer votre code, suivi de la touche dièse.', en: 'Please enter your PIN, followed by the hash key.', es: 'Por favor, marque su código, seguido de la tecla almohadilla.' },
  'invalid-pin': { fr: 'Code incorrect.', en: 'Incorrect PIN.', es: 'Código incorrecto.' },
  'voicemail-menu': { fr: 'Pour réécouter, tapez 1. Pour supprimer, tapez 7. Pour conserver, tapez 9. Message suivant, tapez 6.', en: 'To replay, press 1. To delete, press 7. To save, press 9. For the next message, press 6.', es: 'Para volver a escuchar, pulse 1. Para borrar, pulse 7. Para guardar, pulse 9. Para el siguiente mensaje, pulse 6.' },
  'message-deleted': { fr: 'Message supprimé.', en: 'Message deleted.', es: 'Mensaje borrado.' },
  'message-saved': { fr: 'Message conservé.', en: 'Message saved.', es: 'Mensaje guardado.' },
  'message-recorded': { fr: 'Votre message a été enregistré.', en: 'Your message has been recorded.', es: 'Su mensaje ha sido grabado.' },
  'no-more-messages': { fr: 'Il n’y a plus de message.', en: 'There are no more messages.', es: 'No hay más mensajes.' },
  'mailbox-unavailable': { fr: 'La messagerie n’est pas disponible.', en: 'The mailbox is not available.', es: 'El buzón de voz no está disponible.' },
  // Queue agent feature codes
  'logged-in': { fr: 'Vous êtes connecté à la file.', en: 'You are logged in to the queue.', es: 'Ha iniciado sesión en la cola.' },
  'logged-out': { fr: 'Vous êtes déconnecté de la file.', en: 'You are logged out of the queue.', es: 'Ha cerrado sesión en la cola.' },
  'agent-paused': { fr: 'Vous êtes en pause.', en: 'You are paused.', es: 'Está en pausa.' },
  'agent-available': { fr: 'Vous êtes de nouveau disponible.', en: 'You are available again.', es: 'Vuelve a estar disponible.' },
  // Day / night / holiday override feature codes (*60-*63, docs/scenarios.md)
  'override-day': { fr: 'Mode jour activé.', en: 'Day mode is on.', es: 'Modo día activado.' },
  'override-night': { fr: 'Mode nuit activé.', en: 'Night mode is on.', es: 'Modo noche activado.' },
  'override-holiday': { fr: 'Mode jour férié activé.', en: 'Holiday mode is on.', es: 'Modo festivo activado.' },
  'override-auto': { fr: 'Retour au calendrier automatique.', en: 'Back to the automatic calendar.', es: 'Vuelta al calendario automático.' },
  // Queue callers
  'queue-position': { fr: 'Votre position dans la file d’attente est', en: 'Your position in the queue is', es: 'Su posición en la cola es' },
  'queue-wait': { fr: 'Temps d’attente estimé, en minutes :', en: 'Estimated waiting time, in minutes:', es: 'Tiempo de espera estimado, en minutos:' },
} as const satisfies Record<string, Record<Language, string>>;

export type PromptKey = keyof typeof PROMPT_TEXTS;
export const PROMPT_KEYS = Object.keys(PROMPT_TEXTS) as PromptKey[];

/** Numbers spoken as one word group (positions, message counts); larger ones are read digit by digit. */
export const MAX_SPOKEN_NUMBER = 99;

/** Every file the build makes for one language: prompt keys and `number-0` … `number-99`, with their text. */
export function promptJobs(lang: Language): { key: string; text: string }[] {
  const jobs: { key: string; text: string }[] = PROMPT_KEYS.map((key) => ({ key, text: PROMPT_TEXTS[key][lang] }));
  for (let n = 0; n <= MAX_SPOKEN_NUMBER; n++) jobs.push({ key: `number-${n}`, text: String(n) });
  return jobs;
}
