import fc from 'fast-check';
import { SyncModel } from './model';
import { Divergence, KEYS, expectPoll, verifyEnd, type SequenceEnd } from './checks';
import { commandArbitraries, commandStats } from './commands';
import { Sequence, type World } from './system';

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
  /** Sequences whose last poll was held by the delete guard. */
  guardHeldSequences: number;
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
  return { sequences: 0, commands: 0, commandsByKind: {}, guardHeldSequences: 0, itemsAtEnd: 0, deliveriesApplied: 0, deliveryAttempts: 0, restarts: 0, longestSequence: 0, ms: 0 };
}

/** How every sequence ends: the outage over, drained, one final poll, drained, checked. */
export async function finishSequence(m: SyncModel, r: Sequence): Promise<SequenceEnd> {
  if (m.down) {
    r.comeBack();
    m.comeBack();
  }
  await r.settled(KEYS);
  m.deliverPending();
  const expected = m.poll();
  expectPoll(await r.poll(), expected);
  await r.settled(KEYS);
  return verifyEnd(m, r);
}

/** Runs one sequence of commands (generated, or written out in a regression test). */
export async function runSequence(world: World, commands: Iterable<fc.AsyncCommand<SyncModel, Sequence>>): Promise<SequenceEnd> {
  const seq = await Sequence.begin(world);
  const model = new SyncModel({ deleteGuardRatio: world.config.DELETE_GUARD_RATIO, maxDownCommands: 6 });
  try {
    await fc.asyncModelRun(() => ({ model, real: seq }), commands);
    return await finishSequence(model, seq);
  } finally {
    await seq.end();
  }
}

/** Formats fast-check's counterexample (the commands that ran, comma-separated) as a numbered script. */
export function formatScript(commands: unknown): string {
  const lines = String(commands)
    .replace(/\/\*replayPath=.*?\*\//g, '')
    .split(',')
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
  const property = fc.asyncProperty(fc.commands(commandArbitraries(), { maxCommands: options.maxCommands, size: 'max', ...(options.replayPath ? { replayPath: options.replayPath } : {}) }), async (commands) => {
    const ranBefore = commandStats.run;
    try {
      const end = await runSequence(world, commands);
      stats.itemsAtEnd += end.items;
      stats.deliveriesApplied += end.deliveriesApplied;
      stats.deliveryAttempts += end.deliveryAttempts;
      if (end.guardHeld > 0) stats.guardHeldSequences++;
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
  const replayPath = /\/\*replayPath="(.*?)"\*\//.exec(String(details.counterexample?.[0]))?.[1] ?? '';
  const report = [
    `Convergence counterexample (seed ${details.seed}, path ${details.counterexamplePath ?? '-'}, after ${details.numRuns} sequence(s) and ${details.numShrinks} shrink(s)):`,
    formatScript(details.counterexample?.[0]),
    `failure: ${message}`,
    `replay: CONVERGENCE_SEED=${details.seed} CONVERGENCE_PATH='${details.counterexamplePath ?? ''}' CONVERGENCE_REPLAY_PATH='${replayPath}' npm run test:convergence`,
  ].join('\n');
  return { failed: true, stats, report };
}
