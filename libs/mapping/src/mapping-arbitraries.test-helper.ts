import fc from 'fast-check';
import { mappingsSchema, RESERVED_FIELD_NAMES, type FieldMapping, type Mappings } from '@music/domain';

// fast-check arbitraries for the property tests: mapping trees, items that fit them, transforms
// aimed at their fields.

const RESERVED = new Set(['__proto__', 'externalId']);
/** Our field names (FIELD_NAME), a few of them unfriendly to objects. */
const fieldName = fc.oneof(
  fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,6}$/),
  fc.constantFrom('constructor', 'toString', 'hasOwnProperty', 'valueOf', 'length', '_'),
).filter((n) => !RESERVED.has(n));

/** One segment of a third-party path: plain words, array slots, prototype-ish and odd keys. */
const sourceSegment = fc.oneof(
  { weight: 4, arbitrary: fc.stringMatching(/^[a-z][a-z0-9_]{0,4}$/) },
  { weight: 1, arbitrary: fc.constantFrom('0', '1', '2', '__proto__', 'constructor', 'prototype', '$ref', 'a-b', 'length') },
);
const sourcePath = fc.array(sourceSegment, { minLength: 1, maxLength: 3 }).map((s) => s.join('.'));

type Entry = { name: string; source: string; mapping: FieldMapping };

/**
 * Fields of one scope with distinct names and distinct first source segments: no source is another's
 * prefix, so writing them all back cannot collide (the mapping stays reversible).
 */
function scope(field: fc.Arbitrary<FieldMapping>, minLength = 0): fc.Arbitrary<Entry[]> {
  return fc
    .uniqueArray(fc.record({ name: fieldName, source: sourcePath, mapping: field }), { selector: (e) => e.name, minLength, maxLength: 4 })
    .map((entries) => {
      const seen = new Set<string>();
      return entries.filter((e) => {
        const first = e.source.split('.')[0] as string;
        if (seen.has(first)) return false;
        seen.add(first);
        return true;
      });
    });
}

function toRecordOfMappings(entries: Entry[]): Record<string, FieldMapping> {
  const out: Record<string, FieldMapping> = {};
  for (const e of entries) out[e.name] = { ...e.mapping, source: e.source };
  return out;
}

const { field } = fc.letrec<{ field: FieldMapping; scalar: FieldMapping; object: FieldMapping; array: FieldMapping; item: FieldMapping | Record<string, FieldMapping> }>((tie) => ({
  field: fc.oneof({ maxDepth: 3, depthIdentifier: 'mapping' }, tie('scalar'), tie('scalar'), tie('object'), tie('array')),
  scalar: fc.record({ type: fc.constantFrom('string' as const, 'number' as const, 'boolean' as const), required: fc.boolean() }),
  object: fc.record({ type: fc.constant('object' as const), required: fc.boolean(), properties: scope(tie('field')).map((e) => toRecordOfMappings(e)) }),
  array: fc.record({ type: fc.constant('array' as const), required: fc.boolean(), items: tie('item') }),
  item: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'mapping' },
    // One scalar mapping per element, read from the element or from a path inside it.
    fc.record({ type: fc.constantFrom('string' as const, 'number' as const, 'boolean' as const), required: fc.boolean(), source: fc.option(sourcePath, { nil: undefined }) }).map(dropUndefined),
    // A record of properties.
    scope(tie('field'), 1).map((e) => toRecordOfMappings(e)),
    // One object mapping per element.
    fc.record({ type: fc.constant('object' as const), required: fc.boolean(), properties: scope(tie('field')).map((e) => toRecordOfMappings(e)), source: fc.option(sourcePath, { nil: undefined }) }).map(dropUndefined),
  ),
}));

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

// Names the inventory API keeps for itself at the top level of an item.
const isReservedTopLevel = (name: string): boolean => (RESERVED_FIELD_NAMES as readonly string[]).includes(name);

/** Random mappings with no colliding sources (so reversible), parsed by the real schema. */
export const reversibleMappings: fc.Arbitrary<Mappings> = fc
  .tuple(fc.constantFrom('string' as const, 'number' as const), sourcePath, scope(field))
  .map(([idType, idSource, entries]) => {
    const first = idSource.split('.')[0];
    const fields = entries.filter((e) => e.source.split('.')[0] !== first && !isReservedTopLevel(e.name));
    return mappingsSchema.parse({ externalId: { type: idType, source: idSource, required: true }, ...toRecordOfMappings(fields) });
  });

/** Any mappings: reversible ones plus ones whose sources collide. */
export const anyMappings: fc.Arbitrary<Mappings> = fc.oneof(
  reversibleMappings,
  fc.tuple(reversibleMappings, fc.dictionary(fieldName.filter((n) => !isReservedTopLevel(n)), fc.record({ type: fc.constantFrom('string', 'number'), source: sourcePath }), { maxKeys: 3 })).map(([m, extra]) => {
    const merged: Record<string, unknown> = { ...extra, ...m };
    return mappingsSchema.parse(merged);
  }),
);

// ---- items that fit a mapping ----------------------------------------------------------------------

