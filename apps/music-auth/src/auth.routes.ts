import { createHash } from 'node:crypto';
import { Router, type Request } from 'express';
import type { User } from '@music/domain';
import { authUser, createJwtGuard, jwksOf, parseInput, sendResult, type RateLimiter, type TokenVerification } from '@music/platform';
import { signInSchema, signUpSchema } from './auth.schemas';
import { normalizeEmailAddress } from './email';
import type { SignInGuard } from './sign-in-guard';
import type { SignInUseCase } from './sign-in.use-case';
import type { SignUpUseCase } from './sign-up.use-case';

export interface AuthRouteDeps {
  signUp: SignUpUseCase;
  signIn: SignInUseCase;
  limits: {
    /** Sign-ups by client address and by email address. */
    signUp: { byIp: RateLimiter; byEmail: RateLimiter };
    /** Sign-ins by client address, then per (account, address) and per account (SignInGuard). */
    signIn: { byIp: RateLimiter; guard: SignInGuard };
  };
  /** music-auth's own public key(s), for /auth/me and the published key set. */
  verification: TokenVerification;
}

const toApi = (user: User) => ({ id: user.id, email: user.email, createdAt: user.createdAt });

const clientIp = (req: Request): string => req.ip ?? req.socket.remoteAddress ?? 'unknown';

// Counted per mailbox (normalized when valid), hashed so Redis holds no addresses.
function emailKey(raw: string): string {
  const email = normalizeEmailAddress(raw) ?? raw.trim().toLowerCase();
  return createHash('sha256').update(email).digest('hex').slice(0, 32);
}

/** `/auth/sign-up`, `/auth/sign-in`, `/auth/me` and `/.well-known/jwks.json`. */
export function authRoutes(deps: AuthRouteDeps): Router {
  const router = Router();

  router.post('/auth/sign-up', async (req, res) => {
    const byIp = await deps.limits.signUp.byIp.consume(clientIp(req));
    if (byIp.isErr()) return sendResult(res, byIp);
    const input = parseInput(signUpSchema, req.body);
    if (input.isErr()) return sendResult(res, input);
    const byEmail = await deps.limits.signUp.byEmail.consume(emailKey(input.unwrap().email));
    if (byEmail.isErr()) return sendResult(res, byEmail);
    sendResult(res, await deps.signUp.execute(input.unwrap()), 201, toApi);
  });

  router.post('/auth/sign-in', async (req, res) => {
    const address = clientIp(req);
    const byIp = await deps.limits.signIn.byIp.consume(address);
    if (byIp.isErr()) return sendResult(res, byIp);
    const input = parseInput(signInSchema, req.body);
    if (input.isErr()) return sendResult(res, input);
    const account = emailKey(input.unwrap().email);
    const { guard } = deps.limits.signIn;
    const admitted = await guard.admit(account, address);
    if (admitted.isErr()) return sendResult(res, admitted);
    const result = await deps.signIn.execute(input.unwrap());
    await (result.isOk() ? guard.succeeded(account, address) : guard.failed(account, address));
    sendResult(res, result, 200);
  });

  // Lets a client check its token (and shows the guard every other service uses).
  router.get('/auth/me', createJwtGuard(deps.verification), (req, res) => void res.json(authUser(req)));

  // The public keys tokens are signed with, for verifiers outside this system (the apps themselves
  // read them from JWT_PUBLIC_KEYS, so they start in any order and never wait for music-auth).
  router.get('/.well-known/jwks.json', (_req, res) => void res.json(jwksOf(deps.verification)));

  return router;
}
