// The benchmark's own arithmetic: what it counts as a write, a percentile, a met target, and its
// command line. A wrong figure here would make docs/performance.md say the wrong thing.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_HEAP_LIMIT_MB, heapLimitArgs } from './children';
import { percentile } from './context';
import { parseOptions, PARTS } from './options';
import { table, verdicts } from './report';
import { writesIn } from './store';

describe('writesIn (the re-poll\'s "zero writes")', () => {
  const profile = {
    'insert inventory_items': { count: 2, ms: 5, statements: 2000 },
    'update inventory_items': { count: 3, ms: 5, statements: 12 },
    'delete inventory_items': { count: 1, ms: 1, statements: 4 },
    'find inventory_items {_id}': { count: 10, ms: 50, statements: 0 },
    'update sync_runs': { count: 8, ms: 2, statements: 8 },
  };

  it('counts the write statements of one collection, not its reads nor other collections', () => {
    expect(writesIn(profile, 'inventory_items')).toBe(2016);
    expect(writesIn(profile, 'sync_runs')).toBe(8);
    expect(writesIn(profile, 'deliveries')).toBe(0);
  });
});

describe('percentile (nearest rank)', () => {
  const sorted = Array.from({ length: 100 }, (_, i) => i + 1);

  it('takes the nearest rank', () => {
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 95)).toBe(95);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
  });

  it('is NaN without values', () => {
    expect(percentile([], 50)).toBeNaN();
  });
});

describe('verdicts', () => {
  const met = {
    ingest: { ratio: 0.9 },
    repoll: { speedup: 10, writes: 0, itemReads: 0 },
    delivery: { ratio: 0.71, storeCommandsPerChange: 4, workerCpuMsPerChange: 4, durableRatio: 0.7 },
    latency: { p50Ms: 10, p95Ms: 40, p99Ms: 99.9, lowRateP99VsRaw: 3 },
    memory: { peakRssMb: 249 },
    scaleOut: { ratio: 1.6 },
    fairness: { ratio: 2 },
  };

  it('meets each target at its bound', () => {
    expect(verdicts(met)).toEqual({ ingest: true, repoll: true, delivery: true, deliveryCosts: true, latency: true, latencyLowRate: true, memory: true, scaleOut: null, fairness: true });
  });

  it('misses each target just past its bound', () => {
    const missed = {
      ingest: { ratio: 0.899 },
      repoll: { speedup: 12, writes: 1 },
      delivery: { ratio: 0.2, storeCommandsPerChange: 4.01, workerCpuMsPerChange: 4, durableRatio: 0.7 },
      latency: { p50Ms: 10, p95Ms: 40, p99Ms: 100, lowRateP99VsRaw: 3.01 },
      memory: { peakRssMb: 250 },
      fairness: { ratio: 2.01 },
    };
    expect(verdicts(missed)).toEqual({ ingest: false, repoll: false, delivery: false, deliveryCosts: false, latency: false, latencyLowRate: false, memory: false, scaleOut: null, fairness: false });
  });

  it('has no verdict for a part that failed or did not run', () => {
    expect(verdicts({ ingest: { error: 'boom' } })).toMatchObject({ ingest: null, delivery: null });
  });

  it('marks censored percentiles as lower bounds in the table', () => {
    const text = table({ latency: { p50Ms: 12, p95Ms: 15000, p99Ms: 15000, lowerBounds: ['p95Ms', 'p99Ms'], changes: 600, incomplete: 40, ratePerSec: 200 } });
    expect(text).toContain('p50 12 / p95 >= 15,000 / p99 >= 15,000 ms (40 of 600 late)');
    expect(text).toContain('MISSED');
  });
});

describe('parseOptions', () => {
  it('runs every part at the full sizes by default', () => {
    const o = parseOptions([]);
    expect(o.mode).toBe('full');
    expect(o.parts).toEqual([...PARTS]);
    expect([o.ingestRecords, o.deliveries, o.latencyRate, o.latencySeconds, o.memoryRecords]).toEqual([100_000, 10_000, 200, 30, 1_000_000]);
  });

  it('--quick reduces the sizes', () => {
    const o = parseOptions(['--quick']);
    expect(o.mode).toBe('quick');
    expect(o.ingestRecords).toBeLessThan(100_000);
    expect(o.memoryRecords).toBeLessThan(1_000_000);
  });

  it('--only picks parts, and sizes can be set in either form', () => {
    const o = parseOptions(['--only', 'delivery,latency', '--deliveries=42', '--records', '7']);
    expect(o.parts).toEqual(['delivery', 'latency']);
    expect(o.deliveries).toBe(42);
    expect(o.ingestRecords).toBe(7);
  });

  it('refuses an unknown part or flag with the usage', () => {
    expect(() => parseOptions(['--only', 'everything'])).toThrow(/usage/);
    expect(() => parseOptions(['--fast'])).toThrow(/usage/);
    expect(() => parseOptions(['--records'])).toThrow(/needs a value/);
  });
});

describe('the children\'s heap limit (as the image starts an app)', () => {
  const noContainer = (): null => null;

  it('has the default of docker/run-app.sh and scripts/stack.sh', () => {
    const root = path.resolve(__dirname, '..');
    for (const file of ['docker/run-app.sh', 'scripts/stack.sh']) {
      expect(readFileSync(path.join(root, file), 'utf8')).toContain(`DEFAULT_HEAP_LIMIT_MB=${DEFAULT_HEAP_LIMIT_MB}`);
    }
    expect(heapLimitArgs({}, noContainer)).toEqual([`--max-old-space-size=${DEFAULT_HEAP_LIMIT_MB}`]);
  });

  it('follows HEAP_LIMIT_MB, and leaves the sizing to Node for 0, a limit in NODE_OPTIONS or a container\'s memory limit', () => {
    expect(heapLimitArgs({ HEAP_LIMIT_MB: '256' }, noContainer)).toEqual(['--max-old-space-size=256']);
    expect(heapLimitArgs({ HEAP_LIMIT_MB: '0' }, noContainer)).toEqual([]);
    expect(heapLimitArgs({ NODE_OPTIONS: '--max-old-space-size=128' }, noContainer)).toEqual([]);
    expect(heapLimitArgs({ NODE_OPTIONS: '--max_old_space_size=128' }, noContainer)).toEqual([]);
    expect(heapLimitArgs({}, (f) => (f.endsWith('memory.max') ? '1073741824\n' : null))).toEqual([]);
    expect(heapLimitArgs({}, (f) => (f.endsWith('memory.max') ? 'max\n' : null))).toEqual([`--max-old-space-size=${DEFAULT_HEAP_LIMIT_MB}`]);
    expect(heapLimitArgs({}, (f) => (f.endsWith('limit_in_bytes') ? '9223372036854771712\n' : null))).toEqual([`--max-old-space-size=${DEFAULT_HEAP_LIMIT_MB}`]);
    expect(heapLimitArgs({ HEAP_LIMIT_MB: '768' }, () => '1073741824')).toEqual(['--max-old-space-size=768']);
    expect(() => heapLimitArgs({ HEAP_LIMIT_MB: 'lots' }, noContainer)).toThrow(/whole number/);
  });
});
