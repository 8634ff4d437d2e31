// /api/trunks and /api/routes: SIP trunks with their registration state, outbound routes.
import { get, request } from './api.js';

export interface OutboundRoute {
  id: number;
  name: string;
  pattern: string;
  strip: number;
  prepend: string;
  trunkId: number;
  priority: number;
}

export interface Trunk {
  id: number;
  name: string;
  host: string;
  port: number;
  transport: 'udp' | 'tcp';
  register: boolean;
  username: string | null;
  hasSecret: boolean;
  callerId: string | null;
  enabled: boolean;
  state: string;
  stateDetail: string | null;
  routes: OutboundRoute[];
}

export interface TrunkInput {
  name?: string;
  host?: string;
  port?: number;
  transport?: 'udp' | 'tcp';
  register?: boolean;
  username?: string | null;
  secret?: string | null;
  callerId?: string | null;
  enabled?: boolean;
}

export const listTrunks = async (): Promise<Trunk[]> => (await get<{ trunks: Trunk[] }>('/trunks')).trunks;
export const createTrunk = async (t: TrunkInput): Promise<Trunk> => (await request<{ trunk: Trunk }>('POST', '/trunks', t)).trunk;
export const deleteTrunk = (id: number): Promise<void> => request('DELETE', `/trunks/${id}`);
export const createRoute = async (r: Omit<OutboundRoute, 'id' | 'strip' | 'prepend' | 'priority'> & Partial<OutboundRoute>): Promise<OutboundRoute> =>
  (await request<{ route: OutboundRoute }>('POST', '/routes', r)).route;
export const deleteRoute = (id: number): Promise<void> => request('DELETE', `/routes/${id}`);
