/**
 * The first organization body the API documentation shows, in the looser spellings the API also
 * accepts: `webhook` for `webhooks`, `"required": "true"` as a string, no name, the third party on
 * port 3004. Tests use it to prove those spellings are accepted; everything users are shown uses the
 * canonical `exampleOrganization()` of @music/domain.
 */
export const LOOSE_ORGANIZATION_BODY = {
  synchronization: 'two-way',
  webhook: [
    { type: 'input', url: 'http://localhost:3000/sync?orgId=', method: 'DELETE' },
    { type: 'output', url: 'http://localhost:3004/sync/create', method: 'POST' },
  ],
  polling: [{ endpoint: 'http://localhost:3004/music', interval: 1, type: 'minute' }],
  mappings: {
    externalId: { type: 'string', source: 'id', required: true },
    name: { type: 'string', source: 'name', required: true },
    artist: { type: 'string', source: 'artist', required: 'true' },
    album: { type: 'string', source: 'album', required: 'true' },
  },
  transforms: [],
};
