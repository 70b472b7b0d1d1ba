// The results file (bench/results.json) and the table printed at the end of a run.

export type Results = Record<string, unknown> & { meta?: Record<string, unknown> };

type Row = [part: string, figure: string, limit: string, ratio: string, target: string, verdict: string];

const num = (v: unknown): number => (typeof v === 'number' ? v : NaN);
const fmt = (v: unknown, digits = 0): string => (Number.isFinite(num(v)) ? num(v).toLocaleString('en-US', { maximumFractionDigits: digits }) : '-');
const verdict = (ok: boolean | null): string => (ok === null ? 'n/a' : ok ? 'met' : 'MISSED');

/** Whether each target is met (null where a part did not run or has no target). */
export function verdicts(results: Results): Record<string, boolean | null> {
  const part = (name: string): Record<string, unknown> | undefined => {
    const p = results[name];
    return p && typeof p === 'object' && !('error' in p) ? (p as Record<string, unknown>) : undefined;
  };
  const ingest = part('ingest');
  const repoll = part('repoll');
  const delivery = part('delivery');
  const latency = part('latency');
  const memory = part('memory');
  const fairness = part('fairness');
  return {
    // The ingest target is at 100,000 records; a quick run's 10,000 are judged by the same bound.
    ingest: ingest ? num(ingest['ratio']) >= 0.9 : null,
    repoll: repoll ? num(repoll['speedup']) >= 10 && repoll['writes'] === 0 && repoll['itemReads'] === 0 : null,
    delivery: delivery ? num(delivery['ratio']) >= 0.7 : null,
    deliveryCosts: delivery && 'storeCommandsPerChange' in delivery ? num(delivery['storeCommandsPerChange']) <= 4 && num(delivery['workerCpuMsPerChange']) <= 4 && num(delivery['durableRatio']) >= 0.7 : null,
    latency: latency ? num(latency['p99Ms']) < 100 : null,
    latencyLowRate: latency && 'lowRateP99VsRaw' in latency ? num(latency['lowRateP99VsRaw']) <= 3 : null,
    // With --memory-repoll, the re-poll is held to the same bound.
    memory: memory ? num(memory['peakRssMb']) < 250 && (!('repollPeakRssMb' in memory) || num(memory['repollPeakRssMb']) < 250) : null,
    scaleOut: null,
    fairness: fairness ? num(fairness['ratio']) <= 2 : null,
  };
}

