import { mappingsSchema, transformsSchema, type Mappings, type Transform } from '@music/domain';
import { asBoolean, asNumber, asString, describe, INVALID, type Invalid } from './coerce';
import { resolvePath, topLevelFields, type ElementSpec, type FieldSpec, type Shape } from './field-spec';
import { compileReader, compileWriters, isPlainRecord, ownValue, pathOf, setOwn, type Reader, type Writer } from './paths';
import { opsRoundTrip, sourcesRoundTrip } from './reversibility';
import { compileOp, FAILED, OpFailure, type OpFn } from './transform-ops';

/** A problem with one of our fields in one record; `path` is our field path (`tracks.1.title`). */
export interface FieldError {
  path: string;
  message: string;
}

/** The result of mapping one third-party record. */
export type MapOutcome =
  | { ok: true; externalId: string; data: Record<string, unknown> }
  | { ok: false; externalId?: string; errors: FieldError[] };

/** An organization's mappings and transforms, compiled once and applied to many records. */
export interface CompiledMapping {
  /** Maps a third-party record to our item (inbound transforms, then type checks). Never throws. */
  toItem(record: unknown): MapOutcome;
  /** Maps our item back to the third party's shape (outbound transforms applied). */
  toRecord(item: { externalId: string; data: Record<string, unknown> }): Record<string, unknown>;
  /** Only the externalId of a record (a DELETE body may hold nothing else). Never throws. */
  externalIdOf(record: unknown): string | undefined;
  /** True when toItem(toRecord(item)) gives back every item that fits the mappings. */
  readonly reversible: boolean;
}

const EXTERNAL_ID = 'externalId';
const MAX_EXTERNAL_ID = 1024;
// Enough to explain a record; an array of 100,000 bad elements does not need 100,000 errors.
const MAX_ERRORS_PER_RECORD = 20;

class Errors {
  readonly list: FieldError[] = [];
  add(path: string, message: string): void {
    if (this.list.length < MAX_ERRORS_PER_RECORD) this.list.push({ path, message });
  }
}

/** Checks and coerces a value that is present (not undefined/null); undefined when it is refused. */
type Check = (raw: unknown, parent: string, key: string | number, errors: Errors) => unknown;

// ---- toItem: type checks and coercions ------------------------------------------------------------

function scalarCheck(coerce: (v: unknown) => unknown, expected: string): Check {
  return (raw, parent, key, errors) => {
    const value = coerce(raw);
    if (value !== INVALID) return value;
    errors.add(pathOf(parent, key), `expected ${expected}, got ${describe(raw)}`);
    return undefined;
  };
}

/** Builds our object from a container (a record, an object value, an array element). */
type Build = (container: Record<string, unknown>, path: string, errors: Errors) => Record<string, unknown>;

function buildFields(fields: readonly FieldSpec[], fromDraft: boolean): Build {
  const slots = fields.map((f) => ({
    key: f.name,
    required: f.required,
    // The draft (when transforms ran) already holds our names; otherwise read the sources.
    read: compileReader(fromDraft ? f.name : f.source),
    check: compileCheck(f.shape, fromDraft),
  }));
  return (container, path, errors) => {
    const out: Record<string, unknown> = {};
    for (let i = 0; i < slots.length; i++) {
      const slot = slots[i] as (typeof slots)[number];
      const raw = slot.read(container);
      if (raw === undefined || raw === null) {
        if (slot.required) errors.add(pathOf(path, slot.key), 'is required');
        continue;
      }
      if (raw === FAILED) continue;
      const value = slot.check(raw, path, slot.key, errors);
      if (value !== undefined) setOwn(out, slot.key, value);
    }
    return out;
  };
}

function compileCheck(shape: Shape, fromDraft: boolean): Check {
  switch (shape.kind) {
    case 'scalar':
      if (shape.type === 'string') return scalarCheck(asString, 'a string');
      if (shape.type === 'number') return scalarCheck(asNumber, 'a number');
      return scalarCheck(asBoolean, 'a boolean');
    case 'object': {
      const build = buildFields(shape.fields, fromDraft);
      return (raw, parent, key, errors) => {
        if (isPlainRecord(raw)) return build(raw, pathOf(parent, key), errors);
        errors.add(pathOf(parent, key), `expected an object, got ${describe(raw)}`);
        return undefined;
      };
    }
    case 'array':
      return arrayCheck(shape.element, fromDraft);
  }
}

