import fc from 'fast-check';
import { sameFields, type Fields, type SyncModel, type WebhookMessage } from './model';
import { Divergence, KEYS, expectPoll, expectStatus, verifyStep } from './checks';
import { until, type CrashPoint, type Sequence } from './system';
import type { PollRunOutcome } from '../../apps/music-integration/src/poll-run';

// The commands of a sequence. Each one changes the model (what must happen), drives the real
// system the same way, waits until the system is quiet, and compares both. `toString()` is the
// line printed in a counterexample, so it reads as a script.

export type WebhookMode = 'now' | 'later' | 'twice' | 'drop';

/** A local write through the inventory API. */
export type LocalOp = { kind: 'create'; fields: Fields } | { kind: 'put'; fields: Fields } | { kind: 'patch'; change: Partial<Fields> } | { kind: 'delete' };

/** Counters for the run's statistics. */
export const commandStats = { run: 0, byKind: {} as Record<string, number>, msByKind: {} as Record<string, number> };

const showFields = (f: Partial<Fields>): string =>
  Object.entries(f)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

function showOp(key: string, op: LocalOp): string {
  switch (op.kind) {
    case 'create':
      return `local create ${key} {${showFields(op.fields)}}`;
    case 'put':
      return `local put ${key} {${showFields(op.fields)}}`;
    case 'patch':
      return `local patch ${key} {${showFields(op.change)}}`;
    case 'delete':
      return `local delete ${key}`;
  }
}

/** The model's side of a local write: the status the API must answer. */
function modelLocal(m: SyncModel, key: string, op: LocalOp): number {
  switch (op.kind) {
    case 'create':
      return m.localCreate(key, op.fields);
    case 'put':
      return m.localUpdate(key, op.fields);
    case 'patch':
      return m.localUpdate(key, op.change);
    case 'delete':
      return m.localDelete(key);
  }
}

function realLocal(r: Sequence, key: string, op: LocalOp): Promise<number> {
  switch (op.kind) {
    case 'create':
      return r.localCreate(key, op.fields);
    case 'put':
      return r.localUpdate(key, op.fields, 'put');
    case 'patch':
      return r.localUpdate(key, op.change, 'patch');
    case 'delete':
      return r.localDelete(key);
  }
}

/** Applies a local write on both sides and compares the API's answer. Returns whether it emitted a change. */
async function localWrite(m: SyncModel, r: Sequence, key: string, op: LocalOp): Promise<boolean> {
  const before = m.events.length;
  const expected = modelLocal(m, key, op);
  expectStatus(showOp(key, op), await realLocal(r, key, op), expected);
  return m.events.length > before;
}

/** Everything is delivered (unless the third party is down), then the model follows. */
async function settle(m: SyncModel, r: Sequence): Promise<void> {
  await r.settled(KEYS);
  m.deliverPending();
}

async function deliverWebhook(m: SyncModel, r: Sequence, message: WebhookMessage): Promise<void> {
  const expected = m.receiveWebhook(message);
  const res = await r.sendWebhook(message.method, message.body, message.messageId);
  if (res.status !== 202) throw new Divergence(`input webhook ${message.messageId}: answered ${res.status}, expected 202`);
  if (res.duplicate !== expected.duplicate) throw new Divergence(`input webhook ${message.messageId}: duplicate=${res.duplicate}, model: ${expected.duplicate}`);
  await r.inboundSettled();
}

async function sendByMode(m: SyncModel, r: Sequence, message: WebhookMessage, mode: WebhookMode): Promise<void> {
  switch (mode) {
    case 'now':
      return deliverWebhook(m, r, message);
    case 'later':
      m.delayedWebhooks.push(message);
      return;
    case 'twice':
      await deliverWebhook(m, r, message);
      // The sender retries the same message later (same webhook-id): it must be taken once.
      m.delayedWebhooks.push(message);
      return;
    case 'drop':
      return;
  }
}

/** The base of every command: outage bookkeeping, then the command, then the step check. */
abstract class Step implements fc.AsyncCommand<SyncModel, Sequence> {
  abstract readonly kind: string;

  check(m: Readonly<SyncModel>): boolean {
    if (m.mustComeBack) return this instanceof ThirdPartyUp;
    return this.allowed(m);
  }

  protected allowed(_m: Readonly<SyncModel>): boolean {
    return true;
  }

