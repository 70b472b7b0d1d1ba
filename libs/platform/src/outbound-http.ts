import { isIP } from 'node:net';
import axios, { AxiosError, type AxiosInstance } from 'axios';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';

/** Where organization-configured URLs may point, and how much they may cost us. */
export interface OutboundPolicy {
  /**
   * Hosts, IPs or CIDR ranges allowed although private/loopback/link-local (e.g. `127.0.0.1`,
   * `::1`, `localhost`, `10.0.0.0/8`). Empty in production: only public unicast addresses.
   */
  allowList: string[];
  timeoutMs: number;
  maxBytes: number;
}

export interface OutboundRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  /** Sent as is (already serialized JSON). */
  body?: string;
  params?: Record<string, string | number>;
}

export type OutboundFailureKind = 'blocked' | 'timeout' | 'network' | 'too-large' | 'invalid-url';

export type OutboundResult =
  | { ok: true; status: number; headers: Record<string, string>; text: string; ms: number }
  | { ok: false; kind: OutboundFailureKind; message: string; ms: number };

/** HTTP client for untrusted, organization-configured URLs. */
export interface OutboundClient {
  send(request: OutboundRequest): Promise<OutboundResult>;
}

/**
 * Every request to an organization-configured URL goes through here. The address is checked
 * after DNS resolution, on the socket actually connected (request-filtering-agent), so DNS
 * rebinding cannot reach a private address; redirects are never followed (a 3xx is returned as
 * is), and responses are capped in time and size.
 */
export function createOutboundClient(policy: OutboundPolicy): OutboundClient {
  const addressRules = policy.allowList.filter((e) => isIP(e.split('/')[0] ?? '') !== 0);
  const trustedHosts = new Set(policy.allowList.filter((e) => isIP(e.split('/')[0] ?? '') === 0).map((h) => h.toLowerCase()));
  const strict = {
    http: new RequestFilteringHttpAgent({ allowIPAddressList: addressRules, keepAlive: true }),
    https: new RequestFilteringHttpsAgent({ allowIPAddressList: addressRules, keepAlive: true }),
  };
  // For host names the operator allow-listed (e.g. a docker service name): private ranges allowed,
  // the unspecified address still refused.
  const trusted = {
    http: new RequestFilteringHttpAgent({ allowPrivateIPAddress: true, allowIPAddressList: addressRules, keepAlive: true }),
    https: new RequestFilteringHttpsAgent({ allowPrivateIPAddress: true, allowIPAddressList: addressRules, keepAlive: true }),
  };
  const http: AxiosInstance = axios.create({
    maxRedirects: 0,
    timeout: policy.timeoutMs,
    maxContentLength: policy.maxBytes,
    maxBodyLength: policy.maxBytes,
    responseType: 'text',
    // Keep the body as text: callers parse it, and a non-JSON body is their error to report.
    transformResponse: [(data: unknown) => data],
    validateStatus: () => true,
    proxy: false,
  });

  return {
    async send(request) {
      const started = Date.now();
      let url: URL;
      try {
        url = new URL(request.url);
        if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('not http(s)');
      } catch {
        return { ok: false, kind: 'invalid-url', message: `invalid URL: ${request.url}`, ms: 0 };
      }
      const agents = trustedHosts.has(url.hostname.toLowerCase()) ? trusted : strict;
      try {
        const response = await http.request<string>({
          method: request.method,
          url: url.toString(),
          headers: request.headers,
          data: request.body,
          params: request.params,
          httpAgent: agents.http,
          httpsAgent: agents.https,
        });
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(response.headers)) if (typeof v === 'string') headers[k.toLowerCase()] = v;
        return { ok: true, status: response.status, headers, text: typeof response.data === 'string' ? response.data : '', ms: Date.now() - started };
      } catch (error) {
        return { ok: false, ...classify(error), ms: Date.now() - started };
      }
    },
  };
}

function classify(error: unknown): { kind: OutboundFailureKind; message: string } {
  const e = error as AxiosError;
  const message = e?.message ?? String(error);
  // request-filtering-agent reports a refused address with a plain Error and no code; its
  // message ("DNS lookup <ip> ... is not allowed") is the only signal it gives.
  if (/is not allowed/.test(message)) return { kind: 'blocked', message: `refused by outbound policy: ${message}` };
  if (e?.code === AxiosError.ECONNABORTED || e?.code === AxiosError.ETIMEDOUT) return { kind: 'timeout', message };
  if (e?.code === AxiosError.ERR_BAD_RESPONSE && /maxContentLength/.test(message)) return { kind: 'too-large', message };
  return { kind: 'network', message: e?.code ? `${e.code}: ${message}` : message };
}