function arrayCheck(element: ElementSpec, fromDraft: boolean): Check {
  const readElement = !fromDraft && element.source !== undefined ? compileReader(element.source) : undefined;
  const check = compileCheck(element.shape, fromDraft);
  return (raw, parent, key, errors) => {
    const path = pathOf(parent, key);
    if (!Array.isArray(raw)) {
      errors.add(path, `expected an array, got ${describe(raw)}`);
      return undefined;
    }
    const out: unknown[] = [];
    for (let i = 0; i < raw.length; i++) {
      const el: unknown = readElement ? readElement(raw[i]) : raw[i];
      if (el === FAILED) continue;
      // An array cannot have gaps: every element must map to a value.
      if (el === undefined || el === null) errors.add(pathOf(path, i), 'is required (array elements cannot be empty)');
      else {
        const value = check(el, path, i, errors);
        if (value !== undefined) out.push(value);
      }
    }
    return out;
  };
}

// ---- toItem with inbound transforms: the draft -----------------------------------------------------
// Transforms run on a draft: the record's values under our field names, before any type check, so
// that they can fix the third party's shapes (a "215" string, a "a,b" list) before the checks.

type Extract = (raw: unknown) => unknown;
const same: Extract = (raw) => raw;

function compileExtract(shape: Shape): Extract {
  if (shape.kind === 'scalar') return same;
  if (shape.kind === 'object') {
    const slots = shape.fields.map((f) => ({ key: f.name, read: compileReader(f.source), extract: compileExtract(f.shape) }));
    return (raw) => {
      // Not an object: kept as it is, for the type check to report (or a transform to fix).
      if (!isPlainRecord(raw)) return raw;
      const out: Record<string, unknown> = {};
      for (const slot of slots) {
        const value = slot.read(raw);
        if (value !== undefined) setOwn(out, slot.key, slot.extract(value));
      }
      return out;
    };
  }
  const { source } = shape.element;
  const readElement = source !== undefined ? compileReader(source) : undefined;
  const extract = compileExtract(shape.element.shape);
  return (raw) => {
    if (!Array.isArray(raw)) return raw;
    const out = new Array<unknown>(raw.length);
    for (let i = 0; i < raw.length; i++) {
      const el: unknown = readElement ? readElement(raw[i]) : raw[i];
      out[i] = el === undefined ? undefined : extract(el);
    }
    return out;
  };
}

interface Step {
  op: Transform['op'];
  segments: string[];
  throughArray: boolean[];
  apply: OpFn;
}

/**
 * Runs one step on the draft. Only containers the draft made itself are entered (a third-party
 * object is never written to). With `errors` null (outbound), a failing op leaves the value as it is.
 */
function runStep(step: Step, container: Record<string, unknown>, depth: number, path: string, root: Record<string, unknown>, errors: Errors | null): void {
  const key = step.segments[depth] as string;
  if (depth === step.segments.length - 1) {
    const current = ownValue(container, key);
    if (current === FAILED) return;
    const next = step.apply(current, root);
    if (next instanceof OpFailure) {
      if (!errors) return;
      const at = pathOf(path, key);
      errors.add(next.index === undefined ? at : pathOf(at, next.index), `${step.op}: ${next.message}`);
      setOwn(container, key, FAILED);
    } else if (next !== current) {
      setOwn(container, key, next);
    }
    return;
  }
  const child = ownValue(container, key);
  if (step.throughArray[depth]) {
    if (!Array.isArray(child)) return;
    for (let i = 0; i < child.length; i++) {
      const el: unknown = child[i];
      if (isPlainRecord(el)) runStep(step, el, depth + 1, pathOf(pathOf(path, key), i), root, errors);
    }
  } else if (isPlainRecord(child)) {
    runStep(step, child, depth + 1, pathOf(path, key), root, errors);
  }
}

// ---- toRecord: back to the third party's shape -----------------------------------------------------

type Reverse = (value: unknown) => unknown;

function compileReverse(shape: Shape): Reverse {
  if (shape.kind === 'scalar') return same;
  if (shape.kind === 'object') {
    const write = writeFields(shape.fields);
    return (value) => (isPlainRecord(value) ? write(value, {}) : value);
  }
  const reverse = compileReverse(shape.element.shape);
  const { source } = shape.element;
  const [writeElement] = source !== undefined ? compileWriters([source]) : [];
  return (value) => {
    if (!Array.isArray(value)) return value;
    const out = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) {
      const el: unknown = value[i];
      const back = el === undefined || el === null ? el : reverse(el);
      if (writeElement) {
        const wrapper: Record<string, unknown> = {};
        writeElement(wrapper, back);
        out[i] = wrapper;
      } else {
        out[i] = back;
      }
    }
    return out;
  };
}

