import { writeFileSync } from 'node:fs';
import { World } from './system';
import { runConvergence, type RunStats } from './runner';
import { commandStats } from './commands';

// Model-based randomized testing of the sync: random sequences of local and remote changes,
// input webhooks delayed, duplicated, reordered or dropped, polls (slow, paged, of several
// entries), outages, divergences and their resolution, configuration changes, crashes and a wiped
// Redis, against the real inventory API, engine, store and Redis and a stub third party, checked
// against the reference model in model.ts (written from docs/sync-model.md, no engine code).
//
// CI runs a bounded, seeded number of sequences. More: `npm run test:convergence -- --runs N`
// (scripts/convergence.sh); against a deliberately broken engine: `-- --mutant NAME`; or replay a
// counterexample with the seed and path it prints.

const env = process.env;
const RUNS = Number(env['CONVERGENCE_RUNS'] ?? 120);
const SEED = Number(env['CONVERGENCE_SEED'] ?? 9009);
const MAX_COMMANDS = Number(env['CONVERGENCE_MAX_COMMANDS'] ?? 30);
const PATH = env['CONVERGENCE_PATH'] || undefined;
const REPLAY_PATH = env['CONVERGENCE_REPLAY_PATH'] || undefined;
const REPORT_FILE = env['CONVERGENCE_REPORT'] || undefined;
const MUTANT = env['CONVERGENCE_MUTANT'] || undefined;
const PROGRESS_EVERY = Number(env['CONVERGENCE_PROGRESS_EVERY'] ?? (RUNS > 200 ? 100 : 0));

// About a second per sequence on a quiet machine; generous, shrinking a failure takes more runs.
jest.setTimeout(Math.max(15 * 60_000, RUNS * 6_000));

function summary(stats: RunStats): string {
  const kinds = Object.entries(stats.commandsByKind)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, n]) => `${k} ${n}`)
    .join(', ');
  return (
    `${stats.sequences} sequences, ${stats.commands} commands (${kinds}), longest ${stats.longestSequence}, ` +
    `${stats.restarts} restarts, ${stats.deliveriesApplied} deliveries applied of ${stats.deliveryAttempts} received, ` +
    `${stats.excusedSequences} sequences ended with an excused difference (reported divergence or delete guard), ${(stats.ms / 1000).toFixed(1)} s`
  );
}

describe('convergence of the two-way sync (model-based, real store, Redis, workers and third party)', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.open(MUTANT ? { SYNC_MUTANT: MUTANT } : {});
  });
  afterAll(async () => world?.close());

  it(`random sequences (${RUNS}, seed ${SEED}, up to ${MAX_COMMANDS} commands) end converged, as the model says`, async () => {
    const result = await runConvergence(world, {
      numRuns: RUNS,
      seed: SEED,
      maxCommands: MAX_COMMANDS,
      ...(PATH ? { path: PATH } : {}),
      ...(REPLAY_PATH ? { replayPath: REPLAY_PATH } : {}),
      onSequence: (stats) => {
        if (PROGRESS_EVERY > 0 && stats.sequences % PROGRESS_EVERY === 0) {
          process.stderr.write(`[convergence] ${new Date().toISOString()} ${summary(stats)}; rss ${Math.round(process.memoryUsage().rss / 1e6)} MB\n`);
        }
      },
    });
    const line = `[convergence] ${MUTANT ? `mutant ${MUTANT}, ` : ''}seed ${SEED}: ${summary(result.stats)}; ${result.failed ? 'DIVERGED' : '0 divergences'}\n`;
    process.stderr.write(line);
    if (env['CONVERGENCE_TIMINGS']) process.stderr.write(`[convergence] ms by command: ${JSON.stringify(commandStats.msByKind)}\n`);
    if (REPORT_FILE) writeFileSync(REPORT_FILE, JSON.stringify({ seed: SEED, runs: RUNS, maxCommands: MAX_COMMANDS, failed: result.failed, stats: result.stats, report: result.report }, null, 2));
    if (result.report) throw new Error(result.report);
    // A replayed path runs only its own sequence.
    if (!PATH) expect(result.stats.sequences).toBeGreaterThanOrEqual(RUNS);
  });
});
