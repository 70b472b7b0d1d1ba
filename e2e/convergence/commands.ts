import fc from 'fast-check';
import { show, type Fields, type Message, type Model } from './model';
import { Divergence, KEYS, expectPoll, expectStatus, verifyStep } from './checks';
import { fieldsOf, until, type CrashPoint, type OutputName, type Sequence } from './system';

// The commands of a sequence. Each one tells the model what happens (the model says what each side
// must then hold and what must be sent), drives the real system the same way through its APIs and
// the stub third party, waits until the system is quiet, and compares (checks.ts). `toString()` is
// the line printed in a counterexample, so it reads as a script.

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

function modelLocal(m: Model, key: string, op: LocalOp): number {
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

async function localWrite(m: Model, r: Sequence, key: string, op: LocalOp): Promise<void> {
  expectStatus(showOp(key, op), await realLocal(r, key, op), modelLocal(m, key, op));
}

/** Everything is delivered (unless the third party is down), then the model follows. */
export async function settle(m: Model, r: Sequence): Promise<void> {
  await r.settled();
  m.deliverAll();
}

async function deliverWebhook(m: Model, r: Sequence, message: Message): Promise<void> {
  const expected = m.receive(message);
  const body = message.method === 'POST' && message.data ? { id: message.key, ...message.data, genre: 'Convergence' } : { id: message.key };
  const res = await r.sendWebhook(message.method, body, message.id);
  if (res.status !== 202) throw new Divergence(`input webhook ${message.id}: answered ${res.status}, expected 202`);
  if (res.duplicate !== expected.duplicate) throw new Divergence(`input webhook ${message.id}: duplicate=${res.duplicate}, model: ${expected.duplicate}`);
  await r.inboundSettled();
}

async function sendByMode(m: Model, r: Sequence, message: Message, mode: WebhookMode): Promise<void> {
  switch (mode) {
    case 'now':
      return deliverWebhook(m, r, message);
    case 'later':
      m.delayed.push(message);
      return;
    case 'twice':
      await deliverWebhook(m, r, message);
      // The sender retries the same call later (same webhook-id): it must be taken once.
      m.delayed.push(message);
      return;
    case 'drop':
      return;
  }
}

/** The polling entry a command's generated index picks, among the entries the organization has now. */
function entryAt(m: Readonly<Model>, index: number): string {
  return m.entries[index % m.entries.length]?.name ?? 'E1';
}

/** A poll of `entry`, run to its end, compared with the model's prediction. */
async function poll(m: Model, r: Sequence, entry: string): Promise<string[]> {
  const start = m.tick();
  const expected = m.poll(entry, m.snapshotOf(entry), start);
  expectPoll(entry, await r.poll(entry), expected);
  return expected.kept;
}

/** The base of every command: outage bookkeeping, the command, the step check, and the no-echo check. */
abstract class Step implements fc.AsyncCommand<Model, Sequence> {
  abstract readonly kind: string;
  /** Whether the command makes local changes (only those may create deliveries). */
  protected readonly local: boolean = false;

  check(m: Readonly<Model>): boolean {
    // A deleted organization takes no more commands: its sequence ends.
    if (m.deleted) return false;
    if (m.down && m.downFor >= 6) return this instanceof ThirdPartyUp;
    return this.allowed(m);
  }

  protected allowed(_m: Readonly<Model>): boolean {
    return true;
  }

  async run(m: Model, r: Sequence): Promise<void> {
    if (m.down) m.downFor++;
    commandStats.run++;
    commandStats.byKind[this.kind] = (commandStats.byKind[this.kind] ?? 0) + 1;
    const started = Date.now();
    try {
      const before = this.local ? 0 : (await r.deliveries()).length;
      await this.apply(m, r);
      if (!this.local) {
        const after = await r.deliveries();
        if (after.length !== before) throw new Divergence(`${this.toString()}: no local change, yet ${after.length - before} delivery(ies) created: ${after.slice(before).map((d) => `${d.op} ${d.externalId} v${d.version}`).join(', ')} (an echo)`);
      }
      if (!m.deleted) await verifyStep(m, r);
    } finally {
      commandStats.msByKind[this.kind] = (commandStats.msByKind[this.kind] ?? 0) + Date.now() - started;
    }
  }

  protected abstract apply(m: Model, r: Sequence): Promise<void>;
  abstract toString(): string;
}

/** How the third party first answers the delivery of a local write: normally, a 503 first (retried), or a 400 (refused: the webhook gives up). */
export type Flaky = 'ok' | '503' | 'refused';

export class LocalWrite extends Step {
  readonly kind = 'local';
  protected override readonly local = true;
  constructor(
    readonly key: string,
    readonly op: LocalOp,
    readonly flaky: Flaky = 'ok',
  ) {
    super();
  }

  protected override allowed(m: Readonly<Model>): boolean {
    return this.flaky === 'ok' || (!m.down && m.twoWay);
  }

  protected async apply(m: Model, r: Sequence): Promise<void> {
    const output: OutputName = this.op.kind === 'delete' ? 'delete' : 'create';
    const modelOutput = m.outputs.find((o) => o.name === output);
    if (this.flaky === '503') r.flakyDeliveries(1, 503);
    if (this.flaky === 'refused') {
      r.refuseOnce(output);
      if (modelOutput) modelOutput.refusing = true;
    }
    try {
      await localWrite(m, r, this.key, this.op);
      await settle(m, r);
    } finally {
      if (modelOutput && this.flaky === 'refused') modelOutput.refusing = false;
      r.clearFaults();
    }
  }

  toString(): string {
    return `${showOp(this.key, this.op)}${{ ok: '', '503': ' (its delivery answered 503 once first)', refused: ' (its delivery refused with 400)' }[this.flaky]}`;
  }
}

/** Several local writes of one item back to back, without waiting for deliveries in between. */
export class LocalBurst extends Step {
  readonly kind = 'burst';
  protected override readonly local = true;
  constructor(
    readonly key: string,
    readonly ops: LocalOp[],
  ) {
    super();
  }

  /**
   * Without a DELETE output webhook, a delete right after an upsert ends differently depending on
   * whether the upsert's delivery went out before the delete superseded it (the third party keeps
   * the item either way, row 26): both are right, so such bursts are not generated.
   */
  protected override allowed(m: Readonly<Model>): boolean {
    return !(m.twoWay && !m.outputs.some((o) => o.kind === 'delete') && this.ops.some((op) => op.kind === 'delete'));
  }

  protected async apply(m: Model, r: Sequence): Promise<void> {
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

  protected async apply(m: Model, r: Sequence): Promise<void> {
    r.remoteUpsert(this.key, this.fields);
    await sendByMode(m, r, m.remoteUpsert(this.key, this.fields), this.webhook);
  }

  toString(): string {
    return `remote upsert ${this.key} {${showFields(this.fields)}} webhook=${this.webhook}`;
  }
}

export class RemoteDelete extends Step {
  readonly kind = 'remote-delete';
  constructor(
    readonly key: string,
    readonly webhook: WebhookMode,
  ) {
    super();
  }

  protected override allowed(m: Readonly<Model>): boolean {
    return m.remote.has(this.key);
  }

  protected async apply(m: Model, r: Sequence): Promise<void> {
    r.remoteDelete(this.key);
    await sendByMode(m, r, m.remoteDelete(this.key), this.webhook);
  }

  toString(): string {
    return `remote delete ${this.key} webhook=${this.webhook}`;
  }
}

/** A late input webhook call arrives now (the `pick`-th waiting one: they arrive in any order). */
export class DeliverDelayedWebhook extends Step {
  readonly kind = 'delayed-webhook';
  constructor(readonly pick: number) {
    super();
  }

  protected override allowed(m: Readonly<Model>): boolean {
    return m.delayed.length > 0;
  }

  protected async apply(m: Model, r: Sequence): Promise<void> {
    const [message] = m.delayed.splice(this.pick % m.delayed.length, 1);
    if (message) await deliverWebhook(m, r, message);
  }

  toString(): string {
    return `deliver delayed webhook #${this.pick}`;
  }
}

/** One poll of the entry, then everything it queued run to the end. */
async function pollAndSettle(m: Model, r: Sequence, entry: ReturnType<typeof entryAt>): Promise<void> {
  await poll(m, r, entry);
  await settle(m, r);
}

export class Poll extends Step {
  readonly kind = 'poll';
  constructor(readonly entry: number) {
    super();
  }

  protected async apply(m: Model, r: Sequence): Promise<void> {
    await pollAndSettle(m, r, entryAt(m, this.entry));
  }

  toString(): string {
    return `poll entry #${this.entry}`;
  }
}

/**
 * A poll of an entry, then at once another (nothing changed in between): the second may skip its
 * pages as unchanged ("Unchanged pages skip the store"). Skipping or not, the model expects the same
 * counts (a skipped page's records count unchanged) and the same end state.
 */
export class RePoll extends Step {
  readonly kind = 'repoll';
  constructor(readonly entry: number) {
    super();
  }

  protected async apply(m: Model, r: Sequence): Promise<void> {
    const entry = entryAt(m, this.entry);
    await pollAndSettle(m, r, entry);
    await pollAndSettle(m, r, entry);
  }

  toString(): string {
    return `poll entry #${this.entry}, then again at once (unchanged re-poll)`;
  }
}

/**
 * The organization's write mark is lost (its Redis key deleted, as an eviction would): the next poll
 * may not trust its remembered pages. The model: nothing changes on either side.
 */
export class LoseWriteMark extends Step {
  readonly kind = 'mark-lost';

  protected async apply(_m: Model, r: Sequence): Promise<void> {
    await r.world.loseWriteMark(r.org.id);
  }

  toString(): string {
    return 'the write mark lost (its Redis key deleted)';
  }
}

/** What happens while a slow poll's list response is held (its snapshot already taken). */
export type Overlap = { kind: 'local'; key: string; op: LocalOp } | { kind: 'remote-upsert'; key: string; fields: Fields; webhook: WebhookMode } | { kind: 'remote-delete'; key: string; webhook: WebhookMode } | { kind: 'delayed-webhook'; pick: number };

function showOverlap(o: Overlap): string {
  switch (o.kind) {
    case 'local':
      return showOp(o.key, o.op);
    case 'remote-upsert':
      return `remote upsert ${o.key} {${showFields(o.fields)}} webhook=${o.webhook}`;
    case 'remote-delete':
      return `remote delete ${o.key} webhook=${o.webhook}`;
    case 'delayed-webhook':
      return `deliver delayed webhook #${o.pick}`;
  }
}

/**
 * A slow poll: it begins (its start recorded), the third party takes its snapshot and answers, but
 * the answer is held on the way; meanwhile `overlap` happens and settles (a local change delivered,
 * a remote change and its webhook applied); then the stale answer arrives and is applied. By rule 2
 * none of its records may undo what happened meanwhile, and its deletion pass may not delete it.
 */
export class SlowPoll extends Step {
  readonly kind = 'slow-poll';
  protected override readonly local: boolean;
  constructor(
    readonly entry: number,
    readonly overlap: Overlap,
  ) {
    super();
    this.local = overlap.kind === 'local';
  }

  protected override allowed(m: Readonly<Model>): boolean {
    if (this.overlap.kind === 'remote-delete' && !m.remote.has(this.overlap.key)) return false;
    if (this.overlap.kind === 'delayed-webhook' && m.delayed.length === 0) return false;
    return true;
  }

  protected async apply(m: Model, r: Sequence): Promise<void> {
    const entry = entryAt(m, this.entry);
    const stub = r.stub;
    const start = m.tick();
    const snapshot = m.snapshotOf(entry);
    stub.holdNextList();
    let ended: unknown = null;
    const polling = r.poll(entry).then((outcome) => (ended = outcome));
    try {
      await until(
        async () => {
          if (ended) throw new Divergence(`slow poll ${entry} ended before the third party answered it: ${JSON.stringify(ended)}`);
          return stub.heldLists > 0;
        },
        () => 'the slow poll to fetch',
      );
      const o = this.overlap;
      switch (o.kind) {
        case 'local':
          await localWrite(m, r, o.key, o.op);
          break;
        case 'remote-upsert':
          r.remoteUpsert(o.key, o.fields);
          await sendByMode(m, r, m.remoteUpsert(o.key, o.fields), o.webhook);
          break;
        case 'remote-delete':
          r.remoteDelete(o.key);
          await sendByMode(m, r, m.remoteDelete(o.key), o.webhook);
          break;
        case 'delayed-webhook': {
          const [message] = m.delayed.splice(o.pick % m.delayed.length, 1);
          if (message) await deliverWebhook(m, r, message);
          break;
        }
      }
      await settle(m, r);
    } finally {
      stub.releaseList();
    }
    expectPoll(entry, await polling, m.poll(entry, snapshot, start));
    await settle(m, r);
  }

  toString(): string {
    return `slow poll entry #${this.entry} (snapshot taken, answer held) while: ${showOverlap(this.overlap)}; then the answer arrives`;
  }
}

/** A change the third party makes to the item while a fan-out of it is held: its input webhook sent now, or never. */
export type RemoteTouch = { kind: 'upsert'; fields: Fields; webhook: 'now' | 'drop' } | { kind: 'delete'; webhook: 'now' | 'drop' };

/**
 * A slow fan-out: a local write whose fan-out job starts and is held in the middle (its read of the
 * organization held, as a slow store or a busy worker would hold it: the item is read beside it, or
 * under the item's send lease); meanwhile the third party may change the item (webhook now, or
 * none), and another local write of the same item is made and its fan-out runs as far as it can (to
 * its send, or to its deliveries queued behind the held job's lease); then the held job goes on and
 * everything settles. Rule 4: an older state never lands after a newer one, so the third party ends
 * with the last write whatever the held job read. For the model it is a burst: the writes in order.
 */
export class SlowFanout extends Step {
  readonly kind = 'slow-fanout';
  protected override readonly local = true;
  constructor(
    readonly key: string,
    readonly first: LocalOp,
    readonly remote: RemoteTouch | null,
    readonly then: LocalOp,
  ) {
    super();
  }

  /**
   * Not during an outage (the deliver jobs' retries read the organization too, and one of them could
   * take the hold); not with a delete while no DELETE webhook exists (the model settles such a
   * delete at once, the real one settles when its held fan-out runs, and a burst's rule applies).
   */
  protected override allowed(m: Readonly<Model>): boolean {
    if (m.down) return false;
    if (this.remote?.kind === 'delete' && !m.remote.has(this.key)) return false;
    const deletes = this.first.kind === 'delete' || this.then.kind === 'delete';
    return !(deletes && !m.outputs.some((o) => o.kind === 'delete'));
  }

  protected async apply(m: Model, r: Sequence): Promise<void> {
    const reads = r.world.organizationReads;
    reads.holdNext(r.org.id);
    try {
      const accepted = m.accepted;
      await localWrite(m, r, this.key, this.first);
      // A write that changed nothing (or one-way) has no fan-out to hold: the rest runs unslowed.
      if (m.accepted > accepted) await until(async () => reads.held > 0, () => 'the fan-out of the first write to read its organization');
      else reads.letGo();
      const t = this.remote;
      if (t?.kind === 'upsert') {
        r.remoteUpsert(this.key, t.fields);
        await sendByMode(m, r, m.remoteUpsert(this.key, t.fields), t.webhook);
      } else if (t?.kind === 'delete') {
        r.remoteDelete(this.key);
        await sendByMode(m, r, m.remoteDelete(this.key), t.webhook);
      }
      const before = m.accepted;
      await localWrite(m, r, this.key, this.then);
      // Its fan-out runs to its end (sent, or its deliveries queued behind the held job's lease);
      // the queues cannot drain while the held job runs, so only the item is waited for.
      if (m.accepted > before) {
        await until(
          async () => (await r.allItemDocs()).find((d) => d.externalId === this.key)?.pendingEvent === null,
          () => `the fan-out of the second write of ${this.key}`,
        );
      }
    } finally {
      reads.letGo();
    }
    await settle(m, r);
  }

  toString(): string {
    const t = this.remote;
    const touch = t ? `remote ${t.kind === 'upsert' ? `upsert ${this.key} {${showFields(t.fields)}}` : `delete ${this.key}`} webhook=${t.webhook}; ` : '';
    return `slow fan-out: ${showOp(this.key, this.first)} (its fan-out held before its send) while: ${touch}${showOp(this.key, this.then)}; then the held fan-out goes on`;
  }
}

/**
 * A paged poll (paged sequences only) during which the third party changes its list: after the
 * first page was read, it inserts, changes or deletes a record (no webhook). The model reads what
 * the third party answered page by page; a walk that shows the list shifted applies what it read
 * and deletes nothing (rule 6: deletions only after a consistent snapshot).
 */
export class PagedPollWithChange extends Step {
  readonly kind = 'paged-poll-change';
  constructor(
    readonly entry: number,
    readonly key: string,
    readonly change: { kind: 'upsert'; fields: Fields } | { kind: 'delete' },
  ) {
    super();
  }

  protected override allowed(m: Readonly<Model>): boolean {
    return m.pagination !== 'none' && (this.change.kind === 'upsert' || m.remote.has(this.key));
  }

  private apply1(m: Model, r: Sequence): void {
    if (this.change.kind === 'upsert') {
      r.remoteUpsert(this.key, this.change.fields);
      m.remoteUpsert(this.key, this.change.fields);
    } else {
      r.remoteDelete(this.key);
      m.remoteDelete(this.key);
    }
  }

  protected async apply(m: Model, r: Sequence): Promise<void> {
    const entry = entryAt(m, this.entry);
    const start = m.tick();
    const answered = r.stub.answers.length;
    let requests = 0;
    let changed = false;
    r.stub.onList = ({ list }) => {
      if (list !== entry || ++requests !== 2) return;
      changed = true;
      this.apply1(m, r);
    };
    let outcome;
    try {
      outcome = await r.poll(entry);
    } finally {
      r.stub.onList = null;
    }
    const pages = r.stub.answers.slice(answered).filter((a) => a.list === entry).map((a) => ({ total: a.total, records: a.records.map((rec) => [rec.id, fieldsOf(rec)] as [string, Fields]) }));
    const expected = m.pagedPoll(entry, pages, start, m.pagination === 'offset');
    if (outcome.kind !== 'done' || outcome.status !== expected.status || outcome.counts.deleted !== expected.deleted) {
      throw new Divergence(`paged poll ${entry}: ${JSON.stringify(outcome.kind === 'done' ? { status: outcome.status, deleted: outcome.counts.deleted } : outcome)}, model: status ${expected.status}, deleted ${expected.deleted} (${expected.consistent ? 'consistent' : 'inconsistent'} walk of ${pages.length} page(s))`);
    }
    if (!changed) this.apply1(m, r);
    await settle(m, r);
  }

  toString(): string {
    const what = this.change.kind === 'upsert' ? `upserts ${this.key} {${showFields(this.change.fields)}}` : `deletes ${this.key}`;
    return `paged poll entry #${this.entry} while the third party ${what} after its first page (no webhook)`;
  }
}

export class ThirdPartyDown extends Step {
  readonly kind = 'down';

  protected override allowed(m: Readonly<Model>): boolean {
    return !m.down;
  }

  protected async apply(m: Model, r: Sequence): Promise<void> {
    m.down = true;
    m.downFor = 0;
    r.goDown();
  }

  toString(): string {
    return 'third party down (deliveries answer 503)';
  }
}

export class ThirdPartyUp extends Step {
  readonly kind = 'up';
  // Deliveries of changes made during the outage go out now.
  protected override readonly local = true;

  protected override allowed(m: Readonly<Model>): boolean {
    return m.down;
  }

  protected async apply(m: Model, r: Sequence): Promise<void> {
    r.comeBack();
    m.down = false;
    await settle(m, r);
  }

  toString(): string {
    return 'third party up again';
  }
}

/** The owner resolves a divergence (the `pick`-th diverged item): replay (the failed deliveries again, same webhook-id) or accept remote. */
export class Resolve extends Step {
  readonly kind = 'resolve';
  protected override readonly local = true;
  constructor(
    readonly pick: number,
    readonly how: 'replay' | 'accept-remote',
  ) {
    super();
  }

  private diverged(m: Readonly<Model>): string[] {
    return [...m.items].filter(([, i]) => i.state === 'diverged' || i.state === 'delete-diverged').map(([k]) => k);
  }

  protected override allowed(m: Readonly<Model>): boolean {
    return !m.down && this.diverged(m).length > 0;
  }

  protected async apply(m: Model, r: Sequence): Promise<void> {
    const all = this.diverged(m);
    const key = all[this.pick % all.length] as string;
    if (this.how === 'replay') {
      m.replay(key);
      expectStatus(`replay ${key}`, await r.replay(key), 202);
    } else {
      m.acceptRemote(key);
      expectStatus(`accept remote ${key}`, await r.acceptRemote(key), 200);
    }
    await settle(m, r);
  }

  toString(): string {
    return `${this.how} diverged item #${this.pick}`;
  }
}

/**
 * A configuration change mid-flight (rule 8), applied as music-config does (stored, then the
 * org-changed reconciliation): a second output webhook added or removed, one refusing for good,
 * the upsert webhook's URL edited, the DELETE webhook removed or added back, the direction switched.
 */
export type ConfigChange = 'add-second' | 'add-second-refusing' | 'remove-second' | 'second-refuses' | 'move-create' | 'remove-delete' | 'add-delete' | 'one-way' | 'two-way';

export class Configure extends Step {
  readonly kind = 'configure';
  protected override readonly local = true;
  constructor(readonly change: ConfigChange) {
    super();
  }

  protected override allowed(m: Readonly<Model>): boolean {
    const has = (n: string) => m.outputs.some((o) => o.name === n);
    switch (this.change) {
      case 'add-second':
      case 'add-second-refusing':
        return !has('create2');
      case 'remove-second':
        // Not under a diverged item whose failed delivery went to it (what a replay then does is not generated).
        if (!has('create2') || [...m.items.values()].some((i) => i.gaveUp.has('create2'))) return false;
        // Nor during an outage while an item awaits it refusing: its 400 may come before the removal
        // (the item then diverges) or not (the delivery is withdrawn), as the jobs happen to run; the
        // model answers nothing while the third party is down.
        return !(m.down && m.outputs.find((o) => o.name === 'create2')?.refusing && [...m.items.values()].some((i) => i.awaiting.has('create2')));
      case 'second-refuses':
        return has('create2') && !m.outputs.find((o) => o.name === 'create2')?.refusing;
      case 'move-create':
        return has('create');
      case 'remove-delete':
        return has('delete') && ![...m.items.values()].some((i) => i.gaveUp.has('delete'));
      case 'add-delete':
        return !has('delete');
      case 'one-way':
        return m.twoWay;
      case 'two-way':
        return !m.twoWay;
    }
  }

  protected async apply(m: Model, r: Sequence): Promise<void> {
    switch (this.change) {
      case 'add-second':
        m.outputs.push({ name: 'create2', kind: 'upsert', refusing: false });
        await r.addOutput('create2');
        break;
      case 'add-second-refusing':
        m.outputs.push({ name: 'create2', kind: 'upsert', refusing: true });
        await r.addOutput('create2');
        r.refuseForGood('create2');
        break;
      case 'remove-second':
        m.removeOutput('create2');
        await r.removeOutput('create2');
        break;
      case 'second-refuses': {
        const o = m.outputs.find((x) => x.name === 'create2');
        if (o) o.refusing = true;
        r.refuseForGood('create2');
        break;
      }
      case 'move-create':
        await r.moveOutput('create');
        break;
      case 'remove-delete':
        m.removeOutput('delete');
        await r.removeOutput('delete');
        break;
      case 'add-delete':
        m.outputs.push({ name: 'delete', kind: 'delete', refusing: false });
        await r.addOutput('delete');
        break;
      case 'one-way':
        m.switchToOneWay();
        await r.setDirection('one-way');
        break;
      case 'two-way':
        m.switchToTwoWay();
        await r.setDirection('two-way');
        break;
    }
    await settle(m, r);
  }

  toString(): string {
    return {
      'add-second': 'config: a second upsert output webhook (PUT /sync/create2) added',
      'add-second-refusing': 'config: a second upsert output webhook (PUT /sync/create2) added, down for good (it refuses everything with a 400)',
      'remove-second': 'config: the second upsert output webhook removed',
      'second-refuses': 'config: the second output webhook refuses everything from now on (400, down for good)',
      'move-create': 'config: the upsert output webhook URL edited (same id, another path)',
      'remove-delete': 'config: the DELETE output webhook removed',
      'add-delete': 'config: a DELETE output webhook added back',
      'one-way': 'config: switched to one-way',
      'two-way': 'config: switched to two-way',
    }[this.change];
  }
}

/**
 * A local write whose enqueue is lost (the inventory process died after its database write, or its
 * Redis was unreachable): the change was accepted, and only the outbox sweeper can bring it out.
 */
export class LocalWriteLostEnqueue extends Step {
  readonly kind = 'lost-enqueue';
  protected override readonly local = true;
  constructor(
    readonly key: string,
    readonly op: LocalOp,
  ) {
    super();
  }

  protected async apply(m: Model, r: Sequence): Promise<void> {
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
 * The organization is deleted with work pending: a local write whose delivery is not yet answered
 * (the third party down, or answering slowly) and a remote change whose input webhook was just
 * accepted, then `DELETE /organization/:id`. Rule 8: its items, deliveries, runs and inbound
 * messages are removed, and nothing more is sent to the third party nor polled from it. The
 * sequence ends there.
 */
export class DeleteOrganization extends Step {
  readonly kind = 'delete-org';
  protected override readonly local = true;
  constructor(
    readonly key: string,
    readonly op: LocalOp,
    readonly remoteKey: string,
    readonly fields: Fields,
    /** It ends the sequence: generated a quarter as often as one slot of the mix (roll 0 of 0..3). */
    readonly roll = 0,
  ) {
    super();
  }

  protected override allowed(): boolean {
    return this.roll === 0;
  }

  protected async apply(m: Model, r: Sequence): Promise<void> {
    if (!m.down) r.stub.syncDelayMs = 300;
    try {
      await localWrite(m, r, this.key, this.op);
      r.remoteUpsert(this.remoteKey, this.fields);
      const message = m.remoteUpsert(this.remoteKey, this.fields);
      const res = await r.sendWebhook('POST', { id: this.remoteKey, ...this.fields, genre: 'Convergence' }, message.id);
      if (res.status !== 202) throw new Divergence(`input webhook ${message.id}: answered ${res.status}, expected 202`);
      m.deleted = true;
      await r.deleteOrganization();
    } finally {
      r.stub.syncDelayMs = 0;
    }
  }

  toString(): string {
    return `${showOp(this.key, this.op)} and remote upsert ${this.remoteKey} {${showFields(this.fields)}} (webhook accepted), then at once the organization deleted`;
  }
}

export type RestartKind = 'graceful' | CrashPoint | 'redis-wiped';

/**
 * A local write, and then while its change is on the way: the integration process restarts
 * gracefully, crashes in the middle of the delivery's HTTP call (before the request left, or after
 * the third party applied it), or Redis restarts with no persistence (every queue and lock lost).
 */
export class Restart extends Step {
  readonly kind = 'restart';
  protected override readonly local = true;
  constructor(
    readonly restart: RestartKind,
    readonly key: string,
    readonly op: LocalOp,
  ) {
    super();
  }

  protected override allowed(m: Readonly<Model>): boolean {
    return !m.down || this.restart === 'redis-wiped';
  }

  protected async apply(m: Model, r: Sequence): Promise<void> {
    const world = r.world;
    const crash = this.restart === 'before-send' || this.restart === 'after-send';
    const deliveriesBefore = (await r.deliveries()).length;
    if (crash) world.http.arm(this.restart as CrashPoint);
    await localWrite(m, r, this.key, this.op);
    if (crash) {
      // Only a write that sends something has a delivery to crash in.
      const sends = await until(async () => world.http.hung > 0 || ((await r.deliveries()).length === deliveriesBefore && (await world.queuesIdle())), () => 'the delivery to be in flight').then(() => world.http.hung > 0);
      if (sends) await world.crashAndRecover();
      else world.http.disarm();
    } else if (this.restart === 'redis-wiped') {
      // The change settles first, or (the third party down) its delivery keeps failing: the polls
      // that the schedules registered again from the database run at once, and must not race an
      // acknowledgement (a snapshot begun before it and applied after is stale; one begun after is not).
      await settle(m, r);
      const runsBefore = await r.finishedRuns();
      await world.wipeRedis();
      await until(async () => (await r.finishedRuns()) >= runsBefore + m.entries.length, () => 'the polls the re-registered schedules run');
      for (const entry of m.entries) m.poll(entry.name, m.snapshotOf(entry.name), m.tick());
      await settle(m, r);
      return;
    } else await world.restartGracefully();
    await settle(m, r);
  }

  toString(): string {
    const how = { graceful: 'graceful restart', 'before-send': 'crash before the delivery is sent, and restart', 'after-send': 'crash after the third party applied the delivery (answer lost), and restart', 'redis-wiped': 'Redis restarts with no persistence (queues, schedules and locks lost; the schedules come back from the store and poll at once)' }[this.restart];
    return `${showOp(this.key, this.op)} then ${how}`;
  }
}

// ---- arbitraries ----------------------------------------------------------------------------------

// Few values per field, so that updates to the same content (no-ops) and equal records happen.
const keyArb = fc.constantFrom(...KEYS);
const fieldsArb: fc.Arbitrary<Fields> = fc.record({ name: fc.constantFrom('n1', 'n2', 'n3'), artist: fc.constantFrom('r1', 'r2'), album: fc.constant('x1') });
const patchArb: fc.Arbitrary<Partial<Fields>> = fc.oneof(fc.record({ name: fc.constantFrom('n1', 'n2', 'n3') }), fc.record({ artist: fc.constantFrom('r1', 'r2') }));
const opArb: fc.Arbitrary<LocalOp> = fc.oneof(
  { weight: 3, arbitrary: fieldsArb.map((fields) => ({ kind: 'create' as const, fields })) },
  { weight: 2, arbitrary: fieldsArb.map((fields) => ({ kind: 'put' as const, fields })) },
  { weight: 1, arbitrary: patchArb.map((change) => ({ kind: 'patch' as const, change })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'delete' as const }) },
);
const webhookArb: fc.Arbitrary<WebhookMode> = fc.constantFrom('now', 'now', 'now', 'later', 'later', 'twice', 'drop');
const entryArb = fc.nat(1);
const overlapArb: fc.Arbitrary<Overlap> = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(keyArb, opArb).map(([key, op]) => ({ kind: 'local' as const, key, op })) },
  { weight: 2, arbitrary: fc.tuple(keyArb, fieldsArb, fc.constantFrom<WebhookMode>('now', 'drop')).map(([key, fields, webhook]) => ({ kind: 'remote-upsert' as const, key, fields, webhook })) },
  { weight: 1, arbitrary: fc.tuple(keyArb, fc.constantFrom<WebhookMode>('now', 'drop')).map(([key, webhook]) => ({ kind: 'remote-delete' as const, key, webhook })) },
  { weight: 1, arbitrary: fc.nat(5).map((pick) => ({ kind: 'delayed-webhook' as const, pick })) },
);
const touchArb: fc.Arbitrary<RemoteTouch | null> = fc.oneof(
  { weight: 2, arbitrary: fc.constant(null) },
  { weight: 1, arbitrary: fc.tuple(fieldsArb, fc.constantFrom<'now' | 'drop'>('now', 'drop')).map(([fields, webhook]) => ({ kind: 'upsert' as const, fields, webhook })) },
  { weight: 1, arbitrary: fc.constantFrom<'now' | 'drop'>('now', 'drop').map((webhook) => ({ kind: 'delete' as const, webhook })) },
);
const configArb = fc.constantFrom<ConfigChange>('add-second', 'add-second', 'add-second-refusing', 'remove-second', 'second-refuses', 'move-create', 'remove-delete', 'add-delete', 'add-delete', 'one-way', 'two-way', 'two-way');

/** The command mix: weights by repetition (fc.commands picks among the arbitraries uniformly). */
export function commandArbitraries(options: { slowPolls: boolean }): Array<fc.Arbitrary<Step>> {
  const local = fc.tuple(keyArb, opArb, fc.constantFrom<Flaky>('ok', 'ok', 'ok', 'ok', '503', 'refused')).map(([k, op, flaky]) => new LocalWrite(k, op, flaky));
  const remoteUpsert = fc.tuple(keyArb, fieldsArb, webhookArb).map(([k, f, w]) => new RemoteUpsert(k, f, w));
  const remoteDelete = fc.tuple(keyArb, webhookArb).map(([k, w]) => new RemoteDelete(k, w));
  const slow = fc.tuple(entryArb, overlapArb).map(([e, o]) => new SlowPoll(e, o));
  const pagedChange = fc
    .tuple(entryArb, keyArb, fc.oneof(fieldsArb.map((fields) => ({ kind: 'upsert' as const, fields })), fc.constant({ kind: 'delete' as const })))
    .map(([e, k, c]) => new PagedPollWithChange(e, k, c));
  const repoll = entryArb.map((e) => new RePoll(e));
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
    fc.nat(5).map((n) => new DeliverDelayedWebhook(n)),
    fc.nat(5).map((n) => new DeliverDelayedWebhook(n)),
    entryArb.map((e) => new Poll(e)),
    entryArb.map((e) => new Poll(e)),
    ...(options.slowPolls ? [slow, slow, slow] : [pagedChange, pagedChange, pagedChange]),
    // Page skipping made visible: unchanged re-polls (twice as often on paged entries), the write mark lost.
    ...(options.slowPolls ? [repoll] : [repoll, repoll]),
    fc.constant(new LoseWriteMark()),
    fc.constant(new ThirdPartyDown()),
    fc.constant(new ThirdPartyUp()),
    fc.tuple(fc.nat(2), fc.constantFrom<'replay' | 'accept-remote'>('replay', 'accept-remote')).map(([n, how]) => new Resolve(n, how)),
    fc.tuple(fc.nat(2), fc.constantFrom<'replay' | 'accept-remote'>('replay', 'accept-remote')).map(([n, how]) => new Resolve(n, how)),
    configArb.map((c) => new Configure(c)),
    configArb.map((c) => new Configure(c)),
    fc.tuple(fc.constantFrom<RestartKind>('graceful', 'before-send', 'after-send', 'redis-wiped'), keyArb, opArb).map(([kind, k, op]) => new Restart(kind, k, op)),
    fc.tuple(keyArb, opArb).map(([k, op]) => new LocalWriteLostEnqueue(k, op)),
    // A fan-out held between its read and its send while the item changes again (one slot).
    fc.tuple(keyArb, opArb, touchArb, opArb).map(([k, first, touch, then]) => new SlowFanout(k, first, touch, then)),
    // An organization deleted with work pending; it ends the sequence, so a quarter of one slot (roll 0 of 0..3).
    fc.tuple(keyArb, opArb, keyArb, fieldsArb, fc.nat(3)).map(([k, op, rk, f, roll]) => new DeleteOrganization(k, op, rk, f, roll)),
  ];
}

export { show };
