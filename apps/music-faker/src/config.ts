import { z } from 'zod';
import { baseEnvSchema, parseConfig } from '@music/platform';

export const fakerConfigSchema = baseEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(5000),
  /** Makes generated songs deterministic (tests, demos). */
  FAKER_SEED: z.coerce.number().int().optional(),
});
export type FakerConfig = z.infer<typeof fakerConfigSchema>;

export function loadFakerConfig(env: Record<string, string | undefined>): FakerConfig {
  return parseConfig(fakerConfigSchema, env);
}
