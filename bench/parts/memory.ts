import { Child, rssOf } from '../children';
import { benchOrganization, openScope, round, type BenchContext } from '../context';
import { benchList } from '../records';
import { pollBreakdown } from './ingest';

/**
 * Part 5: peak RSS (VmHWM) of an integration worker process during one paged poll of N records,
 * sampled from /proc by this process. The baseline is the same process idle, before the poll.
 */
export async function runMemory(ctx: BenchContext): Promise<{ memory: Record<string, number>; details: Record<string, unknown> }> {
  const { memoryRecords: n, pageSize } = ctx.options;
  const scope = await openScope(ctx, 'memory');
  let child: Child | undefined;
  let timer: NodeJS.Timeout | undefined;
  try {
    const org = await benchOrganization(scope, 'bench-owner', { pollEndpoint: benchList(ctx.thirdParty, n), pageSize });
    ({ child } = await Child.start('poll', scope.childSettings()));
    const pid = child.pid;
    const baseline = rssOf(pid);
    if (!baseline) throw new Error('cannot read /proc/<pid>/status (Linux only)');
    const samples: Array<[number, number]> = [];
    const t0 = performance.now();
    timer = setInterval(() => {
      const now = rssOf(pid);
      if (now) samples.push([Math.round((performance.now() - t0) / 1000), round(now.rssMb, 0)]);
    }, 250);
    ctx.log(`memory: poll of ${n} records in an integration worker process (baseline RSS ${round(baseline.rssMb, 0)} MB)`);
    child.send({ type: 'poll', organizationId: org.id, pollingId: org.polling[0]?.id as string });
    const polled = await child.next('polled', 24 * 3600_000);
    clearInterval(timer);
    const peak = rssOf(pid);
    if (polled.counts.created !== n) throw new Error(`the memory poll created ${polled.counts.created} of ${n} items`);
    const peakRssMb = round(peak?.peakMb ?? NaN, 0);
    ctx.log(`memory: peak RSS ${peakRssMb} MB`);
    // Keep about 40 evenly spaced samples: the shape of the curve, not every point.
    const step = Math.max(1, Math.ceil(samples.length / 40));
    return {
      memory: { peakRssMb, baselineRssMb: round(baseline.rssMb, 0), records: n, recordsPerSec: round(n / (polled.profile.wallMs / 1000), 0) },
      details: { rssCurveSecMb: samples.filter((_, i) => i % step === 0), poll: pollBreakdown(polled.profile) },
    };
  } finally {
    if (timer) clearInterval(timer);
    await child?.stop().catch(() => undefined);
    await scope.close();
  }
}