  async run(m: SyncModel, r: Sequence): Promise<void> {
    m.tick();
    commandStats.run++;
    commandStats.byKind[this.kind] = (commandStats.byKind[this.kind] ?? 0) + 1;
    const started = Date.now();
    try {
      await this.apply(m, r);
      await verifyStep(m, r);
    } finally {
      commandStats.msByKind[this.kind] = (commandStats.msByKind[this.kind] ?? 0) + Date.now() - started;
    }
  }

  protected abstract apply(m: SyncModel, r: Sequence): Promise<void>;
  abstract toString(): string;
}

/** How the third party first answers the delivery of a local write (then normally). */
export type Flaky = 'ok' | '503' | '503x2' | 'timeout';

/** A local create/update/delete through the API, its delivery failing first as `flaky` says. */
export class LocalWrite extends Step {
  readonly kind = 'local';
  constructor(
    readonly key: string,
    readonly op: LocalOp,
    readonly flaky: Flaky = 'ok',
  ) {
    super();
  }

  protected override allowed(m: Readonly<SyncModel>): boolean {
    return this.flaky === 'ok' || !m.down;
  }

  protected async apply(m: SyncModel, r: Sequence): Promise<void> {
    if (this.flaky === '503' || this.flaky === '503x2') r.flakyDeliveries(this.flaky === '503' ? 1 : 2, 503);
    if (this.flaky === 'timeout') r.slowDelivery();
    await localWrite(m, r, this.key, this.op);
    await settle(m, r);
    if (this.flaky !== 'ok') r.faker.state.clearFaults();
  }

  toString(): string {
    const first = { ok: '', '503': ' (its delivery answered 503 once first)', '503x2': ' (its delivery answered 503 twice first)', timeout: ' (its delivery timed out once first)' }[this.flaky];
    return `${showOp(this.key, this.op)}${first}`;
  }
}

/** Several local writes of one item back to back, without waiting for deliveries in between. */
export class LocalBurst extends Step {
  readonly kind = 'burst';
  constructor(
    readonly key: string,
    readonly ops: LocalOp[],
  ) {
    super();
  }

  protected async apply(m: SyncModel, r: Sequence): Promise<void> {
    for (const op of this.ops) await localWrite(m, r, this.key, op);
    await settle(m, r);
  }

  toString(): string {
    return `burst [${this.ops.map((op) => showOp(this.key, op)).join('; ')}]`;
  }
}

/** The third party creates or changes an item itself, then calls (or not) our input webhook. */
export class RemoteUpsert extends Step {
  readonly kind = 'remote-upsert';
  constructor(
    readonly key: string,
    readonly fields: Fields,
    readonly webhook: WebhookMode,
  ) {
    super();
  }

  protected async apply(m: SyncModel, r: Sequence): Promise<void> {
    const record = r.remoteUpsert(this.key, this.fields);
    await sendByMode(m, r, m.remoteUpsert(this.key, this.fields, record), this.webhook);
  }

  toString(): string {
    return `remote upsert ${this.key} {${showFields(this.fields)}} webhook=${this.webhook}`;
  }
}

/** The third party deletes an item it holds, then calls (or not) our input webhook. */
export class RemoteDelete extends Step {
  readonly kind = 'remote-delete';
  constructor(
    readonly key: string,
    readonly webhook: WebhookMode,
  ) {
    super();
  }

  protected override allowed(m: Readonly<SyncModel>): boolean {
    return m.remote.has(this.key);
  }

  protected async apply(m: SyncModel, r: Sequence): Promise<void> {
    const record = r.remoteDelete(this.key);
    if (!record) throw new Divergence(`remote delete ${this.key}: the third party does not hold it, the model says it does`);
    await sendByMode(m, r, m.remoteDelete(this.key, record), this.webhook);
  }

  toString(): string {
    return `remote delete ${this.key} webhook=${this.webhook}`;
  }
}

/** A delayed webhook arrives now (the `pick`-th waiting one, so they arrive in any order). */
export class DeliverDelayedWebhook extends Step {
  readonly kind = 'delayed-webhook';
  constructor(readonly pick: number) {
    super();
  }

  protected override allowed(m: Readonly<SyncModel>): boolean {
    return m.delayedWebhooks.length > 0;
  }

  protected async apply(m: SyncModel, r: Sequence): Promise<void> {
    const [message] = m.delayedWebhooks.splice(this.pick % m.delayedWebhooks.length, 1);
    if (message) await deliverWebhook(m, r, message);
  }

