// Command line of `npm run bench`: sizes for the full and the quick run, and which parts to run.

export const PARTS = ['ingest', 'delivery', 'latency', 'memory', 'scaleOut', 'fairness'] as const;
/** Run only when asked for (`--only store`): the store's primitive costs, for the analysis. */
export const EXTRA_PARTS = ['store'] as const;
export type PartName = (typeof PARTS)[number] | (typeof EXTRA_PARTS)[number];

export interface BenchOptions {
  mode: 'full' | 'quick';
  parts: PartName[];
  /** Records of the ingest poll (and its unchanged re-poll). */
  ingestRecords: number;
  /** The re-poll is stopped after this long (s) and reported as a bound: on some stores it grows as N x M. */
  repollBudgetSec: number;
  /** Records per page the third party serves (the polling entry's limit). */
  pageSize: number;
  /** Local changes delivered by the delivery part, measured after the warm-up. */
  deliveries: number;
  /**
   * Changes delivered first, before the figures are taken (engine and raw workers alike): the
   * process's first deliveries pay its code's compilation, which a long-running worker pays once.
   */
  deliveryWarmup: number;
  /**
   * Local changes per run of the scale-out part (one run with one worker process, one with two,
   * each on an empty store). Smaller than `deliveries`: on a store whose lookups scan the collection
   * a run's time grows with the square of its size, and the part makes two.
   */
  scaleOutDeliveries: number;
  /** Steady rate (changes/s) and duration (s) of the latency part. */
  latencyRate: number;
  latencySeconds: number;
  /** How long after its last request a latency stage waits for the 201s and deliveries (s). */
  latencyDrainSec: number;
  /** A first latency stage at this rate (0: none), for the latency without queueing. */
  latencyLowRate: number;
  /** Records of the memory part's poll. */
  memoryRecords: number;
  /** The memory part polls a second time (a re-poll with one record changed per page) and reports that poll's peak. */
  memoryRepoll: boolean;
  /**
   * Pages of that re-poll with a changed record, evenly spread (0: every page). Each applied page
   * reads its items back, which on a store whose lookups scan costs a scan of the collection: a
   * re-poll of 1,000,000 records changing every page would take days there. The others are skipped
   * by the poll memory, yet their ids are seen all the same and the deletion pass runs.
   */
  memoryRepollPages: number;
  /** OUTPUT_CONCURRENCY of the integration workers, and of the raw BullMQ worker. */
  outputConcurrency: number;
  /** Fairness part: changes pending for the slow organization A, changes of organization B and their rate (/s). */
  fairnessBacklog: number;
  fairnessChanges: number;
  fairnessRate: number;
  /** Where the figures go. */
  out: string;
  /** Write V8 CPU profiles of the child processes to bench/profiles/. */
  cpuProf: boolean;
}

const FULL = { ingestRecords: 100_000, repollBudgetSec: 300, pageSize: 1000, deliveries: 10_000, deliveryWarmup: 1000, scaleOutDeliveries: 2000, latencyRate: 200, latencySeconds: 30, latencyDrainSec: 120, latencyLowRate: 20, memoryRecords: 1_000_000, fairnessBacklog: 1000, fairnessChanges: 100, fairnessRate: 20 };
const QUICK = { ingestRecords: 10_000, repollBudgetSec: 12, pageSize: 1000, deliveries: 500, deliveryWarmup: 500, scaleOutDeliveries: 200, latencyRate: 200, latencySeconds: 3, latencyDrainSec: 8, latencyLowRate: 20, memoryRecords: 20_000, fairnessBacklog: 1000, fairnessChanges: 100, fairnessRate: 20 };

const USAGE = `usage: npm run bench -- [--quick] [--only ${[...PARTS, ...EXTRA_PARTS].join(',')}|repoll] [--records N] [--repoll-budget S] [--page-size N]
       [--deliveries N] [--delivery-warmup N] [--scale-out-deliveries N] [--latency-rate N] [--latency-seconds N] [--latency-low-rate N] [--latency-drain S] [--memory-records N] [--memory-repoll [--memory-repoll-pages N]] [--concurrency N]
       [--fairness-backlog N] [--fairness-changes N] [--fairness-rate N]
       [--out FILE] [--cpu-prof]`;

/** Parses the arguments after `npm run bench --`; throws with the usage on a mistake. */
export function parseOptions(argv: string[]): BenchOptions {
  const quick = argv.includes('--quick');
  const sizes = quick ? QUICK : FULL;
  const options: BenchOptions = { mode: quick ? 'quick' : 'full', parts: [...PARTS], ...sizes, memoryRepoll: false, memoryRepollPages: 0, outputConcurrency: 16, out: 'bench/results.json', cpuProf: false };
  const numbers: Record<string, keyof BenchOptions> = {
    '--records': 'ingestRecords',
    '--repoll-budget': 'repollBudgetSec',
    '--page-size': 'pageSize',
    '--deliveries': 'deliveries',
    '--delivery-warmup': 'deliveryWarmup',
    '--scale-out-deliveries': 'scaleOutDeliveries',
    '--latency-rate': 'latencyRate',
    '--latency-seconds': 'latencySeconds',
    '--latency-low-rate': 'latencyLowRate',
    '--latency-drain': 'latencyDrainSec',
    '--memory-records': 'memoryRecords',
    '--concurrency': 'outputConcurrency',
    '--fairness-backlog': 'fairnessBacklog',
    '--fairness-changes': 'fairnessChanges',
    '--fairness-rate': 'fairnessRate',
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const [flag, inline] = arg.includes('=') ? (arg.split('=', 2) as [string, string]) : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    if (flag === '--quick') continue;
    if (flag === '--cpu-prof') options.cpuProf = true;
    else if (flag === '--memory-repoll') options.memoryRepoll = true;
    else if (flag === '--memory-repoll-pages') {
      const n = Number(value());
      if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a whole number\n${USAGE}`);
      options.memoryRepollPages = n;
    }
    else if (flag === '--out') options.out = value();
    else if (flag === '--only') {
      const parts = value()
        .split(',')
        .map((p) => (p === 'repoll' ? 'ingest' : p === 'scale-out' || p === 'scaleout' ? 'scaleOut' : p));
      for (const p of parts) if (![...PARTS, ...EXTRA_PARTS].includes(p as PartName)) throw new Error(`unknown part "${p}"\n${USAGE}`);
      options.parts = [...new Set(parts)] as PartName[];
    } else if (flag !== undefined && numbers[flag]) {
      const n = Number(value());
      if (!Number.isInteger(n) || n < (flag === '--latency-low-rate' || flag === '--delivery-warmup' ? 0 : 1)) throw new Error(`${flag} must be a positive integer\n${USAGE}`);
      (options as unknown as Record<string, number>)[numbers[flag] as string] = n;
    } else if (flag === '--help' || flag === '-h') {
      throw new Error(USAGE);
    } else {
      throw new Error(`unknown argument "${arg}"\n${USAGE}`);
    }
  }
  return options;
}
