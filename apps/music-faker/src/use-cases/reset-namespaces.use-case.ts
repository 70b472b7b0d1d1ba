import type { FakerNamespaces } from '../faker-namespaces';
import type { FakerState } from '../faker-state';

export interface ResetNamespacesCommand {
  /** The request's namespace. */
  state: FakerState;
  /** True under /ns/<name>; false for the default namespace (the unprefixed routes). */
  named: boolean;
}

/**
 * `POST /_reset` (test-only): unprefixed, the default namespace emptied and every named one
 * forgotten; under /ns/<name>, that namespace emptied. Webhook calls already in flight finish first,
 * so they do not land in the fresh logs.
 */
export class ResetNamespacesUseCase {
  constructor(private readonly deps: { namespaces: FakerNamespaces }) {}

  async execute(command: ResetNamespacesCommand): Promise<void> {
    if (!command.named) {
      await this.deps.namespaces.whenIdle();
      this.deps.namespaces.reset();
    } else {
      await command.state.whenIdle();
      command.state.reset();
    }
  }
}
