import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';

// Every request to an organization-configured URL goes through one guarded client
// (libs/platform/src/outbound-http.ts). This scan of the apps' and libs' code (tests excluded)
// fails when anything else brings in an HTTP client or calls fetch/http.request: such a call would
// skip the address checks, the deadline and the size cap. music-faker, a test double, is exempt,
// and so is libs/testing (the tests' own servers and probes; no app imports it).

const ROOT = join(__dirname, '..', '..');
const GUARDED_CLIENT = 'libs/platform/src/outbound-http.ts';
const EXEMPT = [/^apps\/music-faker\//, /^libs\/testing\//];
const CLIENT_PACKAGES = ['axios', 'got', 'node-fetch', 'undici', 'superagent', 'request', 'needle', 'ky', 'cross-fetch'];
const CALLS = /\bfetch\s*\(|\bhttps?\.(request|get)\s*\(|\bnet\.(connect|createConnection)\s*\(|\btls\.connect\s*\(/;
// The same functions imported by name (`import { request } from 'node:http'`).
const NAMED_IMPORTS = /import\s*{[^}]*\b(request|get|connect|createConnection)\b[^}]*}\s*from\s*['"](node:)?(https?|net|tls)['"]/;

function sources(dir: string, out: string[] = []): string[] {
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory()) sources(path, out);
    else if (path.endsWith('.ts') && !/\.(spec|test)\.ts$|\.test-(helper|harness)\.ts$|\.d\.ts$/.test(path)) out.push(path);
  }
  return out;
}

describe('one guarded client for outbound requests', () => {
  it('no other code of the apps or libs brings in an HTTP client or makes a request', () => {
    const files = [...readdirSync(join(ROOT, 'apps')).map((a) => `apps/${a}/src`), ...readdirSync(join(ROOT, 'libs')).map((l) => `libs/${l}/src`)].flatMap((d) => sources(d));
    expect(files).toContain(GUARDED_CLIENT);
    expect(files.some((f) => f.startsWith('apps/music-integration/'))).toBe(true);
    const offenders: string[] = [];
    for (const file of files) {
      if (file === GUARDED_CLIENT || EXEMPT.some((e) => e.test(file))) continue;
      const text = readFileSync(join(ROOT, file), 'utf8');
      const imports = ts.preProcessFile(text, true, true).importedFiles.map((f) => f.fileName);
      for (const spec of imports) if (CLIENT_PACKAGES.includes(spec)) offenders.push(`${file}: imports ${spec}`);
      // Comments stripped, so a sentence about fetch( in a comment does not count.
      const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:])\/\/.*$/gm, '$1');
      const call = CALLS.exec(code) ?? NAMED_IMPORTS.exec(code);
      if (call) offenders.push(`${file}: calls ${call[0]}`);
    }
    expect(offenders).toEqual([]);
  });

  it('would notice one (the scan sees the guarded client itself)', () => {
    const text = readFileSync(join(ROOT, GUARDED_CLIENT), 'utf8');
    expect(NAMED_IMPORTS.test(text)).toBe(true);
  });

  it('sees a request function imported by name, and not a server or a type', () => {
    expect(NAMED_IMPORTS.test(`import { request } from 'node:http';`)).toBe(true);
    expect(NAMED_IMPORTS.test(`import { get as fetchIt } from "https";`)).toBe(true);
    expect(NAMED_IMPORTS.test(`import { connect } from 'node:tls';`)).toBe(true);
    expect(NAMED_IMPORTS.test(`import { createServer, type Server } from 'node:http';`)).toBe(false);
    expect(NAMED_IMPORTS.test(`import type { IncomingMessage } from 'node:http';`)).toBe(false);
  });
});
