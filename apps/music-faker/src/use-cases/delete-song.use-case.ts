import { Result } from '@sapphire/result';
import { notFound, type AppError } from '@music/platform';
import type { FakerState } from '../faker-state';
import type { FakerItem } from '../song';
import type { WebhookCaller } from '../webhook-caller';

export interface DeleteSongCommand {
  /** The request's namespace. */
  state: FakerState;
  id: string;
}

/**
 * `DELETE /music/:id`: removes the song and announces it to the namespace's `remove` targets
 * (fire-and-forget: the answer never waits for it); NOT_FOUND when there was none.
 */
export class DeleteSongUseCase {
  constructor(private readonly deps: { webhooks: WebhookCaller }) {}

  execute(command: DeleteSongCommand): Result<FakerItem, AppError> {
    const item = command.state.remove(command.id);
    if (!item) return Result.err(notFound('Song'));
    this.deps.webhooks.removed(command.state, item);
    return Result.ok(item);
  }
}
