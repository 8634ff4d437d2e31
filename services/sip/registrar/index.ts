// Registrar (RFC 3261 §10): REGISTER handling, bindings persisted in SQLite, lookups for the call layer.
export { Registrar, type RegistrarLookup, type RegistrarOptions, type RegistrarEvents, type RegisterOutcome, type RegistrarSipHost, type RegisterAttempt } from './registrar.js';
export { type Binding, type BindingSource } from './binding.js';
