import type { Express } from 'express';
import { match } from 'path-to-regexp';

/** One route an Express app serves: upper-case method and the full path pattern (`/organization/:id`). */
export interface RouteEntry {
  method: string;
  path: string;
}

// The parts of Express 5's router (router 2.x) read here. `rawPath` is the path a layer was
// registered with; it is not documented API, so listRoutes() is covered by a test that fails
// loudly if a router upgrade changes it.
interface LayerLike {
  rawPath?: string | RegExp | Array<string | RegExp>;
  route?: { path: string | string[]; methods: Record<string, boolean> };
  handle?: { stack?: LayerLike[] };
}

const joinPath = (prefix: string, path: string): string => {
  const joined = `${prefix}${path === '/' && prefix !== '' ? '' : path}`;
  return joined === '' ? '/' : joined;
};

function walk(stack: LayerLike[], prefix: string, out: RouteEntry[], mounts: string[] = []): void {
  for (const layer of stack) {
    if (layer.route) {
      const paths = Array.isArray(layer.route.path) ? layer.route.path : [layer.route.path];
      for (const method of Object.keys(layer.route.methods)) {
        if (method === '_all') continue;
        for (const path of paths) out.push({ method: method.toUpperCase(), path: joinPath(prefix, path) });
      }
    } else if (layer.handle?.stack) {
      // A mounted Router; its mount path is a plain string in our apps (no params, no regexps).
      const raw = Array.isArray(layer.rawPath) ? layer.rawPath[0] : layer.rawPath;
      const mount = typeof raw === 'string' && raw !== '/' ? raw.replace(/\/$/, '') : '';
      walk(layer.handle.stack, `${prefix}${mount}`, out, mounts);
    } else if (typeof layer.rawPath === 'string' && layer.rawPath !== '/') {
      // Middleware or a sub-app mounted under a path (a guard, Swagger UI, Bull Board).
      mounts.push(`${prefix}${layer.rawPath.replace(/\/$/, '')}`);
    }
  }
}

/**
 * Every route of an app, in the order Express tries them: routes added with `app.get(...)` and
 * those of Routers mounted with `app.use(path?, router)`. Mounted sub-apps (Swagger UI, Bull Board)
 * are not listed: they are not part of the API.
 */
export function listRoutes(app: Express): RouteEntry[] {
  const out: RouteEntry[] = [];
  walk((app.router as unknown as { stack: LayerLike[] }).stack, '', out);
  return out;
}

/** Express path syntax to OpenAPI's: `/organization/:id` -> `/organization/{id}`. */
export function toOpenApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/**
 * A function naming the route pattern a request path belongs to (the first route of the app that
 * matches, as Express would pick it; else `<mount>/*` for a path under a mounted sub-app or
 * guard), or null. Built once from the app's routes on first use, so
 * routes added after the matcher is created are seen. Used for metric labels: a pattern, never
 * the raw URL, so ids do not multiply the series.
 */
export function routePatternMatcher(app: Express): (method: string, path: string) => string | null {
  type Matcher = { method: string; path: string; matches: (path: string) => boolean };
  let table: { routes: Matcher[]; mounts: Matcher[] } | null = null;
  const build = (): { routes: Matcher[]; mounts: Matcher[] } => {
    const routes: RouteEntry[] = [];
    const mounts: string[] = [];
    walk((app.router as unknown as { stack: LayerLike[] }).stack, '', routes, mounts);
    return {
      routes: routes.map((r) => {
        const fn = match(r.path, { decode: false });
        return { ...r, matches: (p: string) => fn(p) !== false };
      }),
      mounts: [...new Set(mounts)].map((m) => {
        const fn = match(m, { decode: false, end: false });
        return { method: '*', path: `${m}/*`, matches: (p: string) => fn(p) !== false };
      }),
    };
  };
  return (method, path) => {
    table ??= build();
    const wanted = method === 'HEAD' ? 'GET' : method;
    for (const route of table.routes) if (route.method === wanted && route.matches(path)) return route.path;
    // Another method on a known path (answered 404 by the app): still a known route.
    for (const route of table.routes) if (route.matches(path)) return route.path;
    // Under a mounted sub-app or guard: one series per mount, whatever lies below it.
    for (const mount of table.mounts) if (mount.matches(path)) return mount.path;
    return null;
  };
}
