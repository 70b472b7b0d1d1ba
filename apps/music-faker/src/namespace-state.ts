import type { RequestHandler, Response } from 'express';
import { AppError } from '@music/platform';
import { MAX_NAMESPACES, NAMESPACE_PATTERN, type FakerNamespaces } from './faker-namespaces';
import type { FakerState } from './faker-state';

const STATE = 'fakerState';
const NAMED = 'fakerNamespaceNamed';

/** Puts the state of the request's namespace (`/ns/:namespace/...`, else the default one) on `res.locals`. */
export function selectNamespace(namespaces: FakerNamespaces): RequestHandler {
  return (req, res, next) => {
    const raw: unknown = (req.params as Record<string, unknown>)['namespace'];
    const name = typeof raw === 'string' ? raw : undefined;
    const state = namespaces.get(name);
    if (!state) {
      const message = name !== undefined && !NAMESPACE_PATTERN.test(name)
        ? 'A namespace is 1-64 letters, digits, "_", "-" or "." (starting with a letter or digit)'
        : `At most ${MAX_NAMESPACES} namespaces; POST /_reset forgets them`;
      return next(new AppError('VALIDATION_FAILED', message, [{ path: 'namespace', message }]));
    }
    res.locals[STATE] = state;
    res.locals[NAMED] = name !== undefined;
    next();
  };
}

/** The state `selectNamespace` chose for this request. */
export function stateOf(res: Response): FakerState {
  return res.locals[STATE] as FakerState;
}

/** True when the request is under /ns/<name>, false for the default namespace. */
export function isNamedNamespace(res: Response): boolean {
  return res.locals[NAMED] === true;
}
