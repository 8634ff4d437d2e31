// SIP message layer (RFC 3261 §7, §20, §25): pure parse/serialize, no I/O.
export { SipParseError } from './sip-parse-error.js';
export { SipMessage, SipRequest, SipResponse, isRequest, type HeaderField, type HeaderInit, type SipRequestInit } from './sip-message.js';
export { parseMessage, parseLenient, frameStream, MAX_BODY, MAX_HEADER_BYTES, MAX_HEADERS, type FrameResult } from './parser.js';
export { SipUri } from './sip-uri.js';
export { NameAddr } from './name-addr.js';
export { Via, BRANCH_COOKIE } from './via.js';
export { parseCSeq, formatCSeq, CSEQ_MAX, type CSeq } from './cseq.js';
export { formatParams, parseHeaderParams, unquoteParam, type Params } from './params.js';
export { normalizeHeaderName, canonicalHeaderName, isListHeader } from './header-names.js';
export { reasonPhrase } from './reason-phrases.js';
export { splitList, quote, isToken, detach } from './syntax.js';
export { sipToken } from './random-token.js';
