import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { freePort } from './ports';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// `npx nx test <project>` runs Jest without scripts/test.sh: when TEST_MONGO_URL is not set, this
// starts a test store for the run with the same launcher (scripts/services.sh `start_store`:
// mongod, or FerretDB on PostgreSQL or SQLite) and makes sure Redis answers; the test workers
// inherit TEST_MONGO_URL. jest-global-teardown.ts stops it. Under `npm test` it does nothing.

declare global {
  var musicTestStore: ChildProcess | undefined;
}

const ROOT = join(__dirname, '..', '..', '..');

const LAUNCH = `
source scripts/services.sh
ensure_redis || exit 1
drop() { [ "$STORE_BACKEND_USED" = postgresql ] && psql -h 127.0.0.1 -U postgres -qc "drop database if exists \\"$DB\\" with (force)" >/dev/null 2>&1; rm -rf "$DATA"; }
trap 'stop_started; drop; exit 0' TERM INT
start_store "$PORT" "$DB" "$DATA" >/dev/null || { drop; exit 1; }
echo ready
wait
`;

export default async function startTestStore(): Promise<void> {
  if (process.env['TEST_MONGO_URL']) return;
  // A free port rather than TEST_STORE_PORT: `nx run-many` runs several projects' Jest at once.
  const port = await freePort();
  const env = { ...process.env, PORT: String(port), DB: `music_test_${process.pid}`, DATA: mkdtempSync(join(tmpdir(), 'test-store-')) };
  const child = spawn('bash', ['-c', LAUNCH], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  globalThis.musicTestStore = child;
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the test store did not start (exit ${String(code)})`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve();
    });
  });
  process.env['TEST_MONGO_URL'] = `mongodb://127.0.0.1:${port}/`;
}
