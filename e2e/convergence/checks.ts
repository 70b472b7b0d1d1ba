import { sameFields, show, type Fields, type Model, type PollPrediction, type State } from './model';
import { fieldsOf, type Sequence } from './system';
import type { PollRunOutcome } from '../../apps/music-integration/src/polling/poll-run';
import type { InventoryItemDoc } from '@music/persistence';

// What the real system must show. After every command: each item's state, data and held change as
// the model says, and the third party's records exactly as the model says. At the end of a sequence
// (queues drained, a final poll of every entry): both sides hold the same items with the same
// values, with no excuse but the states the docs define and the model predicts (diverged items,
// items the delete guard kept, local items that never reached the third party), and the delivery
// ledger (no echo, once in effect, nothing stuck).

/** The externalIds a sequence works with: few, so that commands collide on the same items. */
export const KEYS = ['a', 'b', 'c'] as const;

/** A divergence between the system and the model, or between the two sides. */
export class Divergence extends Error {
  override readonly name = 'Divergence';
}

export function expectStatus(what: string, actual: number, expected: number): void {
  if (actual !== expected) throw new Divergence(`${what}: the API answered ${actual}, the model expects ${expected}`);
}

/** The state-table state of a stored document (docs/sync-model.md, "The state table"). */
export function stateOf(doc: InventoryItemDoc | undefined): State {
  if (!doc) return 'absent';
  if (!doc.deleted) return doc.state as State;
  return doc.state === 'pending' ? 'deleting' : doc.state === 'diverged' ? 'delete-diverged' : 'gone';
}

const showHeld = (h: { op: string; data: Fields | null } | null | undefined): string => (h ? `${h.op} ${show(h.data)}` : 'none');

/** After a command: every item of the sequence as stored, and every record of the third party. */
export async function verifyStep(m: Model, r: Sequence): Promise<void> {
  const problems: string[] = [];
  const docs = new Map((await r.allItemDocs()).map((d) => [d.externalId, d]));
  for (const key of new Set([...KEYS, ...docs.keys()])) {
    const doc = docs.get(key);
    const item = m.items.get(key);
    const actual = stateOf(doc);
    const expected = item?.state ?? 'absent';
    if (actual !== expected) {
      problems.push(`ours ${key}: ${actual}${doc ? ` ${show(fieldsOf(doc.data))}` : ''}, model: ${expected}${item ? ` ${show(item.data)}` : ''}`);
      continue;
    }
    if (!doc || !item) continue;
    if (!sameFields(fieldsOf(doc.data), item.data)) problems.push(`ours ${key} (${actual}): ${show(fieldsOf(doc.data))}, model: ${show(item.data)}`);
    if (actual !== 'synced' && actual !== 'gone') {
      const held = doc.held ? { op: doc.held.op, data: doc.held.data ? fieldsOf(doc.held.data) : null } : null;
      const want = item.held;
      if (showHeld(held) !== showHeld(want)) problems.push(`ours ${key} (${actual}): held ${showHeld(held)}, model: held ${showHeld(want)}`);
    }
  }
  const remote = new Map([...r.stub.records.values()].map((rec) => [rec.id, fieldsOf(rec)]));
  for (const key of new Set([...remote.keys(), ...m.remote.keys()])) {
    const a = remote.get(key);
    const e = m.remote.get(key);
    if (!sameFields(a, e)) problems.push(`third party ${key}: ${show(a)}, model: ${show(e)}`);
  }
  if (problems.length > 0) throw new Divergence(`system and model disagree:\n  ${problems.join('\n  ')}`);
}

/** A poll's outcome against the model's prediction. */
export function expectPoll(entry: string, outcome: PollRunOutcome, expected: PollPrediction): void {
  if (outcome.kind !== 'done') throw new Divergence(`poll ${entry} ended ${outcome.kind}${'message' in outcome ? `: ${outcome.message}` : ''}, model expects a finished run`);
  const actual = { status: outcome.status, ...outcome.counts } as Record<string, unknown>;
  const keys = ['status', 'fetched', 'created', 'updated', 'deleted', 'conflicts', 'diverged'] as const;
  const wrong: string[] = keys.filter((k) => actual[k] !== expected[k]).map((k) => `${k} ${String(actual[k])} (model ${String(expected[k])})`);
  // A page skipped as unchanged ("Unchanged pages skip the store") counts its records `unchanged`,
  // those the model finds stale included (same content: nothing to write either way).
  const stale = Number(actual['stale']);
  const staleOrUnchanged = stale + Number(actual['unchanged']);
  if (stale > expected.stale || staleOrUnchanged !== expected.stale + expected.unchanged) {
    wrong.push(`stale ${stale} + unchanged ${staleOrUnchanged - stale} (model ${expected.stale} + ${expected.unchanged})`);
  }
  if (wrong.length > 0) throw new Divergence(`poll ${entry}: ${wrong.join(', ')}`);
}

