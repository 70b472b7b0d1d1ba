// The mapping engine: third-party records <-> our inventory items, per an organization's mappings
// and transforms. Pure (no I/O); see README.md for the rules.
export { compileMapping, type CompiledMapping } from './compile-mapping';
export type { FieldError, MapOutcome } from './outcome';
export { checkTransforms } from './check-transforms';
