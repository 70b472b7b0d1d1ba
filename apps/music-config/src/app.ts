import type { Express } from 'express';
import { resolve } from '@music/platform';
import { CONFIG, configContainer, type ConfigDeps } from './container';

export { CONFIG, configContainer, type ConfigDeps, type ConfigQueues } from './container';

/** The music-config HTTP app, built from its composition root (container.ts). */
export function createConfigApp(deps: ConfigDeps): Express {
  return resolve(configContainer(deps), CONFIG.app);
}