/** Writes the fields of `from` (our names) to their sources in `to`. */
function writeFields(fields: readonly FieldSpec[], convert: (field: FieldSpec, value: unknown) => unknown = (_f, v) => v) {
  const writers = compileWriters(fields.map((f) => f.source));
  const slots = fields.map((f, i) => ({ field: f, write: writers[i] as Writer, reverse: compileReverse(f.shape) }));
  return (from: Record<string, unknown>, to: Record<string, unknown>): Record<string, unknown> => {
    for (const slot of slots) {
      const value = ownValue(from, slot.field.name);
      if (value === undefined || value === null) continue;
      slot.write(to, convert(slot.field, slot.reverse(value)));
    }
    return to;
  };
}

/** A copy of the mapped part of our item, for outbound transforms to change without touching it. */
function compileCopy(shape: Shape): (value: unknown) => unknown {
  if (shape.kind === 'scalar') return same;
  if (shape.kind === 'object') {
    const slots = shape.fields.map((f) => ({ key: f.name, copy: compileCopy(f.shape) }));
    return (value) => {
      if (!isPlainRecord(value)) return value;
      const out: Record<string, unknown> = {};
      for (const slot of slots) {
        const v = ownValue(value, slot.key);
        if (v !== undefined) setOwn(out, slot.key, slot.copy(v));
      }
      return out;
    };
  }
  const copy = compileCopy(shape.element.shape);
  return (value) => (Array.isArray(value) ? Array.from(value, copy) : value);
}

// ---- compile ---------------------------------------------------------------------------------------

function invalid(what: string, issues: readonly { path: PropertyKey[]; message: string }[]): Error {
  const detail = issues.map((i) => `${i.path.map(String).join('.')}: ${i.message}`).join('; ');
  return new Error(`compileMapping: invalid ${what} (${detail})`);
}

/**
 * Compiles an organization's mappings and transforms once into closures (accessors, regexes and
 * templates prepared here, not per record). Throws only when they fail their own schemas, which
 * the config service enforces; transforms on unmapped fields have no effect (see checkTransforms).
 */
