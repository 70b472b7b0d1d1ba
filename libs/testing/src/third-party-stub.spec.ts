// The stub's bulk features the benchmark relies on: a generated list served page by page, and
// deliveries to a counted path tallied (distinct, redeliveries, first arrival per record) and slowed.
import { ThirdPartyStub } from './third-party-stub';

describe('ThirdPartyStub bulk features', () => {
  let stub: ThirdPartyStub;

  beforeEach(async () => {
    stub = await new ThirdPartyStub().start();
  });
  afterEach(async () => {
    await stub.close();
  });

  const deliver = (url: string, webhookId: string, body: unknown): Promise<Response> =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', 'webhook-id': webhookId }, body: JSON.stringify(body) });

  it('serves a generated list page by page, the last page short and past it empty', async () => {
    const url = stub.generatedList('songs', 25, (i) => ({ id: `rec-${i}` }));
    const page = async (n: number): Promise<string[]> => ((await (await fetch(`${url}?page=${n}&limit=10`)).json()) as Array<{ id: string }>).map((r) => r.id);
    expect(await page(1)).toEqual(Array.from({ length: 10 }, (_, i) => `rec-${i}`));
    expect(await page(3)).toEqual(['rec-20', 'rec-21', 'rec-22', 'rec-23', 'rec-24']);
    expect(await page(4)).toEqual([]);
    expect(stub.generatedPages).toBe(3);
    expect(stub.records.size).toBe(0);
  });

  it('tallies deliveries to a counted path without storing them, and wakes a waiter at the count', async () => {
    const tally = stub.count('run-1');
    const third = tally.waitFor(3, 5_000);
    expect((await deliver(tally.url, 'msg-1', { id: 'a' })).status).toBe(200);
    await deliver(tally.url, 'msg-1', { id: 'a' });
    await deliver(tally.url, 'msg-2', { id: 'b' });
    await deliver(tally.url, 'msg-3', { id: 'a' });
    await expect(third).resolves.toBe(tally.last);
    expect(tally.distinct).toBe(3);
    expect(tally.duplicates).toBe(1);
    expect([...tally.arrivals.keys()]).toEqual(['a', 'b']);
    expect(stub.deliveries).toEqual([]);
    expect(stub.records.size).toBe(0);
  });

  it('counts a delivery to a slowed path when it arrives and answers it only after the delay', async () => {
    const tally = stub.count('slow');
    stub.pathDelaysMs.set('/sync/slow', 60_000);
    let answered = false;
    const answer = deliver(tally.url, 'msg-1', { id: 'a' }).then(() => (answered = true));
    await tally.waitFor(1, 5_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(answered).toBe(false);
    void answer.catch(() => undefined); // cut short by close()
  });

  it('starts a forgotten count from zero', async () => {
    await deliver(stub.count('again').url, 'msg-1', { id: 'a' });
    stub.forgetCount('again');
    expect(stub.count('again').distinct).toBe(0);
  });
});
