// /api/extensions: phone accounts; the secret comes back only at creation and regeneration.
import { get, query, request } from './api.js';

export interface Extension {
  id: number;
  number: string;
  userId: number | null;
  displayName: string;
  sipUsername: string;
  digestAlgorithm: string;
  voicemailEnabled: boolean;
  hasVoicemailPin: boolean;
  /** Only SIP over TLS with SRTP for this extension (docs/security.md); its phone's file moves to TLS (docs/provisioning.md). */
  requireTlsSrtp: boolean;
  registered: boolean;
  registrations: { address: string; userAgent: string | null; expiresAt: number }[];
}

export interface ExtensionInput {
  number?: string;
  userId?: number | null;
  displayName?: string;
  voicemailEnabled?: boolean;
  voicemailPin?: string | null;
  requireTlsSrtp?: boolean;
}

export const listExtensions = (opts: { limit?: number; offset?: number } = {}): Promise<{ extensions: Extension[]; total: number }> => get(`/extensions${query(opts)}`);
export const createExtension = (e: ExtensionInput & { number: string }): Promise<{ extension: Extension; secret: string }> => request('POST', '/extensions', e);
export const updateExtension = async (id: number, e: ExtensionInput): Promise<Extension> => (await request<{ extension: Extension }>('PATCH', `/extensions/${id}`, e)).extension;
export const regenerateSecret = (id: number): Promise<{ extension: Extension; secret: string }> => request('POST', `/extensions/${id}/secret`);
export const deleteExtension = (id: number): Promise<void> => request('DELETE', `/extensions/${id}`);
