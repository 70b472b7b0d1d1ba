import { z } from 'zod';
import { normalizeEmailAddress } from './email';

// bcrypt reads only the first 72 bytes of a password: anything longer would be silently cut.
export const MAX_PASSWORD_BYTES = 72;

const emailField = z.string().transform((raw, ctx) => {
  const email = normalizeEmailAddress(raw);
  if (email === null) {
    ctx.addIssue({ code: 'custom', message: 'must be a valid email address' });
    return z.NEVER;
  }
  return email;
});

/** `POST /auth/sign-up` body; the email comes out normalized. */
export const signUpSchema = z
  .object({
    email: emailField,
    password: z
      .string()
      .min(8, 'must be at least 8 characters')
      .max(72, 'must be at most 72 characters')
      .refine((p) => p.length > 72 || Buffer.byteLength(p, 'utf8') <= MAX_PASSWORD_BYTES, `must be at most ${MAX_PASSWORD_BYTES} bytes in UTF-8`),
  })
  .strict();
export type SignUpInput = z.infer<typeof signUpSchema>;

/** `POST /auth/sign-in` body: only shape and size are checked here; a wrong value is a 401. */
export const signInSchema = z
  .object({
    email: z.string().min(1).max(320),
    password: z.string().min(1).max(1024),
  })
  .strict();
export type SignInInput = z.infer<typeof signInSchema>;
