import { pollingEntryId, webhookId } from '@music/domain';
import { keepStoredSecrets, mergePatch, parseOrganizationBody, prepareBody } from './organization-body';
import { toApi } from './organization.api';
import { LOOSE_ORGANIZATION_BODY } from '@music/testing';
import { OUTPUT_SECRET, storedOrganization } from './organization.test-helper';

const VIEW = { inboundBaseUrl: 'http://localhost:3003', acceptsUnauthenticated: false };
const NEW_SECRET = 'whsec_bmV3LXNlY3JldC1uZXctc2VjcmV0LW5ldy1zZWNyZXQ=';
const paths = (result: { unwrapErr: () => { details?: Array<{ path: string }> } }) => result.unwrapErr().details?.map((d) => d.path);

describe('prepareBody', () => {
  it('renames the webhook alias, drops read-only fields, keeps entry ids and records "secret": null', () => {
    const { body, clearedSecrets, clearedAuth } = prepareBody({
      id: 'x',
      revision: 2,
      createdAt: 'then',
      updatedAt: 'now',
      webhook: [
        { id: 'w1', type: 'output', url: 'https://a.example/x', method: 'POST', hasSecret: true, secretHint: 'whsec_…abcd' },
        { type: 'output', url: 'https://b.example/x', method: 'POST', secret: null },
      ],
      polling: [{ id: 'p1', endpoint: 'https://a.example/music', interval: 1, type: 'hour', auth: null }],
    });
    // An entry's id names the webhook or polling entry being edited (its pending work follows it).
    expect(body).toEqual({
      webhooks: [
        { id: 'w1', type: 'output', url: 'https://a.example/x', method: 'POST' },
        { type: 'output', url: 'https://b.example/x', method: 'POST' },
      ],
      polling: [{ id: 'p1', endpoint: 'https://a.example/music', interval: 1, type: 'hour' }],
    });
    expect([...clearedSecrets]).toEqual([1]);
    expect([...clearedAuth]).toEqual([0]);
  });

  it('leaves non-objects for the schema to refuse', () => {
    expect(prepareBody('text').body).toBe('text');
    expect(prepareBody([1]).body).toEqual([1]);
  });
});