export function table(results: Results): string {
  const r = (name: string): Record<string, unknown> => (results[name] ?? {}) as Record<string, unknown>;
  const v = verdicts(results);
  const error = (name: string): string | null => (typeof r(name)['error'] === 'string' ? `failed: ${String(r(name)['error']).split('\n')[0]}` : null);
  const rows: Row[] = [['part', 'figure', 'raw limit', 'ratio', 'target', '']];
  const add = (name: string, row: Row): void => {
    if (!(name in results)) return;
    const failed = error(name);
    rows.push(failed ? [row[0], failed, '', '', row[4], 'ERROR'] : row);
  };
  const ingestNote = r('ingest')['records'] ? ` (${fmt(r('ingest')['records'])})` : '';
  add('ingest', [`1 ingest${ingestNote}`, `${fmt(r('ingest')['recordsPerSec'])} rec/s`, `${fmt(r('ingest')['rawRecordsPerSec'])} rec/s`, fmt(r('ingest')['ratio'], 3), '>= 0.9 (at 100,000)', verdict(v['ingest'] ?? null)]);
  const repoll = r('repoll');
  const bound = repoll['finished'] === false ? `< ${fmt(repoll['speedup'], 3)}x (stopped at ${fmt(repoll['recordsDone'])} records)` : `${fmt(repoll['speedup'], 2)}x faster`;
  add('repoll', [
    '2 unchanged re-poll',
    `${bound}, ${fmt(repoll['writes'])} writes, ${fmt(repoll['itemReads'])} item reads, ${fmt(repoll['storeCommandsPerPage'], 3)} store commands/page`,
    '',
    '',
    '>= 10x, 0 writes, 0 item reads',
    verdict(v['repoll'] ?? null),
  ]);
  add('delivery', [`3 delivery (${fmt(r('delivery')['deliveries'])})`, `${fmt(r('delivery')['perSec'], 1)} /s`, `${fmt(r('delivery')['rawPerSec'], 1)} /s`, fmt(r('delivery')['ratio'], 3), '>= 0.7', verdict(v['delivery'] ?? null)]);
  const d = r('delivery');
  if ('storeCommandsPerChange' in d && !error('delivery')) {
    rows.push([
      '  delivery costs',
      `${fmt(d['storeCommandsPerChange'], 2)} store, ${fmt(d['redisCommandsPerChange'], 1)} Redis commands, ${fmt(d['workerCpuMsPerChange'], 2)} ms CPU a change`,
      `durable ${fmt(d['durableRawPerSec'], 1)} /s`,
      fmt(d['durableRatio'], 3),
      '<= 4, <= 4 ms, >= 0.7',
      verdict(v['deliveryCosts'] ?? null),
    ]);
    if ('fourCommandRawPerSec' in d) {
      rows.push([
        '  same 4 commands, bare',
        `${fmt(d['fourCommandRawCpuMsPerChange'], 2)} ms CPU a change`,
        `4-command ${fmt(d['fourCommandRawPerSec'], 1)} /s`,
        fmt(d['fourCommandRatio'], 3),
        'report',
        '',
      ]);
    }
  }
  const pct = (figures: Record<string, unknown>, key: string): string => {
    const bound = Array.isArray(figures['lowerBounds']) && (figures['lowerBounds'] as unknown[]).includes(key);
    return `${bound ? '>= ' : ''}${fmt(figures[key], 1)}`;
  };
  const latencyText = (f: Record<string, unknown>): string =>
    `p50 ${pct(f, 'p50Ms')} / p95 ${pct(f, 'p95Ms')} / p99 ${pct(f, 'p99Ms')} ms${num(f['incomplete']) > 0 ? ` (${fmt(f['incomplete'])} of ${fmt(f['changes'])} late)` : ''}`;
  add('latency', [
    `4 latency (${fmt(r('latency')['ratePerSec'])}/s)`,
    latencyText(r('latency')),
    '',
    '',
    'p99 < 100 ms',
    verdict(v['latency'] ?? null),
  ]);
  const low = r('latency')['lowRate'] as Record<string, unknown> | undefined;
  if (low && !error('latency')) {
    const lat = r('latency');
    const raw = 'rawLowRateP99Ms' in lat ? `bare worker p99 ${fmt(lat['rawLowRateP99Ms'], 1)} ms` : '';
    rows.push([`  latency at ${fmt(low['ratePerSec'])}/s`, latencyText(low), raw, 'lowRateP99VsRaw' in lat ? fmt(lat['lowRateP99VsRaw'], 2) : '', '<= 3x the bare worker', verdict(v['latencyLowRate'] ?? null)]);
    if ('sustainedRatePerSec' in lat) rows.push(['  latency, highest rate', `${fmt(lat['sustainedRatePerSec'])} changes/s with p99 < 1 s (rates tried: the low rate, 50, 100, the steady rate)`, '', '', 'report', '']);
  }
  add('memory', [`5 memory (${fmt(r('memory')['records'])} rec)`, `peak RSS ${fmt(r('memory')['peakRssMb'])} MB`, `idle ${fmt(r('memory')['baselineRssMb'])} MB`, '', '< 250 MB', verdict(v['memory'] ?? null)]);
  if ('repollPeakRssMb' in r('memory') && !error('memory')) rows.push(['  memory, re-poll', `peak RSS ${fmt(r('memory')['repollPeakRssMb'])} MB`, `before ${fmt(r('memory')['repollStartRssMb'])} MB`, '', '< 250 MB', '']);
  add('scaleOut', [`6 scale-out (2 vs 1, ${fmt(r('scaleOut')['deliveries'])})`, `${fmt(r('scaleOut')['twoPerSec'], 1)} vs ${fmt(r('scaleOut')['onePerSec'], 1)} /s`, '', fmt(r('scaleOut')['ratio'], 3), 'report', '']);
  const fair = r('fairness');
  add('fairness', [
    `7 fairness (B ${fmt(fair['changes'])} at ${fmt(fair['ratePerSec'])}/s)`,
    `B p99 ${fmt(fair['p99MsBesideSlow'], 1)} ms beside A (${fmt(fair['slowBacklog'])} pending, ${fmt(fair['slowAnswerMs'])} ms answers)`,
    `alone ${fmt(fair['p99MsAlone'], 1)} ms`,
    fmt(fair['ratio'], 2),
    '<= 2',
    verdict(v['fairness'] ?? null),
  ]);
  const store = r('store');
  if ('store' in results && !error('store')) {
    rows.push([
      `store primitives (${fmt(store['items'])} items)`,
      `insert ${fmt(store['insertUsPerDoc'], 0)} us/doc; find by _id ${fmt(store['findOneByIdMs'], 1)} ms; $in of 1000 ${fmt(store['findIn1000IdsMs'])} ms; scan ${fmt(store['scanUsPerDoc'], 0)} us/doc; update ${fmt(store['updateOneByIdMs'], 1)} ms`,
      '',
      '',
      '(analysis)',
      '',
    ]);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((row) => row[i]?.length ?? 0))) ?? [];
  const line = (row: Row): string => `| ${row.map((c, i) => c.padEnd(widths[i] ?? 0)).join(' | ')} |`;
  return [line(rows[0] as Row), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
}
