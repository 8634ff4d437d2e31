// Every migration, in application order. Add a new file and list it here.
import type { Migration } from '../migration.js';
import { migration as initial } from './202611251630-initial.js';
import { migration as directoryIndexes } from './202611251700-directory-indexes.js';
import { migration as callPath } from './202612071000-call-path.js';
import { migration as voicedrop } from './202612071001-voicedrop.js';
import { migration as queueEngine } from './202612071100-queue-engine.js';
import { migration as console } from './202612071200-console.js';
import { migration as phoneInventory } from './202612071300-phone-inventory.js';
import { migration as healthProbe } from './202612071400-health-probe.js';
import { migration as firmwareUpdates } from './202612071401-firmware-updates.js';
import { migration as sipBans } from './202612071500-sip-bans.js';
import { migration as holidays } from './202612071600-holidays.js';
import { migration as inbox } from './202612071601-inbox.js';
import { migration as menuOptionActions } from './202612081000-menu-option-actions.js';
import { migration as queueDefaultMoh } from './202612081100-queue-default-moh.js';
import { migration as wallboardTokens } from './202612081300-wallboard-tokens.js';
import { migration as liveDialogs } from './202612081400-live-dialogs.js';
import { migration as userIdsNeverReused } from './202612081401-user-ids-never-reused.js';
import { migration as liveDialogsTls } from './202612081500-live-dialogs-tls.js';
import { migration as extensionRequireTlsSrtp } from './202612081501-extension-require-tls-srtp.js';
import { migration as ringingInvites } from './202612091000-ringing-invites.js';

export const MIGRATIONS: readonly Migration[] = [initial, directoryIndexes, callPath, voicedrop, queueEngine, console, phoneInventory, healthProbe, firmwareUpdates, sipBans, holidays, inbox, menuOptionActions, queueDefaultMoh, wallboardTokens, liveDialogs, userIdsNeverReused, liveDialogsTls, extensionRequireTlsSrtp, ringingInvites];
