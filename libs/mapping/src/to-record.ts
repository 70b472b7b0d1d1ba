import type { FieldSpec, Shape } from './field-spec';
import { same } from './draft';
import { compileWriters, isPlainRecord, ownValue, type Writer } from './paths';

// toRecord: our item back to the third party's shape, each field written to its source path.

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
export function writeFields(fields: readonly FieldSpec[], convert: (field: FieldSpec, value: unknown) => unknown = (_f, v) => v) {
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
