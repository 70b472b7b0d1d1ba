import { ConfigError } from './config';

/** The message of the ConfigError `run` throws (any other outcome fails the test). */
export function configError(run: () => unknown): string {
  try {
    run();
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error('expected a ConfigError');
}
