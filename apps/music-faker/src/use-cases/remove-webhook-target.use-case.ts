import { Result } from '@sapphire/result';
import { notFound, type AppError } from '@music/platform';
import type { FakerState } from '../faker-state';

export interface RemoveWebhookTargetCommand {
  /** The request's namespace. */
  state: FakerState;
  targetId: string;
}

/** `DELETE /config/targets/:targetId`: the others stay; NOT_FOUND when the namespace has no such target. */
export class RemoveWebhookTargetUseCase {
  execute(command: RemoveWebhookTargetCommand): Result<void, AppError> {
    return command.state.removeTarget(command.targetId) ? Result.ok(undefined) : Result.err(notFound('Webhook target'));
  }
}
