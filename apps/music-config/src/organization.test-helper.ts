import { LOOSE_ORGANIZATION_BODY } from '@music/testing';
import { organizationInputSchema, pollingEntryId, webhookId, type Organization } from '@music/domain';

export const OUTPUT_SECRET = 'whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtMTIzNA==';

/** A stored organization (as the repository returns it) with one signed output webhook. */
export function storedOrganization(overrides: Partial<Organization> = {}): Organization {
  const input = organizationInputSchema.parse(LOOSE_ORGANIZATION_BODY);
  const now = new Date('2026-01-01T00:00:00Z');
  return {
    id: 'org-1',
    ownerId: 'user-1',
    name: 'Acme',
    synchronization: input.synchronization,
    webhooks: input.webhooks.map((w) => ({ ...w, id: webhookId(w), ...(w.type === 'output' ? { secret: OUTPUT_SECRET } : {}) })),
    polling: input.polling.map((p) => ({ ...p, id: pollingEntryId(p) })),
    notifications: [],
    mappings: input.mappings,
    transforms: input.transforms,
    revision: 3,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}
