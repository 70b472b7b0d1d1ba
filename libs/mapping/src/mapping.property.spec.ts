import fc from 'fast-check';
import { mappingsSchema, transformsSchema, type FieldMapping, type Mappings, type Transform } from '@music/domain';
import { compileMapping, type MapOutcome } from './index';
import { anyMappings, itemOf, rawTransformsFor, reversibleMappings } from './mapping-arbitraries.test-helper';
import { LOOSE_ORGANIZATION_BODY } from '@music/testing';

// Fixed seeds: the same cases on every run, so a failure reproduces; run counts keep the file fast.
const SEED = 20261107;

const brief = mappingsSchema.parse(LOOSE_ORGANIZATION_BODY.mappings);

/** Whether `value` has exactly the shape the mapping promises (types, no NaN, no null, no extras). */
function fits(mapping: FieldMapping, value: unknown): boolean {
  switch (mapping.type) {
    case 'string':
      return typeof value === 'string';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'object':
      return fitsFields(mapping.properties ?? {}, value);
    case 'array': {
      if (!Array.isArray(value)) return false;
      const items = mapping.items ?? {};
      const single = typeof (items as { type?: unknown }).type === 'string';
      for (let i = 0; i < value.length; i++) {
        if (!(i in value)) return false;
        if (!(single ? fits(items as FieldMapping, value[i]) : fitsFields(items as Record<string, FieldMapping>, value[i]))) return false;
      }
      return true;
    }
  }
}

function fitsFields(fields: Record<string, FieldMapping>, value: unknown): boolean {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Object.getPrototypeOf(value) !== Object.prototype) return false;
  const obj = value as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!Object.hasOwn(fields, key)) return false;
  }
  for (const key of Object.keys(fields)) {
    const mapping = fields[key] as FieldMapping;
    if (!Object.hasOwn(obj, key)) {
      if (mapping.required) return false;
      continue;
    }
    if (!fits(mapping, obj[key])) return false;
  }
  return true;
}

/** A well-formed outcome: ok with an item that fits the mappings, or errors with string paths. */
function expectWellFormed(mappings: Mappings, outcome: MapOutcome): void {
  if (outcome.ok) {
    expect(typeof outcome.externalId).toBe('string');
    expect(outcome.externalId.length).toBeGreaterThan(0);
    const { externalId: _id, ...dataFields } = mappings;
    expect(fitsFields(dataFields, outcome.data)).toBe(true);
    // Storable: JSON keeps everything (no NaN, Infinity, undefined or functions were hiding in it).
    expect(JSON.parse(JSON.stringify(outcome.data))).toEqual(outcome.data);
  } else {
    expect(outcome.errors.length).toBeGreaterThan(0);
    for (const e of outcome.errors) {
      expect(typeof e.path).toBe('string');
      expect(typeof e.message).toBe('string');
    }
    if (outcome.externalId !== undefined) expect(typeof outcome.externalId).toBe('string');
  }
}

const wildValue = fc.anything({
  withBigInt: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withBoxedValues: true,
  withSparseArray: true,
  withTypedArray: true,
  maxDepth: 3,
});

/** Records that look like the third party's: its keys, arbitrary values, sometimes nested. */
const lookalikeRecord = fc.dictionary(
  fc.constantFrom('id', 'name', 'artist', 'album', '__proto__', 'constructor', '0', 'a', 'b', 'x'),
  fc.oneof(wildValue, fc.jsonValue(), fc.dictionary(fc.constantFrom('0', 'a', 'b', 'x', '__proto__'), fc.jsonValue(), { maxKeys: 3 })),
  { maxKeys: 6 },
);
// Through JSON text, as a webhook body arrives: `__proto__` becomes an own key.
const lookalikeJson = fc
  .dictionary(fc.constantFrom('id', 'name', '__proto__', 'constructor', '0', 'a', 'x'), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 6 })
  .map((r) => JSON.parse(JSON.stringify(r)) as unknown);
const anyRecord = fc.oneof(wildValue, fc.jsonValue(), lookalikeRecord, lookalikeJson);

describe('mapping properties', () => {
  it('toItem(toRecord(item)) gives the item back, for reversible mappings, in memory and through JSON', () => {
    fc.assert(
      fc.property(
        reversibleMappings.chain((mappings) => fc.tuple(fc.constant(mappings), itemOf(mappings))),
        ([mappings, item]) => {
          const mapping = compileMapping(mappings);
          expect(mapping.reversible).toBe(true);
          const record = mapping.toRecord(item);
          expect(mapping.toItem(record)).toEqual({ ok: true, ...item });
          expect(mapping.toItem(JSON.parse(JSON.stringify(record)))).toEqual({ ok: true, ...item });
          expect(mapping.externalIdOf(record)).toBe(item.externalId);
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });

  it('toItem never throws and returns a well-formed outcome, whatever the record', () => {
    fc.assert(
      fc.property(fc.oneof(fc.constant(brief), anyMappings), anyRecord, (mappings, record) => {
        const mapping = compileMapping(mappings);
        expectWellFormed(mappings, mapping.toItem(record));
        const id = mapping.externalIdOf(record);
        expect(id === undefined || typeof id === 'string').toBe(true);
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('with random transforms accepted by transformsSchema, mapping never throws and stays well-formed', () => {
    const cases = anyMappings.chain((mappings) =>
      fc.tuple(fc.constant(mappings), rawTransformsFor(mappings), fc.oneof(anyRecord, itemOf(mappings)), itemOf(mappings)),
    );
    let compiled = 0;
    fc.assert(
      fc.property(cases, ([mappings, raw, record, item]) => {
        const parsed = transformsSchema.safeParse(raw);
        if (!parsed.success) return;
        compiled++;
        const mapping = compileMapping(mappings, parsed.data);
        expectWellFormed(mappings, mapping.toItem(record));
        // A record in the third party's shape (from an item) exercises the transforms on real values.
        expectWellFormed(mappings, mapping.toItem(mapping.toRecord(item)));
        expect(typeof mapping.reversible).toBe('boolean');
      }),
      { seed: SEED, numRuns: 400 },
    );
    // The generator must produce valid lists often enough for the property to mean something.
    expect(compiled).toBeGreaterThan(100);
  });

  it('when transforms leave a mapping reversible, the round trip holds', () => {
    const cases = reversibleMappings.chain((mappings) => fc.tuple(fc.constant(mappings), rawTransformsFor(mappings, false), itemOf(mappings)));
    let checked = 0;
    fc.assert(
      fc.property(cases, ([mappings, raw, item]) => {
        const parsed = transformsSchema.safeParse(raw);
        if (!parsed.success) return;
        const transforms: Transform[] = parsed.data;
        const mapping = compileMapping(mappings, transforms);
        if (!mapping.reversible) return;
        if (transforms.length > 0) checked++;
        expect(mapping.toItem(mapping.toRecord(item))).toEqual({ ok: true, ...item });
      }),
      { seed: SEED, numRuns: 600 },
    );
    expect(checked).toBeGreaterThan(50);
  });
});
