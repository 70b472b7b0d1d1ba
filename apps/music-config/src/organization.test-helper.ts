import { organizationInputSchema, pollingEntryId, webhookId, type Organization } from '@music/domain';

/** Step 2 of the brief's walkthrough, exactly as pasted there (`webhook`, `"required": "true"`). */
export const BRIEF_ORGANIZATION_PAYLOAD = {
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

export const OUTPUT_SECRET = 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtMTIzNA==';

/** A stored organization (as the repository returns it) with one signed output webhook. */
export function storedOrganization(overrides: Partial<Organization> = {}): Organization {
  const input = organizationInputSchema.parse(BRIEF_ORGANIZATION_PAYLOAD);
  const now = new Date('2026-01-01T00:00:00Z');
  return {
    id: 'org-1',
    ownerId: 'user-1',
    name: 'Acme',
    synchronization: input.synchronization,
    webhooks: input.webhooks.map((w) => ({ ...w, id: webhookId(w), ...(w.type === 'output' ? { secret: OUTPUT_SECRET } : {}) })),
    polling: input.polling.map((p) => ({ ...p, id: pollingEntryId(p) })),
    mappings: input.mappings,
    transforms: input.transforms,
    revision: 3,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}
