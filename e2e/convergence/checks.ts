import { sameFields, type Fields, type PollPrediction, type SyncModel } from './model';
import { fieldsOf, type Sequence } from './system';
import type { PollRunOutcome } from '../../apps/music-integration/src/poll-run';

// What the real system must show, compared with the model: after every command (the stored
// documents of the sequence's items and the third party's records) and at the end of a sequence
// (convergence, duplicates, deliveries).

/** The externalIds a sequence works with: few, so that commands collide on the same items. */
export const KEYS = ['a', 'b', 'c'] as const;

/** A divergence between the system and the model. */
export class Divergence extends Error {
  override readonly name = 'Divergence';
}

const show = (f: Fields | undefined): string => (f ? `${f.name}/${f.artist}/${f.album}` : '-');

export function expectStatus(what: string, actual: number, expected: number): void {
  if (actual !== expected) throw new Divergence(`${what}: the API answered ${actual}, the model expects ${expected}`);
}

/** After a command: every item of the sequence as stored, and every record of the third party. */
export async function verifyStep(m: SyncModel, r: Sequence): Promise<void> {
  const problems: string[] = [];
  const docs = await r.itemDocs(KEYS);
  for (const key of KEYS) {
    const doc = docs.find((d) => d.externalId === key);
    const item = m.local.get(key);
    if (!item) {
      if (doc) problems.push(`local ${key}: stored (${show(fieldsOf(doc.data))}${doc.deleted ? ', tombstone' : ''}), model: absent`);
      continue;
    }
    if (!doc) {
      problems.push(`local ${key}: absent, model: ${show(item.fields)}${item.tombstone ? ' (tombstone)' : ''}`);
      continue;
    }
    const actual = {
      fields: fieldsOf(doc.data),
      tombstone: doc.deleted,
      pending: doc.pendingEvent !== null || doc.state !== 'synced',
      remoteKnown: doc.remoteKnown,
      version: doc.version,
    };
    if (!sameFields(actual.fields, item.fields)) problems.push(`local ${key}: ${show(actual.fields)}, model: ${show(item.fields)}`);
    for (const flag of ['tombstone', 'pending', 'remoteKnown', 'version'] as const) {
      if (actual[flag] !== item[flag]) problems.push(`local ${key}: ${flag} ${String(actual[flag])}, model: ${String(item[flag])}`);
    }
  }
  const remote = new Map(r.faker.state.list().map((i) => [i.id, fieldsOf(i)]));
  for (const key of new Set([...remote.keys(), ...m.remote.keys()])) {
    const a = remote.get(key);
    const e = m.remote.get(key);
    if (!a || !e || !sameFields(a, e)) problems.push(`remote ${key}: ${show(a)}, model: ${show(e)}`);
  }
  if (problems.length > 0) throw new Divergence(`system and model disagree:\n  ${problems.join('\n  ')}`);
}

/** A poll's outcome against the model's prediction. */
export function expectPoll(outcome: PollRunOutcome, expected: PollPrediction): void {
  if (outcome.kind !== 'done') throw new Divergence(`poll ended ${outcome.kind}${'message' in outcome ? `: ${outcome.message}` : ''}, model expects a finished run`);
  const actual = { status: outcome.status, ...outcome.counts };
  const keys = ['status', 'fetched', 'created', 'updated', 'unchanged', 'deleted', 'conflicts'] as const;
  const wrong = keys.filter((k) => actual[k] !== expected[k]);
  if (wrong.length > 0) {
    throw new Divergence(`poll: ${wrong.map((k) => `${k} ${String(actual[k])} (model ${String(expected[k])})`).join(', ')}`);
  }
}

/** The figures a sequence ends with (for the run's statistics). */
export interface SequenceEnd {
  items: number;
  guardHeld: number;
  deliveriesApplied: number;
  deliveryAttempts: number;
}

/**
 * After the final poll, with everything drained: both sides hold the same items with the same
 * values (except what the documented delete guard held back), no duplicates on either side, every
 * delivery came from a local change, and every local change reached the third party once in effect.
 */