const text = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 6 }), fc.constantFrom('', ' ', 'true', '42', '1e+21', '__proto__'));
// -0 is not a value toItem produces (JSON has none), so items do not hold it either.
const finite = fc.oneof(fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true })).map((n) => n + 0);

function valueOf(mapping: FieldMapping): fc.Arbitrary<unknown> {
  switch (mapping.type) {
    case 'string':
      return text;
    case 'number':
      return finite;
    case 'boolean':
      return fc.boolean();
    case 'object':
      return objectOf(mapping.properties ?? {});
    case 'array': {
      const items = mapping.items ?? {};
      const element = typeof (items as { type?: unknown }).type === 'string' ? valueOf(items as FieldMapping) : objectOf(items as Record<string, FieldMapping>);
      return fc.array(element, { maxLength: 3 });
    }
  }
}

function objectOf(fields: Record<string, FieldMapping>): fc.Arbitrary<Record<string, unknown>> {
  const names = Object.keys(fields);
  const parts = names.map((name) => {
    const mapping = fields[name] as FieldMapping;
    return mapping.required ? valueOf(mapping) : fc.option(valueOf(mapping), { nil: undefined });
  });
  return fc.tuple(...parts).map((values) => {
    const out: Record<string, unknown> = {};
    values.forEach((v, i) => {
      if (v !== undefined) out[names[i] as string] = v;
    });
    return out;
  });
}

/** An item of our side that fits the mappings: the externalId as toItem would produce it. */
export function itemOf(mappings: Mappings): fc.Arbitrary<{ externalId: string; data: Record<string, unknown> }> {
  const { externalId, ...rest } = mappings;
  const id = externalId?.type === 'number' ? finite.map(String) : text.filter((s) => s.length > 0);
  return fc.record({ externalId: id, data: objectOf(rest) });
}

// ---- transforms aimed at a mapping's fields --------------------------------------------------------

/** Every path a transform can name: top-level fields, object properties, array element properties. */
export function fieldPaths(mappings: Mappings): string[] {
  const out: string[] = [];
  const walk = (fields: Record<string, FieldMapping>, prefix: string) => {
    for (const name of Object.keys(fields)) {
      const path = prefix ? `${prefix}.${name}` : name;
      out.push(path);
      const m = fields[name] as FieldMapping;
      if (m.type === 'object') walk(m.properties ?? {}, path);
      if (m.type === 'array' && m.items) {
        if (typeof (m.items as { type?: unknown }).type !== 'string') walk(m.items as Record<string, FieldMapping>, path);
        else if ((m.items as FieldMapping).type === 'object') walk((m.items as FieldMapping).properties ?? {}, path);
      }
    }
  };
  walk(mappings, '');
  return out;
}

const scalarValue = fc.oneof(fc.string({ maxLength: 6 }), fc.integer(), fc.boolean());
const separator = fc.constantFrom('', ',', ';', ' / ', 'a');
const pattern = fc.constantFrom('a', '.', '\\s+', '^\\s+|\\s+$', '[aeiou]', '(x)', 'b*', '$', '(?:ab)+');

/** Op arguments, some of them invalid (the schema sorts them out); `unknownOps` adds ops that do not exist. */
function opOf(paths: string[], unknownOps: boolean): fc.Arbitrary<Record<string, unknown>> {
  const target = { field: fc.constantFrom(...paths, 'unmapped', 'x.y'), direction: fc.constantFrom('inbound', 'outbound', 'both', undefined) };
  return fc.oneof(
    fc.record({ ...target, op: fc.constantFrom('trim', 'lowercase', 'uppercase', 'toNumber', 'toString', 'toBoolean') }),
    fc.record({ ...target, op: fc.constant('toDate'), unit: fc.constantFrom('ms', 's', undefined) }),
    fc.record({ ...target, op: fc.constant('default'), value: fc.oneof(scalarValue, fc.array(scalarValue, { maxLength: 2 })) }),
    fc.record({ ...target, op: fc.constant('replace'), pattern, replacement: fc.constantFrom('', 'x', '$1', '$&'), regex: fc.boolean(), flags: fc.constantFrom('g', 'i', 'gi', undefined) }),
    fc.record({ ...target, op: fc.constantFrom('split', 'join'), separator }),
    fc.record({ ...target, op: fc.constant('map'), values: fc.dictionary(fc.string({ maxLength: 3 }), fc.oneof(scalarValue, fc.constant(null)), { maxKeys: 3 }), default: fc.option(scalarValue, { nil: undefined }) }),
    fc.record({ ...target, op: fc.constant('template'), template: fc.array(fc.oneof(fc.constantFrom(...paths).map((p) => `{{${p}}}`), fc.string({ maxLength: 3 })), { maxLength: 3 }).map((p) => p.join('')) }),
    fc.record({ ...target, op: unknownOps ? fc.constantFrom('eval', 'exec', '') : fc.constant('trim') }),
  ).map(dropUndefined);
}

/** Candidate transform lists for a mapping, raw (not yet validated). */
export function rawTransformsFor(mappings: Mappings, unknownOps = true): fc.Arbitrary<unknown[]> {
  return fc.array(opOf(fieldPaths(mappings), unknownOps), { maxLength: 6 });
}