  toString(): string {
    return `deliver delayed webhook #${this.pick}`;
  }
}

export class Poll extends Step {
  readonly kind = 'poll';

  protected async apply(m: SyncModel, r: Sequence): Promise<void> {
    const expected = m.poll();
    expectPoll(await r.poll(), expected);
    // A poll writes remote items only: nothing may be delivered because of it.
    await settle(m, r);
  }

  toString(): string {
    return 'poll';
  }
}

/** A poll whose fetch fails (503): nothing changes, nothing is deleted. */
export class FailedPoll extends Step {
  readonly kind = 'failed-poll';

  protected override allowed(m: Readonly<SyncModel>): boolean {
    return !m.down;
  }

  protected async apply(_m: SyncModel, r: Sequence): Promise<void> {
    r.failNextPoll();
    const outcome = await r.poll();
    r.faker.state.clearFaults();
    if (outcome.kind !== 'retry') throw new Divergence(`a poll whose fetch failed ended ${outcome.kind}, expected a retry`);
  }

  toString(): string {
    return 'poll (fetch fails with 503)';
  }
}

/** The third party's delivery endpoints start failing (503) until ThirdPartyUp. */
export class ThirdPartyDown extends Step {
  readonly kind = 'down';

  protected override allowed(m: Readonly<SyncModel>): boolean {
    return !m.down;
  }

  protected async apply(m: SyncModel, r: Sequence): Promise<void> {
    m.goDown();
    r.goDown();
  }

  toString(): string {
    return 'third party down (deliveries answer 503)';
  }
}

export class ThirdPartyUp extends Step {
  readonly kind = 'up';

  protected override allowed(m: Readonly<SyncModel>): boolean {
    return m.down;
  }

  protected async apply(m: SyncModel, r: Sequence): Promise<void> {
    r.comeBack();
    m.comeBack();
    await r.settled(KEYS);
  }

  toString(): string {
    return 'third party up again';
  }
}

/**
 * A local write whose enqueue is lost (the inventory process died after its database write, or
 * its Redis was unreachable): the change was accepted, and only the outbox sweeper can bring it out.
 */
export class LocalWriteLostEnqueue extends Step {
  readonly kind = 'lost-enqueue';
  constructor(
    readonly key: string,
    readonly op: LocalOp,
  ) {
    super();
  }

  protected async apply(m: SyncModel, r: Sequence): Promise<void> {
    r.loseEnqueues = true;
    try {
      await localWrite(m, r, this.key, this.op);
    } finally {
      r.loseEnqueues = false;
    }
    await settle(m, r);
  }

  toString(): string {
    return `${showOp(this.key, this.op)} (its enqueue lost: only the sweeper can deliver it)`;
  }
}

/**
 * A local edit and an inbound change of the same item at the same moment (not waiting for one
 * before the other). Whatever the order, the documented rule gives one outcome: if the local edit
 * lands first it is undelivered when the inbound change arrives and wins; if the inbound change
 * lands first the local edit overwrites it. Either way both sides end with the local edit. Only
 * generated when that holds: the item is live, settled and held by the third party, and the edit
 * differs from both its current and the incoming content.
 */
export class RaceLocalWithInbound extends Step {
  readonly kind = 'race';
  constructor(
    readonly key: string,
    readonly local: Fields,
    readonly incoming: Fields,
    readonly via: 'webhook' | 'poll',
  ) {
    super();
  }

  protected override allowed(m: Readonly<SyncModel>): boolean {
    const item = m.local.get(this.key);
    if (m.down || !item || item.tombstone || item.pending || !m.remote.has(this.key)) return false;
    return !sameFields(this.local, item.fields) && !sameFields(this.local, this.incoming);
  }

