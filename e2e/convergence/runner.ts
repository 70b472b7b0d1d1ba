import fc from 'fast-check';
import { Model } from './model';
import { Divergence, KEYS, verifyEnd, expectPoll, type SequenceEnd } from './checks';
import { commandArbitraries, commandStats, settle } from './commands';
import { entryLists, INCREMENTAL_FULL_EVERY, Sequence, until, type SequenceShape, type World } from './system';

// Runs generated command sequences against the real system (fast-check's model-based testing),
// each on a fresh organization and third party, and ends each one the same way: the outage (if
// any) over, the queues drained, one final poll, drained again, then the end-of-sequence checks.

export interface ConvergenceOptions {
  numRuns: number;
  seed: number;
  maxCommands: number;
  /** Replays one failing case (fast-check's counterexample path, and the commands' replay path). */
  path?: string;
  replayPath?: string;
  /** Called after each sequence (progress reports of long runs). */
  onSequence?: (stats: RunStats) => void;
}

export interface RunStats {
  /** Sequences run, shrinking attempts included. */
  sequences: number;
  /** Commands run (those whose precondition held). */
  commands: number;
  commandsByKind: Record<string, number>;
  /** Sequences that ended with an excused difference (a reported divergence, or the delete guard holding). */
  excusedSequences: number;
  itemsAtEnd: number;
  deliveriesApplied: number;
  deliveryAttempts: number;
  restarts: number;
  longestSequence: number;
  ms: number;
}

export interface ConvergenceResult {
  failed: boolean;
  stats: RunStats;
  /** A readable script of the shrunk failing sequence, the error, and how to replay it. */
  report: string | null;
}

function newStats(): RunStats {
  return { sequences: 0, commands: 0, commandsByKind: {}, excusedSequences: 0, itemsAtEnd: 0, deliveriesApplied: 0, deliveryAttempts: 0, restarts: 0, longestSequence: 0, ms: 0 };
}

/** How every sequence ends: the outage over, drained, one final (full) poll of every entry, drained, checked. */
export async function finishSequence(m: Model, r: Sequence): Promise<SequenceEnd> {
  if (m.deleted) return finishDeleted(m, r);
  if (m.down) {
    r.comeBack();
    m.down = false;
  }
  await settle(m, r);
  const kept = new Set<string>();
  for (const entry of m.entries) {
    // An incremental entry tracks deletions only in its full snapshots: it polls until one ran.
    for (let full = false; !full; ) {
      full = !m.isIncremental(entry.name);
      const start = m.tick();
      const expected = m.poll(entry.name, m.snapshotOf(entry.name), start);
      expectPoll(entry.name, await r.poll(entry.name), expected);
      if (full) for (const k of expected.kept) kept.add(k);
    }
  }
  await settle(m, r);
  return verifyEnd(m, r, kept);
}

/**
 * How a sequence whose organization was deleted ends: the third party back up, the queues drained,
 * and then, longer than the delivery backoff, nothing of the organization in the store and nothing
 * sent to the third party or asked of it since the purge finished (rule 8).
 */
async function finishDeleted(m: Model, r: Sequence): Promise<SequenceEnd> {
  const sent = r.stub.syncArrivals;
  const listed = r.stub.listRequests.length;
  if (m.down) {
    r.comeBack();
    m.down = false;
  }
  await until(() => r.world.queuesIdle(), async () => `the queues to drain after the deletion (${await r.world.queueSummary()})`);
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const left = await r.leftOf();
  const problems = Object.entries(left)
    .filter(([, n]) => n > 0)
    .map(([what, n]) => `${n} ${what}`);
  if (problems.length > 0) throw new Divergence(`end of sequence: the deleted organization still has ${problems.join(', ')}`);
  const later = r.stub.syncArrivals - sent;
  if (later > 0) throw new Divergence(`end of sequence: ${later} call(s) sent to the third party after the organization was deleted (last: ${JSON.stringify(r.stub.deliveries.slice(-later).map((d) => `${d.method} ${d.path} ${d.webhookId ?? ''}`))})`);
  if (r.stub.listRequests.length > listed) throw new Divergence(`end of sequence: the third party polled ${r.stub.listRequests.length - listed} time(s) after the organization was deleted`);
  return { items: 0, excused: 0, deliveriesApplied: 0, deliveryAttempts: 0 };
}

/** A fresh model of a sequence's organization: two-way, upsert and DELETE output webhooks, its polling entries. */
export function newModel(world: World, shape: SequenceShape): Model {
  const m = new Model(world.config.DELETE_GUARD_RATIO);
  m.outputs.push({ name: 'create', kind: 'upsert', refusing: false }, { name: 'delete', kind: 'delete', refusing: false });
  m.entries.push(...entryLists(shape.entries, KEYS));
  m.pagination = shape.pagination;
  if (shape.incremental) m.incremental = { every: INCREMENTAL_FULL_EVERY };
  return m;
}

export const DEFAULT_SHAPE: SequenceShape = { entries: 'one', pagination: 'none' };

