import { asBoolean, asNumber, asString, describe, INVALID } from './coerce';
import type { ElementSpec, FieldSpec, Shape } from './field-spec';
import type { Errors } from './outcome';
import { compileReader, isPlainRecord, pathOf, setOwn } from './paths';
import { FAILED } from './transform-ops';

// toItem's type checks and lossless coercions, compiled per field.

/** Checks and coerces a value that is present (not undefined/null); undefined when it is refused. */
type Check = (raw: unknown, parent: string, key: string | number, errors: Errors) => unknown;

function scalarCheck(coerce: (v: unknown) => unknown, expected: string): Check {
  return (raw, parent, key, errors) => {
    const value = coerce(raw);
    if (value !== INVALID) return value;
    errors.add(pathOf(parent, key), `expected ${expected}, got ${describe(raw)}`);
    return undefined;
  };
}

const stringCheck = scalarCheck(asString, 'a string');
// FerretDB on PostgreSQL cannot hold U+0000 in any string: one such value failed the write of a
// whole polled page. Refused here, like a value of the wrong type, so only that record is invalid.
const storableStringCheck: Check = (raw, parent, key, errors) => {
  const value = stringCheck(raw, parent, key, errors);
  if (typeof value !== 'string' || !value.includes('\u0000')) return value;
  errors.add(pathOf(parent, key), 'must not contain the NUL character (U+0000)');
  return undefined;
};

/** Builds our object from a container (a record, an object value, an array element). */
export type Build = (container: Record<string, unknown>, path: string, errors: Errors) => Record<string, unknown>;

export function buildFields(fields: readonly FieldSpec[], fromDraft: boolean): Build {
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
      if (shape.type === 'string') return storableStringCheck;
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

