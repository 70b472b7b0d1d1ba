import { IntegrationHarness } from './integration.test-harness';

const song = (id: number, name = `Song ${id}`) => ({ id: String(id), name, artist: `Artist ${id}`, album: `Album ${id}` });

describe('inbound items: large batches (real store)', () => {
  let h: IntegrationHarness;
  beforeEach(async () => {
    h = await new IntegrationHarness().start();
  });
  afterEach(async () => h.stop());

  // FerretDB 1.x (PostgreSQL backend) holds one pool connection per statement of an update command
  // until the command ends: a command with as many statements as the pool (50 by default) waits
  // forever for a connection, and the whole store with it. A changed page must not send one.
  it('applies a poll page of 120 changed records', async () => {
    const org = await h.createOrganization();
    const ids = Array.from({ length: 120 }, (_, i) => i + 1);
    h.thirdParty.put(...ids.map((i) => song(i)));
    expect(await h.pollNow(org.id)).toMatchObject({ status: 'succeeded', counts: { created: 120 } });

    h.thirdParty.put(...ids.map((i) => song(i, `Renamed ${i}`)));
    expect(await h.pollNow(org.id)).toMatchObject({ status: 'succeeded', counts: { updated: 120, unchanged: 0, conflicts: 0 } });
    const names = (await h.items(org.id)).map((i) => i.data['name']);
    expect(names.sort()).toEqual(ids.map((i) => `Renamed ${i}`).sort());
  });
});
