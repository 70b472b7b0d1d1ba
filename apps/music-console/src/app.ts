import type { Express } from 'express';
import { resolve } from '@music/platform';
import { CONSOLE, consoleContainer, type ConsoleDeps } from './container';

export { CONSOLE, consoleContainer, PUBLIC_DIR, type ConsoleDeps } from './container';

/** The music-console HTTP app (its pages and the forwarding of `/api/...`), built from its composition root (container.ts). */
export function createConsoleApp(deps: ConsoleDeps): Express {
  return resolve(consoleContainer(deps), CONSOLE.app);
}
