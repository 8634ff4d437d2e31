// /api/users: console users with role and rights.
import { get, query, request } from './api.js';
import type { Right } from './session.js';

export interface User {
  id: number;
  username: string;
  name: string;
  email: string | null;
  role: 'admin' | 'user';
  rights: Right[];
  language: string;
  dnd: boolean;
  hasPassword: boolean;
  createdAt: number;
}

export type UserInput = Partial<Omit<User, 'id' | 'hasPassword' | 'createdAt'>> & { password?: string };

export const listUsers = (opts: { limit?: number; offset?: number; q?: string } = {}): Promise<{ users: User[]; total: number }> => get(`/users${query(opts)}`);
export const createUser = async (u: UserInput & { username: string }): Promise<User> => (await request<{ user: User }>('POST', '/users', u)).user;
export const updateUser = async (id: number, u: UserInput): Promise<User> => (await request<{ user: User }>('PATCH', `/users/${id}`, u)).user;
export const deleteUser = (id: number): Promise<void> => request('DELETE', `/users/${id}`);
