/** A problem with one of our fields in one record; `path` is our field path (`tracks.1.title`). */
export interface FieldError {
  path: string;
  message: string;
}

/** The result of mapping one third-party record. */
export type MapOutcome =
  | { ok: true; externalId: string; data: Record<string, unknown> }
  | { ok: false; externalId?: string; errors: FieldError[] };

// Enough to explain a record; an array of 100,000 bad elements does not need 100,000 errors.
const MAX_ERRORS_PER_RECORD = 20;

/** The errors of one record, capped. */
export class Errors {
  readonly list: FieldError[] = [];
  add(path: string, message: string): void {
    if (this.list.length < MAX_ERRORS_PER_RECORD) this.list.push({ path, message });
  }
}

