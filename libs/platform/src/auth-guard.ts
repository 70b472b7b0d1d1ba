import type { Request, RequestHandler } from 'express';
import jwt from 'jsonwebtoken';
import { Passport } from 'passport';
import { ExtractJwt, Strategy as JwtStrategy, type VerifiedCallback } from 'passport-jwt';
import { AppError } from './errors';

/** The authenticated caller, as the JWT guard puts it on `req.user`. */
export interface AuthUser {
  id: string;
  email: string;
}

declare global {
  namespace Express {
    // passport declares `req.user?: User`; ours always carries the id and email from the token.
    interface User extends AuthUser {}
  }
}

// Pinned: a token claiming any other algorithm (including `none`) is refused.
const ALGORITHM = 'HS256' as const;

/** Issues an HS256 access token for `user` (`sub` = user id, `email` claim). */
export function signAccessToken(
  user: AuthUser,
  opts: { secret: string; expiresInSeconds: number },
): { token: string; expiresIn: number } {
  const token = jwt.sign({ email: user.email }, opts.secret, {
    algorithm: ALGORITHM,
    subject: user.id,
    expiresIn: opts.expiresInSeconds,
  });
  return { token, expiresIn: opts.expiresInSeconds };
}

interface TokenClaims {
  sub?: unknown;
  email?: unknown;
}

// jsonwebtoken's documented error names (compared by name: passport-jwt may load its own copy).
function messageFor(info: unknown): string {
  const name = info instanceof Error ? info.name : undefined;
  if (name === 'TokenExpiredError') return 'Token expired';
  if (name === 'NotBeforeError') return 'Token not yet valid';
  return 'Invalid token';
}

function unauthorized(message: string, res: Parameters<RequestHandler>[1], invalidToken: boolean): AppError {
  // RFC 6750: tell the client which scheme to use, and that the token itself was the problem.
  res.setHeader('www-authenticate', invalidToken ? `Bearer error="invalid_token", error_description="${message}"` : 'Bearer');
  return new AppError('UNAUTHORIZED', message);
}

/**
 * Express middleware that requires `Authorization: Bearer <jwt>` (only the `Bearer` scheme: the
 * brief's `Beare` is a typo) signed with `secret` using HS256. On success `req.user` is the
 * AuthUser; otherwise the request ends with a 401 UNAUTHORIZED envelope saying what was wrong.
 * Each guard has its own passport instance, so nothing depends on the global passport singleton.
 */
export function createJwtGuard(opts: { secret: string }): RequestHandler {
  const extractToken = ExtractJwt.fromAuthHeaderAsBearerToken();
  const passport = new Passport();
  passport.use(
    'jwt',
    new JwtStrategy(
      { jwtFromRequest: extractToken, secretOrKey: opts.secret, algorithms: [ALGORITHM] },
      (claims: TokenClaims, done: VerifiedCallback) => {
        if (typeof claims.sub !== 'string' || claims.sub.length === 0 || typeof claims.email !== 'string') {
          return done(null, false, new Error('token lacks the sub or email claim'));
        }
        const user: AuthUser = { id: claims.sub, email: claims.email };
        return done(null, user);
      },
    ),
  );

  return (req, res, next) => {
    // Checked before passport so the message can tell "no token" from "wrong scheme".
    if (!extractToken(req)) {
      const header = req.header('authorization');
      const message = header ? 'Authorization header must be "Bearer <token>"' : 'Missing bearer token';
      return next(unauthorized(message, res, false));
    }
    const authenticate = passport.authenticate('jwt', { session: false }, (error: unknown, user: AuthUser | false, info: unknown) => {
      if (error) return next(error);
      if (!user) return next(unauthorized(messageFor(info), res, true));
      req.user = user;
      next();
    }) as RequestHandler;
    authenticate(req, res, next);
  };
}

/** The caller the JWT guard authenticated. Throws (a bug) when the route is not behind the guard. */
export function authUser(req: Request): AuthUser {
  const user = req.user;
  if (!user) throw new Error('authUser() called on a route without the JWT guard');
  return { id: user.id, email: user.email };
}
