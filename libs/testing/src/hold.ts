import { Gate } from './gate';

/**
 * One step of the engine held from outside: armed by `holdNext`, the next call of `pass` (made by
 * the wrapped dependency) waits until `letGo`; `reached` settles once that call arrived. A spec
 * stretches the moment between two steps, as a slow store or a busy process does.
 */
export class HeldStep {
  private armed = false;
  private readonly gate = new Gate();
  reached: Promise<void> = Promise.resolve();
  private reachedNow: () => void = () => undefined;

  holdNext(): void {
    this.armed = true;
    this.gate.close();
    this.reached = new Promise((resolve) => (this.reachedNow = resolve));
  }

  letGo(): void {
    this.gate.open();
  }

  /** Waits when armed (once), else goes on at once. */
  async pass(): Promise<void> {
    if (!this.armed) return;
    this.armed = false;
    this.reachedNow();
    await this.gate.wait();
  }
}

/** `target` with one method replaced (the rest, bound to the real object, answer as usual). */
export function replacing<T extends object>(target: T, method: string, replacement: (real: (...args: unknown[]) => unknown, ...args: unknown[]) => unknown): T {
  return new Proxy(target, {
    get(t, prop) {
      const value: unknown = Reflect.get(t, prop, t);
      if (prop === method) return (...args: unknown[]) => replacement((value as (...a: unknown[]) => unknown).bind(t), ...args);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
    },
  });
}

/** `target` whose `method` answers as usual, then waits at `step` (when armed) before its caller has the answer. */
export function holdingAfter<T extends object>(target: T, method: keyof T & string, step: HeldStep): T {
  return replacing(target, method, async (real, ...args) => {
    const answer = await real(...args);
    await step.pass();
    return answer;
  });
}