  protected async apply(m: SyncModel, r: Sequence): Promise<void> {
    const record = r.remoteUpsert(this.key, this.incoming);
    const message = m.remoteUpsert(this.key, this.incoming, record);
    // The model takes the local edit first (the other order ends the same, see above).
    expectStatus('racing local put', 200, m.localUpdate(this.key, this.local));
    if (this.via === 'webhook') {
      m.receiveWebhook(message);
      const [status, res] = await Promise.all([r.localUpdate(this.key, this.local, 'put'), r.sendWebhook('POST', record, message.messageId)]);
      expectStatus(`racing local put ${this.key}`, status, 200);
      if (res.status !== 202) throw new Divergence(`racing input webhook answered ${res.status}`);
      await r.inboundSettled();
    } else {
      // Which of the two the poll saw first changes its counts for this item only: check the rest.
      const expected = m.poll();
      const [status, outcome] = await Promise.all([r.localUpdate(this.key, this.local, 'put'), r.poll()]);
      expectStatus(`racing local put ${this.key}`, status, 200);
      if (outcome.kind !== 'done' || outcome.status !== expected.status || outcome.counts.deleted !== expected.deleted || outcome.counts.fetched !== expected.fetched) {
        throw new Divergence(`racing poll: ${JSON.stringify(outcome)}, model expects status ${expected.status}, fetched ${expected.fetched}, deleted ${expected.deleted}`);
      }
    }
    await settle(m, r);
    // One order leaves a transient difference: our edit delivered, then the older inbound content
    // applied after it (the latest inbound write wins). The next poll repairs it; it is run here so
    // that every order ends in the same state.
    const expected = m.poll();
    const outcome = await r.poll();
    if (outcome.kind !== 'done' || outcome.status !== expected.status || outcome.counts.deleted !== expected.deleted) {
      throw new Divergence(`poll after the race: ${JSON.stringify(outcome)}, model expects status ${expected.status}, deleted ${expected.deleted}`);
    }
    await settle(m, r);
  }

  toString(): string {
    return `race: local put ${this.key} {${showFields(this.local)}} with remote upsert {${showFields(this.incoming)}} via ${this.via}`;
  }
}

/**
 * A poll that overlaps a delivery: a local write whose delivery is slow; a poll starts and the third
 * party answers it before the delivery lands, but the answer reaches the engine only after the
 * delivery landed and settled. The poll thus applies a snapshot older than our delivered change.
 * The documented rule: its records still win ("the latest inbound write wins"), but an item
 * changed since the run started is never taken for a remote delete.
 */
export class PollOverlappingDelivery extends Step {
  readonly kind = 'overlapping-poll';
  constructor(
    readonly key: string,
    readonly op: LocalOp,
  ) {
    super();
  }

  protected override allowed(m: Readonly<SyncModel>): boolean {
    return !m.down;
  }

  protected async apply(m: SyncModel, r: Sequence): Promise<void> {
    const http = r.world.http;
    http.holdDeliveries();
    let polling: Promise<PollRunOutcome> | undefined;
    try {
      const emitted = await localWrite(m, r, this.key, this.op);
      const snapshot = new Map(m.remote);
      http.holdNextPollResponse();
      polling = r.poll();
      await until(async () => http.heldPolls > 0, () => 'the poll to fetch');
      http.releaseDeliveries();
      await r.settled(KEYS);
      m.deliverPending();
      http.releasePollResponse();
      expectPoll(await polling, m.poll(snapshot, new Set(emitted ? [this.key] : [])));
    } finally {
      http.releaseDeliveries();
      http.releasePollResponse();
      await polling?.catch(() => undefined);
    }
    await settle(m, r);
  }

  toString(): string {
    return `${showOp(this.key, this.op)} with a poll overlapping its delivery (snapshot taken before it landed; applied after)`;
  }
}

export type RestartKind = 'graceful' | CrashPoint;

/**
 * A local write, and the integration process restarts while its change is on the way: gracefully
 * (workers finish their active jobs), or by crashing in the middle of the delivery's HTTP call,
 * before the request left or after the third party applied it (the response lost).
 */
export class Restart extends Step {
  readonly kind = 'restart';
  constructor(
    readonly restart: RestartKind,
    readonly key: string,
    readonly op: LocalOp,
  ) {
    super();
  }

  protected override allowed(m: Readonly<SyncModel>): boolean {
    return !m.down;
  }

  protected async apply(m: SyncModel, r: Sequence): Promise<void> {
    const world = r.world;
    // Only a write that emits a change has a delivery to crash in.
    const emits = wouldEmit(m, this.key, this.op);
    if (this.restart !== 'graceful' && emits) world.http.arm(this.restart);
    await localWrite(m, r, this.key, this.op);
    if (this.restart !== 'graceful' && emits) {
      await until(async () => world.http.hung > 0, () => 'the delivery to be in flight');
      await world.crashAndRecover();
    } else {
      await world.restartGracefully();
    }
    await settle(m, r);
  }

  toString(): string {
    const how = this.restart === 'graceful' ? 'graceful restart' : `crash ${this.restart} and restart`;
    return `${showOp(this.key, this.op)} then ${how} of the integration workers`;
  }
}

