import { lookup as systemLookup } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import axios, { AxiosError, type AxiosInstance } from 'axios';
import { RequestFilteringHttpAgent, RequestFilteringHttpsAgent } from 'request-filtering-agent';

/** Where organization-configured URLs may point, and how much they may cost us. */
export interface OutboundPolicy {
  /**
   * Hosts, IPs or CIDR ranges allowed although private/loopback/link-local (e.g. `127.0.0.1`,
   * `::1`, `localhost`, `10.0.0.0/8`). Empty in production: only public unicast addresses.
   */
  allowList: string[];
  /** The whole exchange (connect, request, every byte of the response), not only socket idleness. */
  timeoutMs: number;
  maxBytes: number;
  /** Resolves host names (default: the system resolver). Tests make any name resolve to a chosen address. */
  lookup?: LookupFunction;
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
  const lookup = policy.lookup ?? (systemLookup as LookupFunction);
  // Agent options reach createConnection, where request-filtering-agent checks what `lookup` returned.
  const strict = {
    http: new RequestFilteringHttpAgent({ allowIPAddressList: addressRules, keepAlive: true, lookup }),
    https: new RequestFilteringHttpsAgent({ allowIPAddressList: addressRules, keepAlive: true, lookup }),
  };
  // For host names the operator allow-listed (e.g. a docker service name): private ranges allowed,
  // the unspecified address and link-local ranges (the cloud metadata service) still refused,
  // unless an address rule lists them.
  const trustedLookup = refusingLinkLocal(lookup, addressRules);
  const trusted = {
    http: new RequestFilteringHttpAgent({ allowPrivateIPAddress: true, allowIPAddressList: addressRules, keepAlive: true, lookup: trustedLookup }),
    https: new RequestFilteringHttpsAgent({ allowPrivateIPAddress: true, allowIPAddressList: addressRules, keepAlive: true, lookup: trustedLookup }),
  };
  const http: AxiosInstance = axios.create({
    maxRedirects: 0,
    // axios' `timeout` only bounds socket idleness: a response trickled a byte at a time would
    // never end. The AbortSignal below bounds the whole exchange; this one stays as a backstop.
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
          signal: AbortSignal.timeout(policy.timeoutMs),
        });
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(response.headers)) if (typeof v === 'string') headers[k.toLowerCase()] = v;
        return { ok: true, status: response.status, headers, text: typeof response.data === 'string' ? response.data : '', ms: Date.now() - started };
      } catch (error) {
        return { ok: false, ...classify(error, policy.timeoutMs), ms: Date.now() - started };
      }
    },
  };
}

// 169.254.169.254 (AWS, GCP, Azure, ...) and fd00:ec2::254 answer cloud metadata requests; the
// IPv4 rule also covers IPv4-mapped IPv6 forms (::ffff:169.254.169.254).
const LINK_LOCAL = new BlockList();
LINK_LOCAL.addSubnet('169.254.0.0', 16, 'ipv4');
LINK_LOCAL.addSubnet('fe80::', 10, 'ipv6');
LINK_LOCAL.addAddress('fd00:ec2::254', 'ipv6');

type LookupAddresses = string | Array<{ address: string; family: number }>;

/** `lookup`, failing for link-local answers that no address rule of the allow list names. */
function refusingLinkLocal(lookup: LookupFunction, addressRules: string[]): LookupFunction {
  const listed = new BlockList();
  for (const rule of addressRules) {
    const [net, bits] = rule.split('/');
    const type = isIP(net ?? '') === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) listed.addAddress(net ?? '', type);
    else listed.addSubnet(net ?? '', Number(bits), type);
  }
  const refused = (address: string, family: number): boolean => {
    const type = family === 6 || isIP(address) === 6 ? 'ipv6' : 'ipv4';
    return LINK_LOCAL.check(address, type) && !listed.check(address, type);
  };
  return ((hostname: string, options: object, callback: (error: Error | null, address?: LookupAddresses, family?: number) => void) => {
    lookup(hostname, options as never, ((error: Error | null, address: LookupAddresses, family?: number) => {
      if (error) return callback(error);
      const answers = Array.isArray(address) ? address : [{ address, family: family ?? 0 }];
      const bad = answers.find((a) => refused(a.address, a.family));
      // Worded like request-filtering-agent's refusals, which classify() recognizes.
      if (bad) return callback(new Error(`DNS lookup ${bad.address}(host:${hostname}) is not allowed. Because, it is a link-local address.`));
      callback(null, address, family);
    }) as never);
  }) as LookupFunction;
}

function classify(error: unknown, timeoutMs: number): { kind: OutboundFailureKind; message: string } {
  const e = error as AxiosError;
  const message = e?.message ?? String(error);
  // request-filtering-agent reports a refused address with a plain Error and no code; its
  // message ("DNS lookup <ip> ... is not allowed") is the only signal it gives.
  if (/is not allowed/.test(message)) return { kind: 'blocked', message: `refused by outbound policy: ${message}` };
  // The deadline signal fired (the only signal these requests carry).
  if (axios.isCancel(error)) return { kind: 'timeout', message: `no complete response within ${timeoutMs} ms` };
  if (e?.code === AxiosError.ECONNABORTED || e?.code === AxiosError.ETIMEDOUT) return { kind: 'timeout', message };
  if (e?.code === AxiosError.ERR_BAD_RESPONSE && /maxContentLength/.test(message)) return { kind: 'too-large', message };
  return { kind: 'network', message: e?.code ? `${e.code}: ${message}` : message };
}
