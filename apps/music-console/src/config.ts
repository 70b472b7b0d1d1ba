import { z } from 'zod';
import { baseEnvSchema, parseConfig } from '@music/platform';

const upstreamUrl = z
  .string()
  .regex(/^https?:\/\/[^/?#]+\/?$/, 'must be an http(s) origin, such as http://127.0.0.1:3000')
  .transform((url) => url.replace(/\/$/, ''));

export const consoleConfigSchema = baseEnvSchema.extend({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  /** Where the console forwards `/api/<service>/...`: the four APIs it serves on its own origin. */
  CONFIG_API_URL: upstreamUrl.default('http://127.0.0.1:3000'),
  AUTH_API_URL: upstreamUrl.default('http://127.0.0.1:3001'),
  INVENTORY_API_URL: upstreamUrl.default('http://127.0.0.1:3002'),
  INTEGRATION_API_URL: upstreamUrl.default('http://127.0.0.1:3003'),
});
export type ConsoleConfig = z.infer<typeof consoleConfigSchema>;

/** Reads this app's settings once, at start-up. */
export function loadConsoleConfig(env: Record<string, string | undefined>): ConsoleConfig {
  return parseConfig(consoleConfigSchema, env);
}
