import { z } from 'zod';
import { BEARER_AUTH, createApiDocument, errorResponses, type OpenApiDocument } from '@music/platform';
import { signInSchema, signUpSchema } from './auth.schemas';

// Response shapes, for the document only (responses are not validated at run time; the API docs
// test checks real responses against them).
const userSchema = z.object({ id: z.string(), email: z.string(), createdAt: z.string().meta({ format: 'date-time' }) });
const tokenSchema = z.object({ token: z.string(), expiresIn: z.number().int().meta({ description: 'Seconds' }), tokenType: z.literal('Bearer') });

/** music-auth's OpenAPI 3.1 document, built from the zod schemas its routes validate with. */
export function authApiDocument(options: { metrics: boolean }): OpenApiDocument {
  return createApiDocument({
    title: 'music-auth',
    description: 'Users, sign-up and sign-in. The token from sign-in goes in `Authorization: Bearer <token>` on the other apps.',
    metrics: options.metrics,
    paths: {
      '/auth/sign-up': {
        post: {
          tags: ['auth'],
          summary: 'Create a user',
          description: 'Rate limited per client IP and per email address.',
          requestBody: { content: { 'application/json': { schema: signUpSchema, example: { email: 'user@test.com', password: '12345678' } } } },
          responses: { '201': { description: 'Created', content: { 'application/json': { schema: userSchema } } }, ...errorResponses(400, 409, 429) },
        },
      },
      '/auth/sign-in': {
        post: {
          tags: ['auth'],
          summary: 'Sign in: an access token (JWT)',
          description:
            'Returns an RS256 token with `kid`, `iss`, `aud` and `exp`. Limited per client address, per (account, address) pair, and per account: after repeated failures, addresses the account has not signed in from wait between attempts (429 naming the limit); the account’s usual addresses are never slowed.',
          requestBody: { content: { 'application/json': { schema: signInSchema, example: { email: 'user@test.com', password: '12345678' } } } },
          responses: { '200': { description: 'Signed in', content: { 'application/json': { schema: tokenSchema } } }, ...errorResponses(400, 401, 429) },
        },
      },
      '/.well-known/jwks.json': {
        get: {
          tags: ['auth'],
          summary: 'The public keys access tokens are signed with (JSON Web Key Set)',
          description: 'For verifiers outside this system. The apps themselves read the keys from `JWT_PUBLIC_KEYS`.',
          responses: {
            '200': {
              description: 'The key set',
              content: {
                'application/json': {
                  schema: z.object({ keys: z.array(z.object({ kty: z.literal('RSA'), n: z.string(), e: z.string(), kid: z.string(), alg: z.literal('RS256'), use: z.literal('sig') })) }),
                },
              },
            },
          },
        },
      },
      '/auth/me': {
        get: {
          tags: ['auth'],
          summary: 'The user the token belongs to',
          security: BEARER_AUTH,
          responses: { '200': { description: 'The caller', content: { 'application/json': { schema: z.object({ id: z.string(), email: z.string() }) } } }, ...errorResponses(401) },
        },
      },
    },
  });
}
