import { mappingsSchema, transformsSchema, type Mappings, type Transform } from '@music/domain';
import { asNumber, asString, describe, INVALID, type Invalid } from './coerce';
import { compileCopy, compileExtract, runStep, type Step } from './draft';
import { resolvePath, topLevelFields, type FieldSpec } from './field-spec';
import { buildFields } from './item-checks';
import { Errors, type MapOutcome } from './outcome';
import { compileReader, isPlainRecord, ownValue, setOwn, type Reader } from './paths';
import { opsRoundTrip, sourcesRoundTrip } from './reversibility';
import { writeFields } from './to-record';
import { compileOp, FAILED } from './transform-ops';


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
    [...opsByPath.values()].every((p) => {
      const ops = [...p.outbound, ...p.inbound];
      return p.field === idField ? !idIsNumber && opsRoundTrip({ ...idField, required: true }, ops) : opsRoundTrip(p.field, ops);
    });

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
    else if (id.includes('\u0000')) errors.add(EXTERNAL_ID, 'must not contain the NUL character (U+0000)');
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
    let ours = pick(data, dataFields);
    ours[EXTERNAL_ID] = item.externalId;
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
