/**
 * The first organization body the API documentation shows, in the looser spellings the API also
 * accepts: `webhook` for `webhooks`, `"required": "true"` as a string, no name, the third party on
 * `thirdPartyPort` (3004 in the documentation). Tests use it to prove those spellings are accepted;
 * everything users are shown uses the canonical `exampleOrganization()` of @music/domain.
 */
export function looseOrganizationBody(thirdPartyPort: number) {
  return {
    synchronization: 'two-way',
    webhook: [
      { type: 'input', url: 'http://localhost:3000/sync?orgId=', method: 'DELETE' },
      { type: 'output', url: `http://localhost:${thirdPartyPort}/sync/create`, method: 'POST' },
    ],
    polling: [{ endpoint: `http://localhost:${thirdPartyPort}/music`, interval: 1, type: 'minute' }],
    mappings: {
      externalId: { type: 'string', source: 'id', required: true },
      name: { type: 'string', source: 'name', required: true },
      artist: { type: 'string', source: 'artist', required: 'true' },
      album: { type: 'string', source: 'album', required: 'true' },
    },
    transforms: [],
  };
}

/** The documentation's body as it is shown, with the third party on port 3004. */
export const LOOSE_ORGANIZATION_BODY = looseOrganizationBody(3004);
