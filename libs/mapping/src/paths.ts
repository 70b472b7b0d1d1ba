// Safe access to untrusted objects: only own properties are read, so paths such as `__proto__` or
// `constructor.name` never reach Object.prototype, and writes of `__proto__` create a plain key.

/** A non-null, non-array object. */
export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The own property `key` of `value`, or undefined (never an inherited one). */
export function ownValue(value: unknown, key: string): unknown {
  return typeof value === 'object' && value !== null && Object.hasOwn(value, key)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/** Sets an own property, `__proto__` included (a plain assignment would change the prototype). */
export function setOwn(target: object, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
  } else {
    (target as Record<string, unknown>)[key] = value;
  }
}

/** `parent.key`, or `key` at the root. */
export function pathOf(parent: string, key: string | number): string {
  return parent === '' ? String(key) : `${parent}.${key}`;
}

export type Reader = (root: unknown) => unknown;

/** Compiles a dot path once into a reader that follows own properties only. */
export function compileReader(path: string): Reader {
  const segments = path.split('.');
  if (segments.length === 1) {
    const key = segments[0] as string;
    return (root) => ownValue(root, key);
  }
  return (root) => {
    let current = root;
    for (let i = 0; i < segments.length; i++) {
      current = ownValue(current, segments[i] as string);
      if (current === undefined) return undefined;
    }
    return current;
  };
}

export type Writer = (root: Record<string, unknown>, value: unknown) => void;

/** A segment that names an array slot: containers holding only such keys are created as arrays. */
const ARRAY_INDEX = /^(0|[1-9][0-9]{0,2})$/;

/**
 * Compiles the writers of the dot paths of one scope (a record, or one mapped object): a missing
 * container along a path is created as an array when every path writes numeric slots into it
 * (`tracks.0.title`, `tracks.1.title`), as an object otherwise.
 */
export function compileWriters(paths: readonly string[]): Writer[] {
  const split = paths.map((p) => p.split('.'));
  const children = new Map<string, Set<string>>();
  for (const segments of split) {
    for (let i = 1; i < segments.length; i++) {
      const prefix = segments.slice(0, i).join('.');
      let set = children.get(prefix);
      if (!set) children.set(prefix, (set = new Set()));
      set.add(segments[i] as string);
    }
  }
  return split.map((segments) => {
    const createArray = segments.slice(0, -1).map((_, i) => {
      const keys = children.get(segments.slice(0, i + 1).join('.')) ?? new Set<string>();
      return [...keys].every((k) => ARRAY_INDEX.test(k));
    });
    const last = segments[segments.length - 1] as string;
    if (segments.length === 1) return (root, value) => setOwn(root, last, value);
    return (root, value) => {
      let container: object = root;
      for (let i = 0; i < createArray.length; i++) {
        const key = segments[i] as string;
        let next = ownValue(container, key);
        if (typeof next !== 'object' || next === null) {
          next = createArray[i] ? [] : {};
          setOwn(container, key, next);
        }
        container = next as object;
      }
      setOwn(container, last, value);
    };
  });
}

/** True when one path equals another or is a prefix of it: writing both cannot round-trip. */
export function pathsOverlap(paths: readonly string[]): boolean {
  for (let i = 0; i < paths.length; i++) {
    for (let j = 0; j < paths.length; j++) {
      if (i === j) continue;
      const a = paths[i] as string;
      const b = paths[j] as string;
      if (a === b || b.startsWith(`${a}.`)) return true;
    }
  }
  return false;
}
