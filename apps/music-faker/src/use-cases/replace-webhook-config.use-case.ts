import type { FakerState, WebhookConfig, WebhookTargetInput } from '../faker-state';

/** One entry of a list: a URL, or `{ url, secret }`. */
type TargetEntry = string | Omit<WebhookTargetInput, 'event'>;

export interface ReplaceWebhookConfigCommand {
  /** The request's namespace. */
  state: FakerState;
  config: { create: TargetEntry[]; remove: TargetEntry[] };
}

/** `PUT /config`: every target of the namespace replaced by these lists; answers the new config. */
export class ReplaceWebhookConfigUseCase {
  execute(command: ReplaceWebhookConfigCommand): WebhookConfig {
    command.state.setWebhookConfig(command.config);
    return command.state.webhookConfig;
  }
}