/** The figures a sequence ends with (for the run's statistics). */
export interface SequenceEnd {
  items: number;
  excused: number;
  deliveriesApplied: number;
  deliveryAttempts: number;
}

/**
 * After the final polls, with everything drained. These checks compare the two sides with each
 * other (not with the model), so a model wrong in the same way as the engine cannot hide a
 * divergence; the only excuses are states the docs define, each of which the model must predict.
 */
export async function verifyEnd(m: Model, r: Sequence, kept: ReadonlySet<string>): Promise<SequenceEnd> {
  await verifyStep(m, r);
  const problems: string[] = [];

  // Ours through the API: no duplicate externalId.
  const local = new Map<string, { fields: Fields; state: string }>();
  for (const item of await r.listLocal()) {
    const id = String(item['externalId']);
    if (local.has(id)) problems.push(`duplicate externalId ${id} in the inventory`);
    local.set(id, { fields: fieldsOf(item), state: String((item['sync'] as { state?: string } | undefined)?.state) });
  }
  // The third party: no duplicate id (its store is keyed by id; its list must not repeat one either).
  const listedIds = [...r.stub.records.keys()];
  if (new Set(listedIds).size !== listedIds.length) problems.push('duplicate id at the third party');
  const remote = new Map([...r.stub.records.values()].map((rec) => [rec.id, fieldsOf(rec)]));

  // Divergences the API reports, each one predicted by the model.
  const reported = new Map((await r.divergences()).map((d) => [String(d['externalId']), String(d['state'])]));
  for (const [key, state] of reported) {
    if (m.state(key) !== state) problems.push(`the API reports ${key} ${state}, the model predicts ${m.state(key)}`);
  }

  const docs = new Map((await r.allItemDocs()).map((d) => [d.externalId, d]));
  for (const key of new Set([...local.keys(), ...remote.keys()])) {
    const ours = local.get(key);
    const theirs = remote.get(key);
    if (ours && theirs && sameFields(ours.fields, theirs)) continue;
    if (reported.has(key)) continue;
    // The delete guard kept it (the final run of its entry ended `attention`): predicted by the model.
    if (ours && !theirs && kept.has(key)) continue;
    // A local item that never reached the third party (one-way, or no output webhook): no entry lists it, nothing sends it.
    const doc = docs.get(key);
    if (ours && !theirs && doc && !doc.remoteKnown && doc.seenBy.length === 0 && m.items.get(key)?.remoteKnown === false && m.items.get(key)?.seenBy.size === 0) continue;
    problems.push(`diverged on ${key}: ours ${show(ours?.fields)}, third party ${show(theirs)}`);
  }

  // Nothing stuck: every item synced, diverged or a settled tombstone.
  for (const d of docs.values()) if (d.pendingEvent || d.state === 'pending') problems.push(`item ${d.externalId} still pending after the drain`);

  // Deliveries: none for an inbound change (each one a local change's version), none left pending.
  const deliveries = await r.deliveries();
  for (const d of deliveries) {
    if (d.status === 'pending') problems.push(`delivery ${d._id} (${d.op} ${d.externalId} v${d.version}) still pending after the drain`);
  }
  // Everything the third party received is one of our deliveries; every distinct webhook-id applied once in effect.
  const ids = new Set(deliveries.map((d) => d._id));
  const applied = new Set<string>();
  for (const rec of r.stub.deliveries) {
    if (!rec.webhookId || !ids.has(rec.webhookId)) problems.push(`the third party received webhook-id ${String(rec.webhookId)}, which is no delivery of ours (an echo?)`);
    if (rec.status < 300 && rec.webhookId && !rec.duplicate) {
      if (applied.has(rec.webhookId)) problems.push(`webhook-id ${rec.webhookId} applied twice`);
      applied.add(rec.webhookId);
    }
  }
  // Each acknowledged delivery was applied by the third party under its webhook-id.
  for (const d of deliveries) if (d.status === 'succeeded' && !applied.has(d._id)) problems.push(`delivery ${d._id} succeeded but the third party never applied it`);
  // Each delivery comes from a local change: the inbound changes never go out (no echo).
  const localVersions = new Set(deliveries.map((d) => `${d.externalId}@${d.version}`));
  if (localVersions.size > m.accepted) problems.push(`${localVersions.size} versions delivered, only ${m.accepted} local changes accepted: something that came in went out`);

  if (problems.length > 0) throw new Divergence(`end of sequence:\n  ${problems.join('\n  ')}`);
  return { items: local.size, excused: reported.size + kept.size, deliveriesApplied: applied.size, deliveryAttempts: r.stub.deliveries.length };
}
