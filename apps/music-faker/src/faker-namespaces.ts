import type { FakerState } from './faker-state';

/** A namespace name: letters, digits, `_`, `-` and `.`, up to 64 characters. */
export const NAMESPACE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Named namespaces one faker holds at most (each is a few small maps in memory). */
export const MAX_NAMESPACES = 1000;

/**
 * The faker's tenants. The default namespace is what the unprefixed routes serve (`/music`,
 * `/config`, `/sync/*`); `/ns/<name>/...` serves a namespace of its own, created
 * on first use, with its own songs, webhook targets, received deliveries and faults. Two
 * organizations pointed at two namespaces never see each other's songs or notifications.
 */
export class FakerNamespaces {
  private readonly named = new Map<string, FakerState>();

  constructor(readonly defaultState: FakerState) {}

  /**
   * The state of namespace `name` (undefined: the default one), created on first use. Undefined
   * when the name is malformed or MAX_NAMESPACES exist already.
   */
  get(name?: string): FakerState | undefined {
    if (name === undefined) return this.defaultState;
    if (!NAMESPACE_PATTERN.test(name)) return undefined;
    let state = this.named.get(name);
    if (!state) {
      if (this.named.size >= MAX_NAMESPACES) return undefined;
      state = this.defaultState.sibling(name);
      this.named.set(name, state);
    }
    return state;
  }

  /** The named namespaces in use. */
  names(): string[] {
    return [...this.named.keys()];
  }

  /** Waits for the webhook calls in flight of every namespace. */
  async whenIdle(): Promise<void> {
    await Promise.all([this.defaultState, ...this.named.values()].map((s) => s.whenIdle()));
  }

  /** The default namespace back to empty, every named one forgotten. */
  reset(): void {
    this.defaultState.reset();
    this.named.clear();
  }
}