/** Whether a local write would emit a change (without changing the model). */
function wouldEmit(m: SyncModel, key: string, op: LocalOp): boolean {
  const item = m.local.get(key);
  const live = item !== undefined && !item.tombstone;
  switch (op.kind) {
    case 'create':
      return !live;
    case 'delete':
      return live;
    case 'put':
    case 'patch': {
      if (!live) return false;
      const next = { ...item.fields, ...(op.kind === 'put' ? op.fields : op.change) };
      return next.name !== item.fields.name || next.artist !== item.fields.artist || next.album !== item.fields.album;
    }
  }
}

// ---- arbitraries ----------------------------------------------------------------------------------

// Few values per field, so that updates to the same content (no-ops) and equal records happen.
const keyArb = fc.constantFrom(...KEYS);
const fieldsArb: fc.Arbitrary<Fields> = fc.record({
  name: fc.constantFrom('n1', 'n2', 'n3'),
  artist: fc.constantFrom('r1', 'r2'),
  album: fc.constantFrom('x1', 'x2'),
});
const patchArb: fc.Arbitrary<Partial<Fields>> = fc.oneof(
  fc.record({ name: fc.constantFrom('n1', 'n2', 'n3') }),
  fc.record({ artist: fc.constantFrom('r1', 'r2') }),
  fc.record({ album: fc.constantFrom('x1', 'x2') }),
);
const opArb: fc.Arbitrary<LocalOp> = fc.oneof(
  { weight: 3, arbitrary: fieldsArb.map((fields) => ({ kind: 'create' as const, fields })) },
  { weight: 2, arbitrary: fieldsArb.map((fields) => ({ kind: 'put' as const, fields })) },
  { weight: 2, arbitrary: patchArb.map((change) => ({ kind: 'patch' as const, change })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'delete' as const }) },
);
const webhookArb: fc.Arbitrary<WebhookMode> = fc.constantFrom('now', 'now', 'now', 'later', 'later', 'twice', 'drop');
const flakyArb = fc.constantFrom<Flaky>('ok', 'ok', 'ok', 'ok', 'ok', '503', '503x2', 'timeout');

/** The command mix: weights by repetition (fc.commands picks among the arbitraries uniformly). */
export function commandArbitraries(): Array<fc.Arbitrary<Step>> {
  const local = fc.tuple(keyArb, opArb, flakyArb).map(([k, op, flaky]) => new LocalWrite(k, op, flaky));
  const remoteUpsert = fc.tuple(keyArb, fieldsArb, webhookArb).map(([k, f, w]) => new RemoteUpsert(k, f, w));
  const remoteDelete = fc.tuple(keyArb, webhookArb).map(([k, w]) => new RemoteDelete(k, w));
  return [
    local,
    local,
    local,
    local,
    fc.tuple(keyArb, fc.array(opArb, { minLength: 2, maxLength: 3 })).map(([k, ops]) => new LocalBurst(k, ops)),
    remoteUpsert,
    remoteUpsert,
    remoteUpsert,
    remoteDelete,
    remoteDelete,
    remoteDelete,
    fc.nat(7).map((n) => new DeliverDelayedWebhook(n)),
    fc.nat(7).map((n) => new DeliverDelayedWebhook(n)),
    fc.constant(new Poll()),
    fc.constant(new Poll()),
    fc.constant(new FailedPoll()),
    fc.constant(new ThirdPartyDown()),
    fc.constant(new ThirdPartyUp()),
    fc.constant(new ThirdPartyUp()),
    fc.tuple(fc.constantFrom<RestartKind>('graceful', 'before-send', 'after-send'), keyArb, opArb).map(([kind, k, op]) => new Restart(kind, k, op)),
    fc.tuple(keyArb, opArb).map(([k, op]) => new LocalWriteLostEnqueue(k, op)),
    fc.tuple(keyArb, opArb).map(([k, op]) => new PollOverlappingDelivery(k, op)),
    fc.tuple(keyArb, fieldsArb, fieldsArb, fc.constantFrom<'webhook' | 'poll'>('webhook', 'poll')).map(([k, l, i, via]) => new RaceLocalWithInbound(k, l, i, via)),
    fc.tuple(keyArb, fieldsArb, fieldsArb, fc.constantFrom<'webhook' | 'poll'>('webhook', 'poll')).map(([k, l, i, via]) => new RaceLocalWithInbound(k, l, i, via)),
  ];
}
