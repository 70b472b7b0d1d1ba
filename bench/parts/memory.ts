import { writeFileSync } from 'node:fs';
import { Child, rssOf } from '../children';
import type { FromChild } from '../protocol';
import { benchOrganization, openScope, round, type BenchContext } from '../context';
import { benchList, benchRecord } from '../records';
import { pollBreakdown } from './ingest';

/**
 * Part 5: peak RSS (VmHWM) of an integration worker process during one paged poll of N records,
 * sampled from /proc by this process. The baseline is the same process idle, before the poll.
 * With `--memory-repoll`, the same process then polls again with one record changed on every page:
 * no page is skipped by the poll memory, the run holds every externalId it sees and its entry's
 * remembered pages, and the deletion pass runs. That second poll's peak is reported too.
 */
/** Sends the child one poll of the entry and samples its RSS every 250 ms until the poll ends. */
async function sampledPoll(child: Child, organizationId: string, pollingId: string): Promise<{ polled: Extract<FromChild, { type: 'polled' }>; samples: Array<[number, number]> }> {
  const samples: Array<[number, number]> = [];
  const t0 = performance.now();
  const timer = setInterval(() => {
    const now = rssOf(child.pid);
    if (now) samples.push([Math.round((performance.now() - t0) / 1000), round(now.rssMb, 0)]);
  }, 250);
  try {
    child.send({ type: 'poll', organizationId, pollingId });
    return { polled: (await child.next('polled', 24 * 3600_000)) as Extract<FromChild, { type: 'polled' }>, samples };
  } finally {
    clearInterval(timer);
  }
}

/** About 40 evenly spaced samples: the shape of the curve, not every point. */
const curve = (samples: Array<[number, number]>): Array<[number, number]> => {
  const step = Math.max(1, Math.ceil(samples.length / 40));
  return samples.filter((_, i) => i % step === 0);
};

export async function runMemory(ctx: BenchContext): Promise<{ memory: Record<string, number>; details: Record<string, unknown> }> {
  const { memoryRecords: n, pageSize } = ctx.options;
  const scope = await openScope(ctx, 'memory');
  let child: Child | undefined;
  try {
    const org = await benchOrganization(scope, 'bench-owner', { pollEndpoint: benchList(ctx.thirdParty, n), pageSize });
    ({ child } = await Child.start('poll', scope.childSettings()));
    const pid = child.pid;
    const baseline = rssOf(pid);
    if (!baseline) throw new Error('cannot read /proc/<pid>/status (Linux only)');
    ctx.log(`memory: poll of ${n} records in an integration worker process (baseline RSS ${round(baseline.rssMb, 0)} MB)`);
    const pollingId = org.polling[0]?.id as string;
    const { polled, samples } = await sampledPoll(child, org.id, pollingId);
    const peak = rssOf(pid);
    if (polled.counts.created !== n) throw new Error(`the memory poll created ${polled.counts.created} of ${n} items`);
    const peakRssMb = round(peak?.peakMb ?? NaN, 0);
    ctx.log(`memory: peak RSS ${peakRssMb} MB`);
    const memory: Record<string, number> = { peakRssMb, baselineRssMb: round(baseline.rssMb, 0), records: n, recordsPerSec: round(n / (polled.profile.wallMs / 1000), 0) };
    const details: Record<string, unknown> = { rssCurveSecMb: curve(samples), poll: pollBreakdown(polled.profile) };
    if (ctx.options.memoryRepoll) {
      // The first record of every page changed (or of every `apart`-th page): those pages are applied, the rest skipped.
      const pagesOf = Math.ceil(n / pageSize);
      const apart = ctx.options.memoryRepollPages > 0 ? Math.max(1, Math.floor(pagesOf / ctx.options.memoryRepollPages)) : 1;
      const isChanged = (i: number): boolean => i % pageSize === 0 && (i / pageSize) % apart === 0;
      let changed = 0;
      for (let p = 0; p < pagesOf; p++) if (isChanged(p * pageSize)) changed++;
      ctx.thirdParty.generatedList(`bench-${n}`, n, (i) => (isChanged(i) ? { ...benchRecord(i), title: ` Song ${i} (changed) ` } : benchRecord(i)));
      const before = rssOf(pid);
      // VmHWM back to the RSS now, so the peak read after is this poll's (Linux: 5 > clear_refs).
      let reset = true;
      try {
        writeFileSync(`/proc/${pid}/clear_refs`, '5');
      } catch {
        reset = false;
      }
      ctx.log(`memory: re-poll of the same ${n} records, one changed on each of ${changed} of ${pagesOf} pages (RSS before ${round(before?.rssMb ?? NaN, 0)} MB)`);
      const { polled: repolled, samples: repollSamples } = await sampledPoll(child, org.id, pollingId);
      if (repolled.counts.updated !== changed || repolled.counts.unchanged !== n - changed || repolled.status !== 'succeeded') {
        throw new Error(`the memory re-poll ended ${repolled.status} with ${JSON.stringify(repolled.counts)}; expected ${changed} updated`);
      }
      const sampledPeak = Math.max(...repollSamples.map(([, mb]) => mb));
      const repollPeakRssMb = reset ? round(rssOf(pid)?.peakMb ?? NaN, 0) : sampledPeak;
      ctx.log(`memory: re-poll peak RSS ${repollPeakRssMb} MB${reset ? '' : ' (sampled every 250 ms: VmHWM could not be reset)'}`);
      Object.assign(memory, { repollChangedPages: changed, repollPeakRssMb, repollStartRssMb: round(before?.rssMb ?? NaN, 0), repollRecordsPerSec: round(n / (repolled.profile.wallMs / 1000), 0) });
      Object.assign(details, { repollRssCurveSecMb: curve(repollSamples), repoll: pollBreakdown(repolled.profile), repollPeakFrom: reset ? 'VmHWM' : 'samples' });
    }
    return { memory, details };
  } finally {
    await child?.stop().catch(() => undefined);
    await scope.close();
  }
}
