import { z } from 'zod';

// Placeholder contract, replaced by the mapping work: a declarative operation on one field.
export const transformSchema = z.object({ field: z.string(), op: z.string() }).passthrough();
export const transformsSchema = z.array(transformSchema).max(200).default([]);
export type Transform = z.infer<typeof transformSchema>;
