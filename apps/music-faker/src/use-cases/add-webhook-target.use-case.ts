import { Result } from '@sapphire/result';
import { AppError } from '@music/platform';
import { MAX_TARGETS_PER_EVENT, type FakerState, type WebhookTarget, type WebhookTargetInput } from '../faker-state';

export interface AddWebhookTargetCommand {
  /** The request's namespace. */
  state: FakerState;
  target: WebhookTargetInput;
}

/**
 * `POST /config/targets`: one more target beside the others, so several receivers can listen to one
 * namespace; CONFLICT when the event has MAX_TARGETS_PER_EVENT already.
 */
export class AddWebhookTargetUseCase {
  execute(command: AddWebhookTargetCommand): Result<WebhookTarget, AppError> {
    const { event } = command.target;
    const target = command.state.addTarget(command.target);
    return target ? Result.ok(target) : Result.err(new AppError('CONFLICT', `At most ${MAX_TARGETS_PER_EVENT} ${event} targets; remove one first`));
  }
}
