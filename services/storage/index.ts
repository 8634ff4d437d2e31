// Storage: the SQLite store, migrations. Repositories live in the modules that own the data.
export { Store, PRE_UPDATE_SUFFIX, type OpenStoreOptions, type StoreOpenNotes, type Database } from './store.js';
export { type Migration } from './migration.js';
export { MIGRATIONS } from './migrations/index.js';
export { ChangeWatcher, type ChangeWatcherEvents } from './change-watcher.js';
export { WalCheckpointer, type WalCheckpointerOptions } from './checkpointer.js';
