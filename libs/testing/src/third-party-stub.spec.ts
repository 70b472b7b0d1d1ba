// The stub's bulk features the benchmark relies on: a generated list served page by page, and
// deliveries to a counted path tallied (distinct, redeliveries, first arrival per record) and slowed;
// and the list behaviours the polling tests steer: a list that is not a set, ETags.
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

  it('lists `listedRecords` as they stand, repeats and order included, edits in place showing in the next answer', async () => {
    stub.put({ id: 'ignored' });
    const listed = [{ id: 'b' }, { id: 'a' }, { id: 'b', name: 'again' }];
    stub.listedRecords = listed;
    const page = async (): Promise<unknown> => (await fetch(`${stub.baseUrl}/music?page=1&limit=2`)).json();
    expect(await page()).toEqual([{ id: 'b' }, { id: 'a' }]);
    listed[0] = { id: 'c' };
    expect(await page()).toEqual([{ id: 'c' }, { id: 'a' }]);
  });

  it('with `etags`, tags each list answer and answers 304 to the tag of an unchanged answer', async () => {
    stub.etags = true;
    stub.put({ id: 'a' });
    const first = await fetch(`${stub.baseUrl}/music`);
    const etag = first.headers.get('etag') as string;
    expect(etag).toMatch(/^"[0-9a-f]{20}"$/);
    expect(await first.json()).toEqual([{ id: 'a' }]);
    expect((await fetch(`${stub.baseUrl}/music`, { headers: { 'if-none-match': etag } })).status).toBe(304);
    stub.put({ id: 'b' });
    const changed = await fetch(`${stub.baseUrl}/music`, { headers: { 'if-none-match': etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
  });

  it('keeps every header of a delivery', async () => {
    await deliver(`${stub.baseUrl}/sync/kept`, 'msg-1', { id: 'a' });
    expect(stub.deliveries[0]?.headers).toMatchObject({ 'content-type': 'application/json', 'webhook-id': 'msg-1' });
  });
});
