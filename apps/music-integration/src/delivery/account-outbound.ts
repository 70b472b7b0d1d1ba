import { pollingCredentialHeaders, type Organization, type PollingEntry } from '@music/domain';
import { outboundWithQuota, type OutboundClient, type RateLimiter } from '@music/platform';

/**
 * The guarded outbound client as each organization uses it: every call spends its owner's budget
 * for the destination host (QUOTA_OUTBOUND_CALLS_PER_DESTINATION_PER_MINUTE, shared by all of the
 * owner's organizations, polls and deliveries), and a poll presents its entry's credentials as
 * headers (never in the URL; redirects are not followed, so they go nowhere else).
 */
export class AccountOutbound {
  constructor(
    private readonly client: OutboundClient,
    private readonly perDestination: RateLimiter,
    private readonly limit: number,
  ) {}

  forOrganization(org: Pick<Organization, 'ownerId'>): OutboundClient {
    return outboundWithQuota(
      this.client,
      this.perDestination,
      org.ownerId,
      (host) => `outbound quota reached: at most ${this.limit} calls a minute to ${host} per account (QUOTA_OUTBOUND_CALLS_PER_DESTINATION_PER_MINUTE)`,
    );
  }

  forPoll(org: Pick<Organization, 'ownerId'>, entry: Pick<PollingEntry, 'auth'>): OutboundClient {
    const client = this.forOrganization(org);
    const headers = pollingCredentialHeaders(entry.auth);
    if (Object.keys(headers).length === 0) return client;
    return { send: (request) => client.send({ ...request, headers: { ...request.headers, ...headers } }) };
  }
}
