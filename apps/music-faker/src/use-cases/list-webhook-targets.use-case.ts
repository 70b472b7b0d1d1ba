import type { FakerState, WebhookTarget } from '../faker-state';

/** `GET /config/targets`: every target of the namespace (the route never shows their secrets). */
export class ListWebhookTargetsUseCase {
  execute(command: { state: FakerState }): WebhookTarget[] {
    return command.state.webhookTargets;
  }
}
