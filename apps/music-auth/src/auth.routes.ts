import { createHash } from 'node:crypto';
import { Router, type Request } from 'express';
import type { User } from '@music/domain';
import { authUser, createJwtGuard, parseInput, sendResult, type RateLimiter } from '@music/platform';
import { signInSchema, signUpSchema } from './auth.schemas';
import { normalizeEmailAddress } from './email';
import type { SignInUseCase } from './sign-in.use-case';
import type { SignUpUseCase } from './sign-up.use-case';

/** One pair of limiters per endpoint: by client IP and by email address. */
export interface EndpointLimits {
  byIp: RateLimiter;
  byEmail: RateLimiter;
}

export interface AuthRouteDeps {
  signUp: SignUpUseCase;
  signIn: SignInUseCase;
  limits: { signUp: EndpointLimits; signIn: EndpointLimits };
  jwtSecret: string;
}

const toApi = (user: User) => ({ id: user.id, email: user.email, createdAt: user.createdAt });

const clientIp = (req: Request): string => req.ip ?? req.socket.remoteAddress ?? 'unknown';

// Counted per mailbox (normalized when valid), hashed so Redis holds no addresses.
function emailKey(raw: string): string {
  const email = normalizeEmailAddress(raw) ?? raw.trim().toLowerCase();
  return createHash('sha256').update(email).digest('hex').slice(0, 32);
}

/** `/auth/sign-up`, `/auth/sign-in` and `/auth/me`. */
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
    const byIp = await deps.limits.signIn.byIp.consume(clientIp(req));
    if (byIp.isErr()) return sendResult(res, byIp);
    const input = parseInput(signInSchema, req.body);
    if (input.isErr()) return sendResult(res, input);
    const byEmail = await deps.limits.signIn.byEmail.consume(emailKey(input.unwrap().email));
    if (byEmail.isErr()) return sendResult(res, byEmail);
    sendResult(res, await deps.signIn.execute(input.unwrap()), 200);
  });

  // Lets a client check its token (and shows the guard every other service uses).
  router.get('/auth/me', createJwtGuard({ secret: deps.jwtSecret }), (req, res) => void res.json(authUser(req)));

  return router;
}
