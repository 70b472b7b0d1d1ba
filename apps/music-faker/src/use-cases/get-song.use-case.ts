import { Result } from '@sapphire/result';
import { notFound, type AppError } from '@music/platform';
import type { FakerState } from '../faker-state';
import type { FakerItem } from '../song';

export interface GetSongCommand {
  /** The request's namespace. */
  state: FakerState;
  id: string;
}

/** `GET /music/:id`: one song of the namespace, NOT_FOUND when it holds none with that id. */
export class GetSongUseCase {
  execute(command: GetSongCommand): Result<FakerItem, AppError> {
    const item = command.state.get(command.id);
    return item ? Result.ok(item) : Result.err(notFound('Song'));
  }
}
