import type { FieldMapping, Mappings } from '@music/domain';

// The mappings as a normalized tree: the engine compiles from this shape only, so the two ways the
// spec allows to write `items` (one mapping, or a record of properties) are resolved once, here.

export type ScalarType = 'string' | 'number' | 'boolean';

export type Shape =
  | { kind: 'scalar'; type: ScalarType }
  | { kind: 'object'; fields: FieldSpec[] }
  | { kind: 'array'; element: ElementSpec };

/** One of our fields: its name, where it is read from (relative to its parent), and its shape. */
export interface FieldSpec {
  name: string;
  source: string;
  required: boolean;
  shape: Shape;
}

/** What every array element maps to; `source` is a path inside the element, when there is one. */
export interface ElementSpec {
  source?: string;
  shape: Shape;
}

/** `items` is a single mapping when it has a string `type`; otherwise it is a record of properties. */
function isFieldMapping(items: FieldMapping | Record<string, FieldMapping>): items is FieldMapping {
  return typeof (items as { type?: unknown }).type === 'string';
}

function fieldsOf(properties: Record<string, FieldMapping>): FieldSpec[] {
  return Object.keys(properties).map((name) => toFieldSpec(name, properties[name] as FieldMapping));
}

function shapeOf(mapping: FieldMapping): Shape {
  switch (mapping.type) {
    case 'object':
      return { kind: 'object', fields: fieldsOf(mapping.properties ?? {}) };
    case 'array': {
      const items = mapping.items ?? {};
      if (isFieldMapping(items)) {
        return { kind: 'array', element: { ...(items.source !== undefined ? { source: items.source } : {}), shape: shapeOf(items) } };
      }
      return { kind: 'array', element: { shape: { kind: 'object', fields: fieldsOf(items) } } };
    }
    default:
      return { kind: 'scalar', type: mapping.type };
  }
}

/** Normalizes one field mapping (the source defaults to the field's own name). */
export function toFieldSpec(name: string, mapping: FieldMapping): FieldSpec {
  return { name, source: mapping.source ?? name, required: mapping.required, shape: shapeOf(mapping) };
}

/** Every top-level field, externalId included. */
export function topLevelFields(mappings: Mappings): FieldSpec[] {
  return fieldsOf(mappings);
}

/** The fields directly inside a field's value (an object's properties, an array element's). */
export function childFields(shape: Shape): FieldSpec[] | undefined {
  if (shape.kind === 'object') return shape.fields;
  if (shape.kind === 'array' && shape.element.shape.kind === 'object') return shape.element.shape.fields;
  return undefined;
}

export interface ResolvedPath {
  field: FieldSpec;
  /** For each segment but the last: whether the path steps into every element of an array. */
  throughArray: boolean[];
}

/** Resolves a dot path of our field names (`tracks.title`) against the mappings. */
export function resolvePath(fields: FieldSpec[], path: string): ResolvedPath | undefined {
  const segments = path.split('.');
  const throughArray: boolean[] = [];
  let scope: FieldSpec[] | undefined = fields;
  let field: FieldSpec | undefined;
  for (let i = 0; i < segments.length; i++) {
    if (!scope) return undefined;
    field = scope.find((f) => f.name === segments[i]);
    if (!field) return undefined;
    if (i < segments.length - 1) {
      throughArray.push(field.shape.kind === 'array');
      scope = childFields(field.shape);
    }
  }
  return field ? { field, throughArray } : undefined;
}
