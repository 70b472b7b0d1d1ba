import type { Router } from 'express';
import { z } from 'zod';
import { parseInput, sendResult } from '@music/platform';
import { faultGate } from './fault-gate';
import { stateOf } from './namespace-state';
import { parseMusicPage, updatedSinceFilter } from './pagination';
import type { DeleteSongUseCase } from './use-cases/delete-song.use-case';
import type { GenerateSongsUseCase } from './use-cases/generate-songs.use-case';
import type { GetSongUseCase } from './use-cases/get-song.use-case';
import type { ListSongsUseCase } from './use-cases/list-songs.use-case';
import { webhookConfigRoutes, type WebhookConfigUseCases } from './webhook-config.routes';

export const generateSchema = z.object({ count: z.number().int().min(1).max(100) });

const idParam = z.object({ id: z.string().min(1).max(256) });

/** The use cases behind /music, one per route. */
export interface MusicUseCases {
  generateSongs: GenerateSongsUseCase;
  listSongs: ListSongsUseCase;
  getSong: GetSongUseCase;
  deleteSong: DeleteSongUseCase;
}

export interface MusicRoutesOptions {
  /** Serve generate and the webhook config (FAKER_CONTROL_ENDPOINTS). */
  control: boolean;
}

/** /music/*, and the webhook config at /config (served at both /config and /music/config). */
export function musicRoutes(router: Router, use: MusicUseCases & WebhookConfigUseCases, options: MusicRoutesOptions): void {
  if (options.control) {
    router.post('/music/generate', (req, res) => {
      const state = stateOf(res);
      // The create webhooks are called in the background: the answer does not wait for them.
      sendResult(res, parseInput(generateSchema, req.body).map(({ count }) => use.generateSongs.execute({ state, count })), 201);
    });
  }

  // Every answer carries an ETag (Express: a hash of the body) and, once the list has been still for
  // a second, a Last-Modified; If-None-Match / If-Modified-Since are answered 304 when they match.
  router.get('/music', faultGate('music'), (req, res) => {
    const state = stateOf(res);
    const where = updatedSinceFilter(req.query);
    const result = parseMusicPage(req.query).map((page) => use.listSongs.execute({ state, page, where }));
    result.inspect(({ lastModified }) => {
      if (lastModified) res.setHeader('last-modified', lastModified.toUTCString());
    });
    sendResult(res, result, 200, (list) => list.body);
  });

  // Before /music/:id, so /music/config is not taken for a song id.
  if (options.control) webhookConfigRoutes(router, use);

  router.get('/music/:id', (req, res) => {
    const state = stateOf(res);
    sendResult(res, parseInput(idParam, req.params, 'Params').andThen(({ id }) => use.getSong.execute({ state, id })));
  });

  router.delete('/music/:id', (req, res) => {
    const state = stateOf(res);
    sendResult(res, parseInput(idParam, req.params, 'Params').andThen(({ id }) => use.deleteSong.execute({ state, id })));
  });
}
