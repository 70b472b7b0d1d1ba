import type { Organization } from '@music/domain';

/** The visible tail of a webhook secret, e.g. `whsec_…abcd`; the secret itself never leaves. */
export function secretHint(secret: string | undefined): string | null {
  if (!secret) return null;
  const tail = secret.slice(-4);
  return secret.startsWith('whsec_') ? `whsec_…${tail}` : `…${tail}`;
}

/** An organization as the API shows it: webhook secrets replaced by `hasSecret` and a hint. */
export function toApi(org: Organization) {
  return {
    id: org.id,
    name: org.name,
    synchronization: org.synchronization,
    webhooks: org.webhooks.map((w) => ({
      id: w.id,
      type: w.type,
      url: w.url,
      method: w.method,
      hasSecret: Boolean(w.secret),
      secretHint: secretHint(w.secret),
    })),
    polling: org.polling.map(({ id, ...entry }) => ({ id, ...entry })),
    mappings: org.mappings,
    transforms: org.transforms,
    revision: org.revision,
    createdAt: org.createdAt,
    updatedAt: org.updatedAt,
  };
}
export type OrganizationApi = ReturnType<typeof toApi>;
