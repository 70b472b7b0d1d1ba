import type { Express } from 'express';
import { resolve } from '@music/platform';
import { AUTH, authContainer, type AuthDeps } from './container';

export { AUTH, authContainer, type AuthDeps } from './container';

/** The music-auth HTTP app, built from its composition root (container.ts). */
export function createAuthApp(deps: AuthDeps): Express {
  return resolve(authContainer(deps), AUTH.app);
}
