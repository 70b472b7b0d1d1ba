import type { Transform } from '@music/domain';
import { childFields, type FieldSpec, type ScalarType, type Shape } from './field-spec';
import { pathsOverlap } from './paths';

// Decides, once per compiled mapping, whether toItem(toRecord(item)) gives back every item that fits
// the mappings. Conservative: `false` means "not guaranteed", not "known to break".
//
// For each transformed field, the ops that run on its value are followed from our side and back:
// the outbound ones (toRecord), then the inbound ones (toItem), then the type coercion of toItem.
// The abstract value is 'exact' (still the item's value), 'numstr'/'boolstr' (String() of the
// item's number/boolean, which toNumber/toBoolean or the coercion turn back), a split array (which
// a join with the same separator turns back), or 'unknown'.

type State = 'exact' | 'numstr' | 'boolstr' | 'unknown' | { split: string };

const ELEMENTWISE = new Set<Transform['op']>(['trim', 'lowercase', 'uppercase', 'replace', 'toNumber', 'toString', 'toBoolean', 'toDate', 'map']);
// Ops that leave an object, and an array of objects, as it is.
const PASS_CONTAINERS = new Set<Transform['op']>(['trim', 'lowercase', 'uppercase', 'replace', 'map']);

function scalarStep(state: State, t: Transform, type: ScalarType, required: boolean): State {
  if (state === 'unknown') return state;
  // A default never fires on a required value: the item has it, and so has the record written from it.
  if (t.op === 'default') return required ? state : 'unknown';
  if (typeof state === 'object') {
    if (t.op === 'join') return t.separator === state.split ? 'exact' : 'unknown';
    return t.op === 'split' ? state : 'unknown';
  }
  if (state === 'numstr' || state === 'boolstr') {
    if (t.op === 'toString' || t.op === 'trim' || t.op === 'join') return state;
    if (t.op === 'toNumber' && state === 'numstr') return 'exact';
    if (t.op === 'toBoolean' && state === 'boolstr') return 'exact';
    return 'unknown';
  }
  switch (t.op) {
    case 'trim':
    case 'lowercase':
    case 'uppercase':
    case 'replace':
      return type === 'string' ? 'unknown' : 'exact';
    case 'toNumber':
      return type === 'number' ? 'exact' : 'unknown';
    case 'toString':
      return type === 'string' ? 'exact' : type === 'number' ? 'numstr' : 'boolstr';
    case 'toBoolean':
      return type === 'boolean' ? 'exact' : 'unknown';
    case 'split':
      return type === 'string' ? { split: t.separator } : 'unknown';
    case 'join':
      return type === 'string' ? 'exact' : 'unknown';
    default:
      return 'unknown';
  }
}

const restores = (state: State, type: ScalarType): boolean =>
  state === 'exact' || (state === 'numstr' && type === 'number') || (state === 'boolstr' && type === 'boolean');

/** Whether the ops (outbound then inbound, in running order) give back any value of the field. */
export function opsRoundTrip(field: FieldSpec, ops: readonly Transform[]): boolean {
  const shape = field.shape;
  if (shape.kind === 'scalar') {
    let state: State = 'exact';
    for (const t of ops) state = scalarStep(state, t, shape.type, field.required);
    return restores(state, shape.type);
  }
  const element = shape.kind === 'array' ? shape.element.shape : undefined;
  if (element?.kind === 'scalar') {
    let state: State = 'exact';
    for (const t of ops) {
      if (ELEMENTWISE.has(t.op)) state = scalarStep(state, t, element.type, true);
      else if (t.op === 'split' || (t.op === 'default' && field.required)) continue;
      else return false;
    }
    return restores(state, element.type);
  }
  return ops.every(
    (t) => PASS_CONTAINERS.has(t.op) || (t.op === 'default' && field.required) || (t.op === 'split' && shape.kind === 'array'),
  );
}

/** Whether writing the fields back to their sources and reading them again gives the same values. */
export function sourcesRoundTrip(fields: readonly FieldSpec[]): boolean {
  if (pathsOverlap(fields.map((f) => f.source))) return false;
  return fields.every((f) => shapeRoundTrips(f.shape));
}

function shapeRoundTrips(shape: Shape): boolean {
  const children = childFields(shape);
  return children ? sourcesRoundTrip(children) : true;
}
