import type { FakerState } from '../faker-state';
import { encodeCursor, type MusicPage } from '../pagination';
import type { FakerItem } from '../song';

export interface ListSongsCommand {
  /** The request's namespace. */
  state: FakerState;
  page: MusicPage;
  /** Which songs the list holds (`updatedSince`). */
  where: (item: FakerItem) => boolean;
}

export interface SongList {
  /** A plain array (whole list or a slice), or a cursor page. */
  body: FakerItem[] | { items: FakerItem[]; nextCursor: string | null };
  /** The list's `Last-Modified`, once it has not changed for a second; null before. */
  lastModified: Date | null;
}

/**
 * `GET /music`: the namespace's songs, whole, as a slice (page/offset) or a cursor page. HTTP dates
 * have whole seconds, so a change later in the same second as the last one would look older:
 * `lastModified` is given only once the list has been still for a second.
 */
export class ListSongsUseCase {
  execute(command: ListSongsCommand): SongList {
    const { state, page, where } = command;
    const body = songsOf(state, page, where);
    const changedAt = state.listChangedAt.getTime();
    const lastModified = Date.now() - changedAt >= 1000 ? new Date(Math.floor(changedAt / 1000) * 1000) : null;
    return { body, lastModified };
  }
}

function songsOf(state: FakerState, page: MusicPage, where: (item: FakerItem) => boolean): SongList['body'] {
  switch (page.mode) {
    case 'all':
      return state.list().filter(where);
    case 'slice':
      return state.list().filter(where).slice(page.offset, page.offset + page.limit);
    case 'cursor': {
      const { items, lastSeq } = state.itemsAfter(page.afterSeq, page.limit, where);
      return { items, nextCursor: lastSeq === null ? null : encodeCursor(lastSeq) };
    }
    default: {
      const unreachable: never = page;
      throw new Error(`unknown page mode ${JSON.stringify(unreachable)}`);
    }
  }
}
