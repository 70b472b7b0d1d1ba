import type { FakerState } from '../faker-state';
import type { FakerSong } from '../song';
import type { WebhookCaller } from '../webhook-caller';

export interface GenerateSongsCommand {
  /** The request's namespace. */
  state: FakerState;
  count: number;
}

/**
 * `POST /music/generate`: new songs, announced to the namespace's `create` targets. The calls are
 * fire-and-forget: the answer never waits for them.
 */
export class GenerateSongsUseCase {
  constructor(private readonly deps: { webhooks: WebhookCaller }) {}

  execute(command: GenerateSongsCommand): FakerSong[] {
    const songs = command.state.generate(command.count);
    this.deps.webhooks.created(command.state, songs);
    return songs;
  }
}
