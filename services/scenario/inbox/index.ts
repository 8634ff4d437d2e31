// The call inbox (docs/product.md §2, §7): inbox status of inbound calls, jobs made from them, and the blocklist screen.
export { InboxRepository, INBOX_STATUSES, type InboxStatus, type InboxCall } from './inbox-repository.js';
export { JobRepository, JOB_STATUSES, type Job, type JobInput, type JobPatch, type JobStatus } from './job-repository.js';
export { BlocklistRepository, matchKey, BLOCK_ACTIONS, BLOCK_NUMBER_RE, type BlockedCaller, type BlockInput, type BlockAction, type CallerScreen, type ScreenVerdict } from './blocklist.js';
export { callerScreenMiddleware, type ScreenMiddlewareOptions } from './screen-middleware.js';
