import { Router, type Request, type RequestHandler } from 'express';
import type { User } from '@music/domain';
import { authUser, createJwtGuard, jwksOf, parseInput, sendResult, type RateLimiter, type TokenVerification } from '@music/platform';
import { signInSchema, signUpSchema } from './auth.schemas';
import type { SignInUseCase } from './use-cases/sign-in.use-case';
import type { SignUpUseCase } from './use-cases/sign-up.use-case';

export interface AuthRouteDeps {
  signUp: SignUpUseCase;
  signIn: SignInUseCase;
  /** Attempts per client address, counted before the body is read (the use cases hold the per-account limits). */
  perAddress: { signUp: RateLimiter; signIn: RateLimiter };
  /** music-auth's own public key(s), for /auth/me and the published key set. */
  verification: TokenVerification;
}

const toApi = (user: User) => ({ id: user.id, email: user.email, createdAt: user.createdAt });

const clientIp = (req: Request): string => req.ip ?? req.socket.remoteAddress ?? 'unknown';

/** Refuses (429) a client address that used up its attempts, whatever it sends. */
const limitedPerAddress =
  (limiter: RateLimiter): RequestHandler =>
  async (req, res, next) => {
    const allowed = await limiter.consume(clientIp(req));
    if (allowed.isErr()) return sendResult(res, allowed);
    next();
  };

/** `/auth/sign-up`, `/auth/sign-in`, `/auth/me` and `/.well-known/jwks.json`. */
export function authRoutes(deps: AuthRouteDeps): Router {
  const router = Router();

  router.post('/auth/sign-up', limitedPerAddress(deps.perAddress.signUp), async (req, res) => {
    const input = parseInput(signUpSchema, req.body);
    if (input.isErr()) return sendResult(res, input);
    sendResult(res, await deps.signUp.execute(input.unwrap()), 201, toApi);
  });

  router.post('/auth/sign-in', limitedPerAddress(deps.perAddress.signIn), async (req, res) => {
    const input = parseInput(signInSchema, req.body);
    if (input.isErr()) return sendResult(res, input);
    sendResult(res, await deps.signIn.execute({ ...input.unwrap(), address: clientIp(req) }), 200);
  });

  // Lets a client check its token (and shows the guard every other service uses).
  router.get('/auth/me', createJwtGuard(deps.verification), (req, res) => void res.json(authUser(req)));

  // The public keys tokens are signed with, for verifiers outside this system (the apps themselves
  // read them from JWT_PUBLIC_KEYS, so they start in any order and never wait for music-auth).
  router.get('/.well-known/jwks.json', (_req, res) => void res.json(jwksOf(deps.verification)));

  return router;
}
