// Every migration, in application order. Add a new file and list it here.
import type { Migration } from '../migration.js';
import { migration as initial } from './202611251630-initial.js';

export const MIGRATIONS: readonly Migration[] = [initial];
