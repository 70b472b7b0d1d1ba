import type { Request, RequestHandler } from 'express';
import jwt from 'jsonwebtoken';
import { Passport } from 'passport';
import { ExtractJwt, Strategy as JwtStrategy, type SecretOrKeyProvider, type VerifiedCallback } from 'passport-jwt';
import { AppError } from './errors';
import type { TokenIssuing, TokenVerification } from './token-keys';

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

// Pinned: a token claiming any other algorithm (`none`, an HMAC one signed with the public key...)
// is refused. RS256 rather than EdDSA: passport-jwt verifies with jsonwebtoken, which has no EdDSA.
const ALGORITHM = 'RS256' as const;
// Clock difference tolerated between music-auth and the app checking a token.
const CLOCK_TOLERANCE_SECONDS = 30;

/** Issues an access token for `user`: RS256 with `kid`, `sub` = user id, `email`, `iss`, `aud`, `iat`, `exp`. */
export function signAccessToken(user: AuthUser, issuing: TokenIssuing): { token: string; expiresIn: number } {
  const token = jwt.sign({ email: user.email }, issuing.privateKey, {
    algorithm: ALGORITHM,
    keyid: issuing.kid,
    subject: user.id,
    issuer: issuing.issuer,
    audience: issuing.audience,
    expiresIn: issuing.expiresInSeconds,
  });
  return { token, expiresIn: issuing.expiresInSeconds };
}

interface TokenClaims {
  sub?: unknown;
  email?: unknown;
  iat?: unknown;
  exp?: unknown;
}

/** Why a signed token's claims are not acceptable, or null. */
function claimsProblem(claims: TokenClaims, maxLifetimeSeconds: number): string | null {
  if (typeof claims.sub !== 'string' || claims.sub.length === 0 || typeof claims.email !== 'string') return 'token lacks the sub or email claim';
  // jsonwebtoken accepts a token without `exp` as one that never expires: ours always expire.
  if (typeof claims.exp !== 'number' || typeof claims.iat !== 'number') return 'token lacks exp or iat';
  if (claims.exp - claims.iat > maxLifetimeSeconds + CLOCK_TOLERANCE_SECONDS) return 'token lifetime exceeds the maximum';
  if (claims.iat > Date.now() / 1000 + CLOCK_TOLERANCE_SECONDS) return 'token issued in the future';
  return null;
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

/** The public key named by the token's `kid`; a token without one, or naming no key we hold, fails. */
function keyByKid(verification: TokenVerification): SecretOrKeyProvider {
  return (_req, rawToken, done) => {
    const decoded = jwt.decode(rawToken as string, { complete: true });
    const kid = decoded?.header.kid;
    const key = kid === undefined ? undefined : verification.keys.get(kid);
    if (!key) return done(new Error('unknown or missing key id'));
    // passport-jwt's typing predates KeyObject; jsonwebtoken verifies with one as is.
    done(null, key as unknown as string);
  };
}

/**
 * Express middleware that requires `Authorization: Bearer <jwt>` (only the `Bearer` scheme; a
 * misspelt one such as `Beare` is refused): a passport-jwt strategy checks the RS256 signature with the public key
 * the token's `kid` names, `iss`, `aud` and `exp`, then that the token carries `exp` and `iat` at
 * most the configured maximum lifetime apart. On success `req.user` is the AuthUser; otherwise a 401
 * UNAUTHORIZED envelope says what was wrong. Each guard has its own passport instance.
 */
export function createJwtGuard(verification: TokenVerification): RequestHandler {
  const extractToken = ExtractJwt.fromAuthHeaderAsBearerToken();
  const passport = new Passport();
  passport.use(
    'jwt',
    new JwtStrategy(
      {
        jwtFromRequest: extractToken,
        secretOrKeyProvider: keyByKid(verification),
        algorithms: [ALGORITHM],
        issuer: verification.issuer,
        audience: verification.audience,
        jsonWebTokenOptions: { clockTolerance: CLOCK_TOLERANCE_SECONDS },
      },
      (claims: TokenClaims, done: VerifiedCallback) => {
        const problem = claimsProblem(claims, verification.maxLifetimeSeconds);
        if (problem) return done(null, false, new Error(problem));
        const user: AuthUser = { id: claims.sub as string, email: claims.email as string };
        return done(null, user);
      },
    ),
  );

  return (req, res, next) => {
    const authenticate = passport.authenticate('jwt', { session: false }, (error: unknown, user: AuthUser | false, info: unknown) => {
      if (error) return next(error);
      if (user) {
        req.user = user;
        return next();
      }
      // No bearer token at all: tell a missing header from a wrong scheme (such as `Beare`).
      if (!extractToken(req)) {
        const message = req.header('authorization') ? 'Authorization header must be "Bearer <token>"' : 'Missing bearer token';
        return next(unauthorized(message, res, false));
      }
      next(unauthorized(messageFor(info), res, true));
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
