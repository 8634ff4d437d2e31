// Backup and restore of the appliance's data (database, sounds, recordings, voicemail) as one tar.gz.
export {
  createBackup,
  restoreBackup,
  verifyExtracted,
  BackupError,
  BACKUP_FORMAT,
  BACKUP_FORMAT_VERSION,
  BACKUP_DIRS,
  type BackupManifest,
  type BackupResult,
  type RestoreResult,
} from './archive.js';
