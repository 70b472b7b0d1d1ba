import { z } from 'zod';

/** A person who signs in; their password is kept only as a hash, beside the user in the store. */
export const userSchema = z.object({
  id: z.string(),
  email: z.string(),
  createdAt: z.date(),
});
export type User = z.infer<typeof userSchema>;