export function compileMapping(mappings: Mappings, transforms: Transform[] = []): CompiledMapping {
  const parsedMappings = mappingsSchema.safeParse(mappings);
  if (!parsedMappings.success) throw invalid('mappings', parsedMappings.error.issues);
  const parsedTransforms = transformsSchema.safeParse(transforms);
  if (!parsedTransforms.success) throw invalid('transforms', parsedTransforms.error.issues);

  const all = topLevelFields(parsedMappings.data);
  const idField = all.find((f) => f.name === EXTERNAL_ID) as FieldSpec;
  const dataFields = all.filter((f) => f !== idField);
  const idIsNumber = idField.shape.kind === 'scalar' && idField.shape.type === 'number';

  // Steps whose path does not resolve to a mapped field are dropped: their result would never be read.
  const inbound: Step[] = [];
  const outbound: Step[] = [];
  const opsByPath = new Map<string, { field: FieldSpec; outbound: Transform[]; inbound: Transform[] }>();
  for (const t of parsedTransforms.data) {
    const resolved = resolvePath(all, t.field);
    if (!resolved) continue;
    const step: Step = { op: t.op, segments: t.field.split('.'), throughArray: resolved.throughArray, apply: compileOp(t) };
    let ops = opsByPath.get(t.field);
    if (!ops) opsByPath.set(t.field, (ops = { field: resolved.field, outbound: [], inbound: [] }));
    if (t.direction !== 'outbound') {
      inbound.push(step);
      ops.inbound.push(t);
    }
    if (t.direction === 'outbound' || t.direction === 'both') {
      outbound.push(step);
      ops.outbound.push(t);
    }
  }

  // A transformed externalId is judged as the required string it is on our side; a numeric one is
  // not judged at all (its ops would see a number going out and a string coming back).
  const reversible =
    sourcesRoundTrip(all) &&
    [...opsByPath.values()].every((p) =>
      p.field === idField ? !idIsNumber && opsRoundTrip({ ...idField, required: true }, [...p.outbound, ...p.inbound]) : opsRoundTrip(p.field, [...p.outbound, ...p.inbound]),
    );

  // toItem
  const fromDraft = inbound.length > 0;
  const extractDraft = compileExtract({ kind: 'object', fields: all }) as (record: Record<string, unknown>) => Record<string, unknown>;
  const readIdRaw: Reader = compileReader(fromDraft ? EXTERNAL_ID : idField.source);
  const readIdFromRecord: Reader = compileReader(idField.source);
  const idTouched = inbound.some((s) => s.segments[0] === EXTERNAL_ID);
  const buildData = buildFields(dataFields, fromDraft);

  const draftOf = (record: Record<string, unknown>, errors: Errors): Record<string, unknown> => {
    const draft = extractDraft(record);
    for (const step of inbound) runStep(step, draft, 0, '', draft, errors);
    return draft;
  };

  const coerceId = (raw: unknown): string | Invalid => {
    const value = idIsNumber ? asNumber(raw) : asString(raw);
    return value === INVALID ? INVALID : String(value);
  };

  const readId = (source: unknown, read: Reader, errors: Errors): string | undefined => {
    const raw = read(source);
    if (raw === FAILED) return undefined;
    if (raw === undefined || raw === null) {
      errors.add(EXTERNAL_ID, 'is required');
      return undefined;
    }
    const id = coerceId(raw);
    if (id === INVALID) errors.add(EXTERNAL_ID, `expected ${idIsNumber ? 'a number' : 'a string'}, got ${describe(raw)}`);
    else if (id.length === 0) errors.add(EXTERNAL_ID, 'must not be empty');
    else if (id.length > MAX_EXTERNAL_ID) errors.add(EXTERNAL_ID, `must be at most ${MAX_EXTERNAL_ID} characters`);
    else return id;
    return undefined;
  };

  const toItem = (record: unknown): MapOutcome => {
    try {
      if (!isPlainRecord(record)) return { ok: false, errors: [{ path: '', message: `expected an object record, got ${describe(record)}` }] };
      const errors = new Errors();
      const source = fromDraft ? draftOf(record, errors) : record;
      const externalId = readId(source, readIdRaw, errors);
      const data = buildData(source, '', errors);
      if (errors.list.length > 0) return externalId === undefined ? { ok: false, errors: errors.list } : { ok: false, externalId, errors: errors.list };
      return { ok: true, externalId: externalId as string, data };
    } catch {
      // Only reachable through exotic inputs (throwing getters, proxies): still a refused record.
      return { ok: false, errors: [{ path: '', message: 'the record could not be read' }] };
    }
  };

  const externalIdOf = (record: unknown): string | undefined => {
    try {
      if (!isPlainRecord(record)) return undefined;
      // When transforms shape the id (a template, a trim), it must come out as toItem makes it.
      const source = idTouched ? draftOf(record, new Errors()) : record;
      return readId(source, idTouched ? readIdRaw : readIdFromRecord, new Errors());
    } catch {
      return undefined;
    }
  };

  // toRecord
  const copyOurs = compileCopy({ kind: 'object', fields: all });
  const writeRecord = writeFields(all, (field, value) => {
    // Our externalId is a string; a numeric one goes back as the number it was read from.
    if (field === idField && idIsNumber && typeof value === 'string') {
      const n = asNumber(value);
      if (n !== INVALID && String(n) === value) return n;
    }
    return value;
  });

  const toRecord = (item: { externalId: string; data: Record<string, unknown> }): Record<string, unknown> => {
    const data = isPlainRecord(item.data) ? item.data : {};
    let ours: Record<string, unknown> = { ...pick(data, dataFields), [EXTERNAL_ID]: item.externalId };
    if (outbound.length > 0) {
      ours = copyOurs(ours) as Record<string, unknown>;
      for (const step of outbound) runStep(step, ours, 0, '', ours, null);
    }
    return writeRecord(ours, {});
  };

  return { toItem, toRecord, externalIdOf, reversible };
}

/** The own values of the mapped top-level fields (nothing inherited, nothing unmapped). */
function pick(data: Record<string, unknown>, fields: readonly FieldSpec[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    const v = ownValue(data, f.name);
    if (v !== undefined) setOwn(out, f.name, v);
  }
  return out;
}
