import { createOutboundClient, type HealthCheck } from '@music/platform';
import type { Upstream } from './upstreams';

/**
 * Readiness of the console: each API it forwards to answers its liveness check. The requests go
 * through the platform's guarded client, allowed to reach exactly the configured upstream hosts.
 */
export function upstreamHealthChecks(upstreams: Upstream[], timeoutMs = 1000): HealthCheck[] {
  const hosts = [...new Set(upstreams.map((u) => new URL(u.url).hostname.replace(/^\[|\]$/g, '')))];
  const http = createOutboundClient({ allowList: hosts, timeoutMs, maxBytes: 64 * 1024 });
  return upstreams.map((upstream) => ({
    name: upstream.service,
    check: async () => {
      const response = await http.send({ method: 'GET', url: `${upstream.url}/health/live` });
      if (!response.ok) throw new Error(response.kind === 'timeout' ? 'no answer in time' : `not answering (${response.kind})`);
      if (response.status !== 200) throw new Error(`answered ${response.status}`);
    },
  }));
}
