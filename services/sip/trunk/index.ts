// SIP trunks: outbound registration to providers, inbound trunk/DID matching, outbound routes and caller-ID presentation.
export {
  TrunkService,
  type TrunkServiceOptions,
  type TrunkLookups,
  type TrunkSipHost,
  type TrunkStatus,
  type InboundMatch,
  type OutboundRouteResult,
  type TrunkEvents,
} from './trunk-service.js';
export {
  TrunkRegistration,
  type TrunkRegistrationState,
  type TrunkRegistrationStatus,
  type TrunkRegistrationOptions,
  type TrunkRegistrationHost,
  type TrunkRequestOptions,
} from './trunk-registration.js';
export { parseAddressRule, ruleMatches, type AddressRule } from './ip-match.js';
