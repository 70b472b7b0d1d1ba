import type { FakerState, WebhookConfig } from '../faker-state';

/** `GET /config`: the URLs the namespace calls per event. */
export class GetWebhookConfigUseCase {
  execute(command: { state: FakerState }): WebhookConfig {
    return command.state.webhookConfig;
  }
}