describe('parseOrganizationBody', () => {
  it('accepts what GET returned (read-only fields included)', () => {
    const api = JSON.parse(JSON.stringify(toApi(storedOrganization(), VIEW)));
    const parsed = parseOrganizationBody(api);
    expect(parsed.isOk()).toBe(true);
    expect(parsed.unwrap().input.webhooks.every((w) => w.secret === undefined)).toBe(true);
  });

  it('reads masked URLs and credential hints that GET showed as the stored values of the same entry', () => {
    const stored = storedOrganization({
      webhooks: [{ id: webhookId({ type: 'output', method: 'POST', url: 'https://hooks.example/in?token=s3cret' }), type: 'output', url: 'https://hooks.example/in?token=s3cret', method: 'POST' }],
      polling: [
        {
          id: pollingEntryId({ endpoint: 'https://u:pw@api.example/music', interval: 1, type: 'hour' }),
          endpoint: 'https://u:pw@api.example/music',
          interval: 1,
          type: 'hour',
          trackDeletes: true,
          auth: { type: 'bearer', token: 'a-long-bearer-token-1234' },
        },
      ],
    });
    const api = JSON.parse(JSON.stringify(toApi(stored, VIEW)));
    expect(JSON.stringify(api)).not.toMatch(/s3cret|:pw@|a-long-bearer-token/);
    const update = parseOrganizationBody(api, stored).unwrap();
    expect(update.input.webhooks[0]?.url).toBe('https://hooks.example/in?token=s3cret');
    expect(update.input.polling[0]).toMatchObject({ endpoint: 'https://u:pw@api.example/music', auth: { type: 'bearer', token: 'a-long-bearer-token-1234' } });
    // Without the stored organization (or for another entry), a hint is not a credential.
    expect(paths(parseOrganizationBody(api))?.sort()).toEqual(['polling.0.auth', 'polling.0.auth.token']);
  });

  it('refuses to clear an input webhook’s secret (rotate it instead)', () => {
    const body = { ...LOOSE_ORGANIZATION_BODY, webhook: [{ type: 'input', url: 'http://localhost:3000/sync?orgId=', method: 'DELETE', secret: null }] };
    expect(paths(parseOrganizationBody(body))).toEqual(['webhooks.0.secret']);
  });

  // Finding: a plain secret the API accepted could not be verified by the official library.
  it('accepts webhook secrets only in the form the official Standard Webhooks libraries read', () => {
    const withSecret = (secret: string) => ({ ...LOOSE_ORGANIZATION_BODY, webhook: [{ type: 'output', url: 'https://a.example/x', method: 'POST', secret }] });
    expect(paths(parseOrganizationBody(withSecret('a-plain-shared-secret-of-some-length')))).toEqual(['webhooks.0.secret']);
    expect(paths(parseOrganizationBody(withSecret('whsec_c2hvcnQ=')))).toEqual(['webhooks.0.secret']);
    expect(parseOrganizationBody(withSecret(OUTPUT_SECRET)).isOk()).toBe(true);
  });

  it('still refuses unknown keys', () => {
    expect(paths(parseOrganizationBody({ ...LOOSE_ORGANIZATION_BODY, owner: 'me' }))).toEqual(['(root)']);
  });

  it('refuses transforms on fields the mappings do not have, and templates naming them', () => {
    const transforms = [
      { field: 'name', op: 'trim' },
      { field: 'genre', op: 'lowercase' },
      { field: 'name', op: 'template', template: '{{artist}} - {{title}}' },
    ];
    expect(paths(parseOrganizationBody({ ...LOOSE_ORGANIZATION_BODY, transforms }))).toEqual(['transforms.1.field', 'transforms.2.template']);
    expect(parseOrganizationBody({ ...LOOSE_ORGANIZATION_BODY, transforms: [transforms[0]] }).isOk()).toBe(true);
  });
});

describe('mergePatch', () => {
  it('replaces top-level keys and keeps the rest of the stored organization', () => {
    const org = storedOrganization();
    const merged = mergePatch(org, { name: 'Renamed', synchronization: 'one-way' }).unwrap();
    expect(merged.input.name).toBe('Renamed');
    expect(merged.input.synchronization).toBe('one-way');
    // The stored entries keep their ids through a PATCH that does not send them.
    expect(merged.input.polling).toEqual(org.polling);
    // Secrets are not part of the merge: they are carried over by webhook id.
    expect(merged.input.webhooks.find((w) => w.type === 'output')?.secret).toBeUndefined();
    expect(keepStoredSecrets(merged, org).webhooks.find((w) => w.type === 'output')?.secret).toBe(OUTPUT_SECRET);
  });

  it('validates the merged result as a whole, naming the paths', () => {
    const org = storedOrganization();
    const mappings = { ...org.mappings, album: { type: 'text', source: 'album' } };
    expect(paths(mergePatch(org, { mappings }))).toEqual(['mappings.album.type']);
    expect(paths(mergePatch(org, { mappings: { name: { type: 'string', source: 'name' } } }))).toEqual(['mappings.externalId']);
    expect(paths(mergePatch(org, 'nope'))).toEqual(['(root)']);
  });
});

