// Directory: the configuration entities of a site (users, extensions, numbers, trunks, queues, scenarios,
// sounds, phones, settings), each with a repository that owns its SQL.
export { UserRepository, hashPassword, verifyPasswordHash, checkPassword, checkUsername, ROLES, type User, type UserInput, type UserPatch, type Role } from './users.js';
export {
  ExtensionRepository,
  computeHa1,
  generateSecret,
  DIGEST_ALGORITHMS,
  type Extension,
  type ExtensionInput,
  type ExtensionPatch,
  type DigestAlgorithm,
} from './extensions.js';
