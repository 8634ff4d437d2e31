// Firmware updates: the update agent (RAUC over D-Bus, health-checked A/B slots, rollback).
export { UpdateAgent, commandReboot, readBootId, refusalFor, bundleStructureProblem, type UpdateAgentOptions, type UpdateStatus, type UpdateState, type UpdateEvents, type UpdateError } from './update-agent.js';
export { RaucDbus, RAUC_BUS_NAME, RAUC_INSTALLER, type Rauc, type SlotStatus, type RaucProgress } from './rauc-client.js';
export { compareVersions } from './version.js';
export { UpdateHistory, type UpdateRecord, type UpdateOutcome } from './update-history.js';