describe('keepStoredSecrets (entry ids and secrets)', () => {
  it('keeps a webhook\'s id (and secret) when it is sent back with its id, whatever else changed', () => {
    const org = storedOrganization();
    const output = org.webhooks.find((w) => w.type === 'output');
    const edited = parseOrganizationBody({ ...LOOSE_ORGANIZATION_BODY, webhook: [{ id: output?.id, type: 'output', url: 'https://moved.example/hook', method: 'PUT' }] }).unwrap();
    expect(keepStoredSecrets(edited, org).webhooks).toEqual([{ id: output?.id, type: 'output', url: 'https://moved.example/hook', method: 'PUT', secret: OUTPUT_SECRET }]);
  });

  it('without an id: the stored webhook with the same type, method and URL (or the entry with the same endpoint); else a new id', () => {
    const org = storedOrganization();
    const kept = keepStoredSecrets(parseOrganizationBody(LOOSE_ORGANIZATION_BODY).unwrap(), org);
    expect(kept.webhooks.map((w) => w.id)).toEqual(org.webhooks.map((w) => w.id));
    expect(kept.polling.map((p) => p.id)).toEqual(org.polling.map((p) => p.id));
    const renamed = keepStoredSecrets(
      parseOrganizationBody({ ...LOOSE_ORGANIZATION_BODY, polling: [{ endpoint: 'http://localhost:3004/music', interval: 5, type: 'hour' }] }).unwrap(),
      org,
    );
    expect(renamed.polling[0]?.id).toBe(org.polling[0]?.id);
    const other = keepStoredSecrets(parseOrganizationBody({ ...LOOSE_ORGANIZATION_BODY, polling: [{ endpoint: 'http://localhost:3004/other', interval: 1, type: 'minute' }] }).unwrap(), org);
    expect(other.polling[0]?.id).not.toBe(org.polling[0]?.id);
    // An id the organization does not have is not taken over: a new one is given.
    const unknown = keepStoredSecrets(parseOrganizationBody({ ...LOOSE_ORGANIZATION_BODY, polling: [{ id: 'someone-elses', endpoint: 'http://localhost:3004/music', interval: 1, type: 'minute' }] }).unwrap(), org);
    expect(unknown.polling[0]?.id).not.toBe('someone-elses');
  });
});

describe('keepStoredSecrets', () => {
  const org = storedOrganization();
  const output = org.webhooks.find((w) => w.type === 'output');

  it('keeps the stored credentials of a polling entry sent back without them; "auth": null clears them', () => {
    const withAuth = storedOrganization({ polling: org.polling.map((p) => ({ ...p, auth: { type: 'basic', username: 'u', password: 'pw' } })) });
    const update = parseOrganizationBody(LOOSE_ORGANIZATION_BODY).unwrap();
    expect(keepStoredSecrets(update, withAuth).polling[0]?.auth).toEqual({ type: 'basic', username: 'u', password: 'pw' });
    const cleared = parseOrganizationBody({ ...LOOSE_ORGANIZATION_BODY, polling: [{ ...LOOSE_ORGANIZATION_BODY.polling[0], auth: null }] }).unwrap();
    expect(keepStoredSecrets(cleared, withAuth).polling[0]?.auth).toBeUndefined();
  });

  it('keeps the stored secret of a webhook sent back without one', () => {
    const update = parseOrganizationBody(LOOSE_ORGANIZATION_BODY).unwrap();
    const kept = keepStoredSecrets(update, org);
    expect(kept.webhooks.find((w) => w.id === output?.id)?.secret).toBe(OUTPUT_SECRET);
    expect(kept.webhooks.find((w) => w.type === 'input')?.secret).toBeUndefined();
  });

  it('does not carry a secret over to a different webhook (other url), and honours a new or cleared secret', () => {
    const moved = parseOrganizationBody({
      ...LOOSE_ORGANIZATION_BODY,
      webhook: [{ type: 'output', url: 'http://localhost:3004/elsewhere', method: 'POST' }],
    }).unwrap();
    expect(keepStoredSecrets(moved, org).webhooks[0]?.secret).toBeUndefined();

    const replaced = parseOrganizationBody({
      ...LOOSE_ORGANIZATION_BODY,
      webhook: [{ type: 'output', url: 'http://localhost:3004/sync/create', method: 'POST', secret: NEW_SECRET }],
    }).unwrap();
    expect(keepStoredSecrets(replaced, org).webhooks[0]?.secret).toBe(NEW_SECRET);

    const cleared = parseOrganizationBody({
      ...LOOSE_ORGANIZATION_BODY,
      webhook: [{ type: 'output', url: 'http://localhost:3004/sync/create', method: 'POST', secret: null }],
    }).unwrap();
    expect(keepStoredSecrets(cleared, org).webhooks[0]?.secret).toBeUndefined();
  });
});
