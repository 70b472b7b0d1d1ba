import { Faker, base, en } from '@faker-js/faker';

/** A song as the fake third party stores and serves it. */
export interface FakerSong {
  id: string;
  name: string;
  artist: string;
  album: string;
  genre: string;
  durationSec: number;
  /** Calendar date, `YYYY-MM-DD`. */
  releasedAt: string;
  /** ISO timestamp of the last write on the faker's side. */
  updatedAt: string;
}

/**
 * A record the faker holds: a generated song, or whatever our system pushed to /sync/create
 * (at least an `id`; any other fields are kept as sent).
 */
export type FakerItem = { id: string } & Record<string, unknown>;

// Release dates are drawn relative to a fixed date, not "now", so a seed gives the same songs on
// any day.
const RELEASE_REF_DATE = '2025-01-01T00:00:00.000Z';

/** Draws songs from its own faker instance (never the global one, so instances do not interfere). */
export class SongGenerator {
  private faker: Faker;

  constructor(private readonly seed?: number) {
    this.faker = SongGenerator.create(seed);
  }

  /** Starts the sequence again: with a seed, the same songs (and ids) come out in the same order. */
  restart(): void {
    this.faker = SongGenerator.create(this.seed);
  }

  next(now: Date): FakerSong {
    const f = this.faker;
    return {
      // Drawn from the seeded instance so tests can predict ids.
      id: f.string.uuid(),
      name: f.music.songName(),
      artist: f.music.artist(),
      album: f.music.album(),
      genre: f.music.genre(),
      durationSec: f.number.int({ min: 90, max: 480 }),
      releasedAt: f.date.past({ years: 40, refDate: RELEASE_REF_DATE }).toISOString().slice(0, 10),
      updatedAt: now.toISOString(),
    };
  }

  private static create(seed: number | undefined): Faker {
    const f = new Faker({ locale: [en, base] });
    if (seed !== undefined) f.seed(seed);
    return f;
  }
}