/** Runs one sequence of commands (generated, or written out in a regression test). */
export async function runSequence(world: World, commands: Iterable<fc.AsyncCommand<Model, Sequence>>, shape: SequenceShape = DEFAULT_SHAPE): Promise<SequenceEnd> {
  const seq = await Sequence.begin(world, shape, KEYS);
  const model = newModel(world, shape);
  // The third party's own updatedAt of each record (incremental polling reads it from the records).
  model.stampOf = (key) => Number(seq.stub.records.get(key)?.['updatedAt'] ?? 0);
  try {
    await fc.asyncModelRun(() => ({ model, real: seq }), commands);
    return await finishSequence(model, seq);
  } finally {
    await seq.end();
  }
}

const shapeArb: fc.Arbitrary<SequenceShape> = fc
  .record({
    entries: fc.constantFrom<SequenceShape['entries']>('one', 'one', 'disjoint', 'overlap'),
    pagination: fc.constantFrom<SequenceShape['pagination']>('none', 'none', 'none', 'page', 'offset', 'cursor'),
    incremental: fc.constantFrom(false, true),
  })
  // Incremental polling is generated on unpaged entries only.
  .map((s) => ({ ...s, incremental: s.incremental && s.pagination === 'none' }));

/** Formats fast-check's counterexample (the commands that ran, comma-separated) as a numbered script. */
export function formatScript(commands: unknown): string {
  const lines = String(commands)
    .replace(/\/\*replayPath=.*?\*\//g, '')
    .split(/,(?! )/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
  const body = lines.length > 0 ? lines.map((l, i) => `  ${String(i + 1).padStart(2)}. ${l}`).join('\n') : '  (no command)';
  return `${body}\n  then: third party up, queues drained, final poll, drained, end-of-sequence checks`;
}

export async function runConvergence(world: World, options: ConvergenceOptions): Promise<ConvergenceResult> {
  const stats = newStats();
  const started = Date.now();
  const restartsBefore = world.restarts;
  const commandsBefore = commandStats.run;
  const settings = { maxCommands: options.maxCommands, size: 'max' as const, ...(options.replayPath ? { replayPath: options.replayPath } : {}) };
  const sequences = shapeArb.chain((shape) => fc.tuple(fc.constant(shape), fc.commands(commandArbitraries({ slowPolls: shape.pagination === 'none' }), settings)));
  const property = fc.asyncProperty(sequences, async ([shape, commands]) => {
    const ranBefore = commandStats.run;
    try {
      const end = await runSequence(world, commands, shape);
      stats.itemsAtEnd += end.items;
      stats.deliveriesApplied += end.deliveriesApplied;
      stats.deliveryAttempts += end.deliveryAttempts;
      if (end.excused > 0) stats.excusedSequences++;
    } finally {
      stats.sequences++;
      stats.longestSequence = Math.max(stats.longestSequence, commandStats.run - ranBefore);
      stats.commands = commandStats.run - commandsBefore;
      stats.commandsByKind = { ...commandStats.byKind };
      stats.restarts = world.restarts - restartsBefore;
      stats.ms = Date.now() - started;
      options.onSequence?.(stats);
    }
  });
  const details = await fc.check(property, {
    numRuns: options.numRuns,
    seed: options.seed,
    ...(options.path ? { path: options.path } : {}),
    // Each sequence is a real run (seconds, not microseconds): no time limit per run.
    interruptAfterTimeLimit: undefined,
  });
  stats.ms = Date.now() - started;
  if (!details.failed) return { failed: false, stats, report: null };
  const error = details.errorInstance;
  const message = error instanceof Divergence ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
  const [shape, commands] = (details.counterexample?.[0] ?? [DEFAULT_SHAPE, '']) as [SequenceShape, unknown];
  const replayPath = /\/\*replayPath="(.*?)"\*\//.exec(String(commands))?.[1] ?? '';
  const report = [
    `Convergence counterexample (seed ${details.seed}, path ${details.counterexamplePath ?? '-'}, after ${details.numRuns} sequence(s) and ${details.numShrinks} shrink(s)):`,
    `  organization: two-way, ${shape.entries === 'one' ? 'one polling entry' : `two polling entries (${shape.entries} lists: ${entryLists(shape.entries, KEYS).map((e) => `${e.name} lists ${e.lists.join(',')}`).join('; ')})`}, ${shape.pagination === 'none' ? 'unpaged' : `${shape.pagination} pagination (2 a page)`}${shape.incremental ? `, incremental polling (updatedSince, a full snapshot every ${INCREMENTAL_FULL_EVERY}th run)` : ''}`,
    formatScript(commands),
    `failure: ${message}`,
    `replay: CONVERGENCE_SEED=${details.seed} CONVERGENCE_PATH='${details.counterexamplePath ?? ''}' CONVERGENCE_REPLAY_PATH='${replayPath}' npm run test:convergence`,
  ].join('\n');
  return { failed: true, stats, report };
}
