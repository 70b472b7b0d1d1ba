import { World } from './system';
import { runSequence } from './runner';
import { Configure, DeliverDelayedWebhook, LocalBurst, LocalWrite, PagedPollWithChange, Poll, RemoteDelete, RemoteUpsert, Resolve, Restart, SlowFanout, SlowPoll, ThirdPartyDown, ThirdPartyUp } from './commands';
import type { Fields } from './model';

// Fixed sequences: every divergence the convergence run found, as it printed it after shrinking,
// plus close variants of it, and one script per documented rule. Each runs through the same
// reference model and checks as the random sequences (docs/reliability.md, "Convergence").

jest.setTimeout(120_000);

const f = (name: string, artist = 'r1', album = 'x1'): Fields => ({ name, artist, album });

describe('convergence regressions (fixed sequences)', () => {
  let world: World;
  beforeAll(async () => {
    world = await World.open();
  });
  afterAll(async () => world?.close());

  describe('the documented rules', () => {
    it('a local change not yet settled wins over a poll and a webhook, an inbound delete included (rule 3)', async () => {
      await runSequence(world, [
        new RemoteUpsert('a', f('n1'), 'now'),
        new RemoteUpsert('b', f('n1'), 'now'),
        new ThirdPartyDown(),
        new LocalWrite('a', { kind: 'put', fields: f('n2') }),
        new LocalWrite('b', { kind: 'patch', change: { artist: 'r2' } }),
        new RemoteUpsert('a', f('n3'), 'now'),
        new RemoteDelete('b', 'now'),
        new Poll(0),
        new ThirdPartyUp(),
      ]);
    });

    it('two webhook calls applied out of order leave the later one; the next poll repairs it', async () => {
      await runSequence(world, [new RemoteUpsert('a', f('n1'), 'later'), new RemoteUpsert('a', f('n2'), 'now'), new DeliverDelayedWebhook(0), new Poll(0)]);
    });

    it('a repeated webhook-id is taken once', async () => {
      await runSequence(world, [new RemoteUpsert('a', f('n1'), 'twice'), new RemoteUpsert('a', f('n2'), 'now'), new DeliverDelayedWebhook(0)]);
    });

    it('the delete guard keeps items when the snapshot comes back empty or drops more than half of them', async () => {
      await runSequence(world, [
        new RemoteUpsert('a', f('n1'), 'now'),
        new RemoteUpsert('b', f('n1'), 'now'),
        new RemoteUpsert('c', f('n1'), 'now'),
        new RemoteDelete('a', 'drop'),
        new RemoteDelete('b', 'drop'),
        new Poll(0),
        new RemoteDelete('c', 'drop'),
        new Poll(0),
      ]);
    });

    it('a refused delivery diverges the item; replay and accept-remote resolve it (rule 5)', async () => {
      await runSequence(world, [
        new LocalWrite('a', { kind: 'create', fields: f('n1') }, 'refused'),
        new RemoteUpsert('a', f('n2'), 'now'),
        new Resolve(0, 'accept-remote'),
        new LocalWrite('b', { kind: 'create', fields: f('n1') }),
        new LocalWrite('b', { kind: 'delete' }, 'refused'),
        new Resolve(0, 'replay'),
      ]);
    });

    it('with a second output webhook down for good, a change settles only when both answered, and diverges (rule 4)', async () => {
      await runSequence(world, [new Configure('add-second'), new Configure('second-refuses'), new LocalWrite('a', { kind: 'create', fields: f('n1') }), new Configure('remove-second'), new LocalWrite('a', { kind: 'put', fields: f('n2') })]);
    });

    it('a crash after the third party applied a delivery: the new process sends it again, applied once (same webhook-id)', async () => {
      await runSequence(world, [new Restart('after-send', 'a', { kind: 'create', fields: f('n1') }), new Restart('before-send', 'a', { kind: 'put', fields: f('n2') })]);
    });

    it('Redis restarts with no persistence while a change is pending: the sweeper brings it out', async () => {
      await runSequence(world, [new ThirdPartyDown(), new LocalWrite('a', { kind: 'create', fields: f('n1') }), new Restart('redis-wiped', 'b', { kind: 'create', fields: f('n2') }), new ThirdPartyUp()]);
    });
  });

  describe('a held change seen again is kept as first held (docs/sync-model.md, `held`)', () => {
    it('as found (seed 11, shrunk): accepting the remote version takes the first holding\'s entries', async () => {
      await runSequence(
        world,
        [
          new RemoteUpsert('a', f('n1'), 'later'),
          new LocalWrite('a', { kind: 'create', fields: f('n1') }, 'refused'),
          new PagedPollWithChange(0, 'a', { kind: 'delete' }),
          new DeliverDelayedWebhook(0),
          new Resolve(0, 'accept-remote'),
        ],
        { entries: 'overlap', pagination: 'cursor' },
      );
    });
  });

  describe('the stale poll (sync engine v2): a snapshot that began before a change never undoes it', () => {
    it('resurrection: a slow poll that listed an item deleted meanwhile does not bring it back', async () => {
      await runSequence(world, [new LocalWrite('a', { kind: 'create', fields: f('n1') }), new SlowPoll(0, { kind: 'local', key: 'a', op: { kind: 'delete' } })]);
    });

    it('revert: a slow poll that listed the old content does not overwrite a delivered edit', async () => {
      await runSequence(world, [new LocalWrite('a', { kind: 'create', fields: f('n1') }), new SlowPoll(0, { kind: 'local', key: 'a', op: { kind: 'put', fields: f('n2') } })]);
    });

    it('a snapshot taken before a delivery landed does not take the delivered item for a remote delete', async () => {
      await runSequence(world, [new RemoteUpsert('b', f('n1'), 'now'), new RemoteUpsert('c', f('n2'), 'now'), new SlowPoll(0, { kind: 'local', key: 'a', op: { kind: 'create', fields: f('n3') } })]);
    });
  });

  describe('a fan-out slowed between its read and its send (the item is read under its send lease)', () => {
    it('as found (seed 1, shrunk): a held put sent over the patch sent meanwhile', async () => {
      await runSequence(world, [new RemoteUpsert('b', f('n1'), 'now'), new SlowFanout('b', { kind: 'put', fields: f('n1', 'r2') }, null, { kind: 'patch', change: { name: 'n2' } })], { entries: 'one', pagination: 'offset' });
    });

    it('as found (seed 9009, shrunk): a held create sent after the delete sent meanwhile brings the item back at the third party', async () => {
      await runSequence(world, [new SlowFanout('a', { kind: 'create', fields: f('n1') }, { kind: 'upsert', fields: f('n1'), webhook: 'now' }, { kind: 'delete' })], { entries: 'disjoint', pagination: 'offset' });
    });

    it('does not send its older state over an edit sent meanwhile', async () => {
      await runSequence(world, [new LocalWrite('a', { kind: 'create', fields: f('n1') }), new SlowFanout('a', { kind: 'put', fields: f('n2') }, null, { kind: 'put', fields: f('n3') })]);
    });

    it('does not bring back an item deleted and sent meanwhile', async () => {
      await runSequence(world, [new LocalWrite('a', { kind: 'create', fields: f('n1') }), new SlowFanout('a', { kind: 'put', fields: f('n2') }, null, { kind: 'delete' })]);
    });

    it('a delete held does not undo a create sent meanwhile, with a remote change in between', async () => {
      await runSequence(world, [new LocalWrite('a', { kind: 'create', fields: f('n1') }), new SlowFanout('a', { kind: 'delete' }, { kind: 'upsert', fields: f('n2'), webhook: 'now' }, { kind: 'create', fields: f('n3') })]);
    });
  });

  describe('an item created again after its delete was delivered reaches the third party', () => {
    it('as found (seed 9009, shrunk)', async () => {
      await runSequence(world, [
        new LocalWrite('c', { kind: 'create', fields: f('n1') }),
        new LocalWrite('c', { kind: 'delete' }),
        new LocalBurst('c', [
          { kind: 'create', fields: f('n2') },
          { kind: 'patch', change: { name: 'n2' } },
        ]),
      ]);
    });
  });
  describe('an item kept after its divergence was resolved is considered by the deletion passes', () => {
    it('as found (seed 20261202, shrunk): accept-remote keeps ours, the third party then deletes it, its entry polls an empty list (the delete guard reports it)', async () => {
      await runSequence(
        world,
        [
          new Configure('add-second-refusing'),
          new LocalBurst('c', [
            { kind: 'create', fields: f('n1') },
            { kind: 'patch', change: { name: 'n1' } },
          ]),
          new Resolve(0, 'accept-remote'),
          new SlowPoll(0, { kind: 'remote-delete', key: 'c', webhook: 'drop' }),
        ],
        { entries: 'disjoint', pagination: 'none', incremental: true },
      );
    });
  });
});
