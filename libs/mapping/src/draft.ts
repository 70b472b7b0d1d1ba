import type { Transform } from '@music/domain';
import type { Shape } from './field-spec';
import type { Errors } from './outcome';
import { compileReader, isPlainRecord, ownValue, pathOf, setOwn } from './paths';
import { FAILED, OpFailure, type OpFn } from './transform-ops';

// Transforms run on a draft: the record's values under our field names, before any type check, so
// that they can fix the third party's shapes (a "215" string, a "a,b" list) before the checks.

type Extract = (raw: unknown) => unknown;
export const same: Extract = (raw) => raw;

/** Reads a field's value into the draft: renamed to our names, not yet checked. */
export function compileExtract(shape: Shape): Extract {
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

export interface Step {
  op: Transform['op'];
  segments: string[];
  throughArray: boolean[];
  apply: OpFn;
}

/**
 * Runs one step on the draft. Only containers the draft made itself are entered (a third-party
 * object is never written to). With `errors` null (outbound), a failing op leaves the value as it is.
 */
export function runStep(step: Step, container: Record<string, unknown>, depth: number, path: string, root: Record<string, unknown>, errors: Errors | null): void {
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

/** A copy of the mapped part of our item, for outbound transforms to change without touching it. */
export function compileCopy(shape: Shape): (value: unknown) => unknown {
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