export async function verifyEnd(m: SyncModel, r: Sequence): Promise<SequenceEnd> {
  await verifyStep(m, r);
  const problems: string[] = [];

  // Our side through the API: no duplicate externalId, exactly the model's live items.
  const listed = await r.listLocal();
  const local = new Map<string, Fields>();
  for (const item of listed) {
    const id = String(item['externalId']);
    if (local.has(id)) problems.push(`duplicate externalId ${id} in the inventory`);
    local.set(id, fieldsOf(item));
  }
  const expectedLocal = m.liveLocal();
  for (const key of new Set([...local.keys(), ...expectedLocal.keys()])) {
    const a = local.get(key);
    const e = expectedLocal.get(key);
    if (!a || !e || !sameFields(a, e)) problems.push(`inventory API ${key}: ${show(a)}, model: ${show(e)}`);
  }
  // A settled tombstone (kept for fencing until it expires) is not a leftover.
  const leftovers = (await r.allItemDocs()).filter((d) => d.pendingEvent || d.state !== 'synced');
  for (const d of leftovers) problems.push(`item ${d.externalId} still has an undelivered change after the drain`);

  // The third party: no duplicate id.
  const records = r.faker.state.list();
  const remote = new Map<string, Fields>();
  for (const rec of records) {
    if (remote.has(rec.id)) problems.push(`duplicate id ${rec.id} at the third party`);
    remote.set(rec.id, fieldsOf(rec));
  }

  // Convergence: the same items with the same values on both sides. The one documented exception:
  // items the third party dropped while the delete guard held (the run is marked for attention).
  const held = new Set(m.guardHeld);
  for (const key of new Set([...local.keys(), ...remote.keys()])) {
    const a = local.get(key);
    const b = remote.get(key);
    if (a && b && sameFields(a, b)) continue;
    if (a && !b && held.has(key)) continue;
    problems.push(`diverged on ${key}: ours ${show(a)}, third party ${show(b)}`);
  }
  if (held.size > 0 && m.lastPoll?.status !== 'attention') problems.push(`items ${[...held].join(', ')} held without an attention run`);

  // Deliveries: each is one accepted local change (none for what came in), none dead-lettered.
  const deliveries = await r.deliveries();
  const events = [...m.events];
  for (const d of deliveries) {
    const i = events.findIndex((e) => e.externalId === d.externalId && e.version === d.version && e.op === d.op);
    if (i < 0) problems.push(`delivery ${d._id} (${d.op} ${d.externalId} v${d.version}) matches no local change: a change that came in went out`);
    else events.splice(i, 1);
    if (d.status === 'failed' || d.status === 'pending') problems.push(`delivery ${d._id} (${d.op} ${d.externalId} v${d.version}) ended ${d.status}`);
  }
  const deliveryIds = new Set(deliveries.map((d) => d._id));
  const received = r.faker.state.received;
  const applied = new Set<string>();
  for (const rec of received) {
    if (rec.webhookId === null || !deliveryIds.has(rec.webhookId)) problems.push(`the third party received webhook-id ${String(rec.webhookId)}, which is no delivery of ours`);
    if (rec.outcome === 'applied' && rec.webhookId !== null) {
      if (applied.has(rec.webhookId)) problems.push(`webhook-id ${rec.webhookId} applied twice`);
      applied.add(rec.webhookId);
    }
  }
  // Every item's last local change before it settled must have been applied; older ones may have
  // been superseded by a newer one (never sent), so the bound is from below.
  if (applied.size < m.mustDeliver) problems.push(`${applied.size} distinct deliveries applied, at least ${m.mustDeliver} local changes had to reach the third party`);

  if (problems.length > 0) throw new Divergence(`end of sequence:\n  ${problems.join('\n  ')}`);
  return { items: local.size, guardHeld: held.size, deliveriesApplied: applied.size, deliveryAttempts: received.length };
}
