import type { RequestHandler } from 'express';

/** One link of a service's index page. */
export interface ServiceLink {
  /** A path on the same service (`/docs`) or an absolute URL. */
  href: string;
  label: string;
}

/** What `GET /` on a service says: what it is and where to go next. */
export interface ServiceIndex {
  /** The service's name, e.g. `music-config`. */
  service: string;
  /** One sentence: what this service does. */
  description: string;
  links: ServiceLink[];
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);

/** The index as a small self-contained HTML page (no script, no external asset). */
export function renderServiceIndex(index: ServiceIndex): string {
  const links = index.links.map((l) => `<li><a href="${escapeHtml(l.href)}">${escapeHtml(l.label)}</a> <code>${escapeHtml(l.href)}</code></li>`).join('\n      ');
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>${escapeHtml(index.service)}</title>
    <style>
      body { font: 16px/1.5 system-ui, sans-serif; margin: 2rem auto; max-width: 40rem; padding: 0 1rem; color: #1a1a1a; background: #fff; }
      h1 { font-size: 1.5rem; margin-bottom: 0.25rem; }
      a { color: #0b57d0; }
      code { color: #444; font-size: 0.9em; }
    </style>
  </head>
  <body>
    <main>
      <h1>${escapeHtml(index.service)}</h1>
      <p>${escapeHtml(index.description)}</p>
      <ul>
      ${links}
      </ul>
    </main>
  </body>
</html>
`;
}

/**
 * `GET /`: the service's index, as HTML for a browser and as JSON (`{ service, description,
 * links }`) for everything else, so opening a service's port shows where its docs and health are
 * instead of a 404.
 */
export function serviceIndexHandler(index: ServiceIndex): RequestHandler {
  const html = renderServiceIndex(index);
  return (req, res) => {
    res.format({
      'application/json': () => void res.json(index),
      'text/html': () => void res.type('html').send(html),
      default: () => void res.json(index),
    });
  };
}

/** The links every service built by createHttpApp has: its API docs, OpenAPI document, health and metrics. */
export function standardServiceLinks(options: { metrics: boolean }): ServiceLink[] {
  return [
    { href: '/docs', label: 'API docs (Swagger UI)' },
    { href: '/openapi.json', label: 'OpenAPI document' },
    { href: '/health/ready', label: 'Readiness (its stores answer)' },
    { href: '/health/live', label: 'Liveness' },
    ...(options.metrics ? [{ href: '/metrics', label: 'Prometheus metrics' }] : []),
  ];
}
