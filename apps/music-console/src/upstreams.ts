import type { ConsoleConfig } from './config';

/** One API the console forwards to, under `/api/<name>`. */
export interface Upstream {
  /** The path segment after `/api/`. */
  name: 'config' | 'auth' | 'inventory' | 'integration';
  /** The service, for messages (`music-config`). */
  service: string;
  /** Its origin, e.g. `http://127.0.0.1:3000`. */
  url: string;
  /**
   * The only paths forwarded (prefixes, as the upstream serves them): the user-facing API. Its
   * operator endpoints (`/metrics`, `/admin/queues`, `/docs`) are never reachable through the
   * console, which may face the internet.
   */
  paths: string[];
}

/** The four APIs, from the settings. */
export function upstreamsOf(config: ConsoleConfig): Upstream[] {
  return [
    { name: 'config', service: 'music-config', url: config.CONFIG_API_URL, paths: ['/organization'] },
    { name: 'auth', service: 'music-auth', url: config.AUTH_API_URL, paths: ['/auth'] },
    { name: 'inventory', service: 'music-inventory', url: config.INVENTORY_API_URL, paths: ['/inventory'] },
    // An organization's sync history, deliveries and replays (and its sync controls, as they come).
    { name: 'integration', service: 'music-integration', url: config.INTEGRATION_API_URL, paths: ['/organization'] },
  ];
}

// Dot segments (plain or percent-encoded) and backslashes: a path that could be read as another one.
const AMBIGUOUS = /(^|\/)(\.|%2e){1,2}(\/|$)|\\|%5c/i;

/** True when `path` (relative to `/api/<name>`) is one the upstream may be asked for. */
export function isForwarded(upstream: Upstream, path: string): boolean {
  if (AMBIGUOUS.test(path)) return false;
  return upstream.paths.some((prefix) => path === prefix || path.startsWith(`${prefix}/`));
}
