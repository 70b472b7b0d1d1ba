import { lookup as systemLookup } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { request as httpRequest, type Agent, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate, inflateRaw, constants as zlibConstants } from 'node:zlib';
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
  /**
   * Told why a request was refused (the address it resolved to, the rule): for the operators' log.
   * Callers only ever get "blocked by the outbound policy", so tenants learn nothing of our network.
   */
  onBlocked?: (detail: { url: string; reason: string }) => void;
}

export interface OutboundRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  url: string;
  headers?: Record<string, string>;
  /** Sent as is (already serialized JSON). */
  body?: string;
  params?: Record<string, string | number>;
}

/** `quota`: refused before sending by a per-account quota (outbound-quota.ts), worth retrying later. */
export type OutboundFailureKind = 'blocked' | 'timeout' | 'network' | 'too-large' | 'invalid-url' | 'quota';

/** What a tenant is told about a refused destination: nothing about where it resolved or why. */
export const BLOCKED_MESSAGE = 'blocked by the outbound policy';

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
  const baseLookup = policy.lookup ?? (systemLookup as LookupFunction);
  const listed = addressBlockList(addressRules);
  // request-filtering-agent refuses what ipaddr.js does not call unicast; some special ranges it
  // calls unicast (IPv4-compatible IPv6 such as ::169.254.169.254, site-local fec0::/10...), so
  // every answer is also checked against SPECIAL_RANGES.
  const lookup = refusingRanges(baseLookup, [SPECIAL_RANGES], listed);
  // Agent options reach createConnection, where request-filtering-agent checks what `lookup` returned.
  const strict = {
    http: new RequestFilteringHttpAgent({ allowIPAddressList: addressRules, keepAlive: true, lookup }),
    https: new RequestFilteringHttpsAgent({ allowIPAddressList: addressRules, keepAlive: true, lookup }),
  };
  // For host names the operator allow-listed (e.g. a docker service name): private ranges allowed,
  // the unspecified address and link-local ranges (the cloud metadata service) still refused,
  // unless an address rule lists them.
  const trustedLookup = refusingRanges(baseLookup, [SPECIAL_RANGES, LINK_LOCAL], listed);
  const trusted = {
    http: new RequestFilteringHttpAgent({ allowPrivateIPAddress: true, allowIPAddressList: addressRules, keepAlive: true, lookup: trustedLookup }),
    https: new RequestFilteringHttpsAgent({ allowPrivateIPAddress: true, allowIPAddressList: addressRules, keepAlive: true, lookup: trustedLookup }),
  };

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
      // An address written in the URL is never looked up: check it here against the same ranges.
      const literal = url.hostname.replace(/^\[|\]$/g, '');
      if (isIP(literal) !== 0 && inRanges(literal, [SPECIAL_RANGES], listed)) {
        return blocked(request.url, `${literal} is in a special-purpose range`, policy, 0);
      }
      const agents = trustedHosts.has(url.hostname.toLowerCase()) ? trusted : strict;
      const result = await exchange(withParams(url, request.params), request, url.protocol === 'https:' ? agents.https : agents.http, policy);
      if (!result.ok && result.kind === 'blocked') return blocked(request.url, result.message, policy, Date.now() - started);
      return { ...result, ms: Date.now() - started };
    },
  };
}

/** What every request sends unless the caller says otherwise. */
const DEFAULT_HEADERS: Record<string, string> = {
  accept: 'application/json, text/plain, */*',
  'accept-encoding': 'gzip, deflate, br',
  'user-agent': 'music-sync',
};

/**
 * The URL with `params` appended to its query as axios appended them (the URL's own query kept as
 * written; keys and values percent-encoded, with `:`, `$`, `,` kept and a space as `+`), so a
 * third party sees the same requests it saw before.
 */
function withParams(url: URL, params: OutboundRequest['params']): string {
  const whole = url.toString();
  const pairs = Object.entries(params ?? {})
    .filter(([, value]) => value !== undefined && value !== null)
    .map(([key, value]) => `${encodeParam(key)}=${encodeParam(String(value))}`);
  if (pairs.length === 0) return whole;
  const hash = whole.indexOf('#');
  const base = hash === -1 ? whole : whole.slice(0, hash);
  return `${base}${base.includes('?') ? '&' : '?'}${pairs.join('&')}`;
}

const encodeParam = (value: string): string =>
  encodeURIComponent(value).replace(/%3A/gi, ':').replace(/%24/g, '$').replace(/%2C/gi, ',').replace(/%20/g, '+');

const gunzipAsync = promisify(gunzip);
const inflateAsync = promisify(inflate);
const inflateRawAsync = promisify(inflateRaw);
const brotliAsync = promisify(brotliDecompress);

/**
 * The body as the server encoded it (gzip, deflate with or without its zlib header, br), never
 * decoded past `maxBytes` (a small compressed body must not become gigabytes in memory: over it,
 * zlib stops with ERR_BUFFER_TOO_LARGE). A truncated stream gives what it holds, as axios did.
 */
async function decode(encoding: string | undefined, raw: Buffer, maxBytes: number): Promise<{ body: Buffer; decoded: boolean }> {
  if (raw.length === 0) return { body: raw, decoded: false };
  const flush = { maxOutputLength: maxBytes, finishFlush: zlibConstants.Z_SYNC_FLUSH };
  switch ((encoding ?? '').trim().toLowerCase()) {
    case 'gzip':
    case 'x-gzip':
      return { body: await gunzipAsync(raw, flush), decoded: true };
    case 'deflate':
      return { body: hasZlibHeader(raw) ? await inflateAsync(raw, flush) : await inflateRawAsync(raw, flush), decoded: true };
    case 'br':
      return { body: await brotliAsync(raw, { maxOutputLength: maxBytes, finishFlush: zlibConstants.BROTLI_OPERATION_FLUSH }), decoded: true };
    default:
      return { body: raw, decoded: false };
  }
}

/** Deflate with its zlib header (RFC 1950: CMF names deflate, and CMF*256+FLG is a multiple of 31), or raw deflate (RFC 1951)? */
function hasZlibHeader(raw: Buffer): boolean {
  const cmf = raw[0] ?? 0;
  const flg = raw[1] ?? 0;
  return (cmf & 0x0f) === 8 && (cmf * 256 + flg) % 31 === 0;
}

type Exchanged = { ok: true; status: number; headers: Record<string, string>; text: string } | { ok: false; kind: OutboundFailureKind; message: string };

/** Statuses that carry no body whatever their content-length says. */
const NO_BODY = new Set([204, 304]);

/**
 * One request and its whole response, through node:http with the address-checking agent: no
 * redirect is followed (a 3xx is an answer), no proxy is used, the deadline bounds everything from
 * the connection to the last byte, and the body is capped as received and again as decoded.
 */
function exchange(target: string, request: OutboundRequest, agent: Agent, policy: OutboundPolicy): Promise<Exchanged> {
  const body = request.body === undefined ? undefined : Buffer.from(request.body, 'utf8');
  if (body && body.length > policy.maxBytes) {
    return Promise.resolve({ ok: false, kind: 'too-large', message: `request body of ${body.length} bytes is over the ${policy.maxBytes}-byte limit` });
  }
  const headers: Record<string, string> = { ...DEFAULT_HEADERS };
  for (const [k, v] of Object.entries(request.headers ?? {})) headers[k.toLowerCase()] = v;
  if (body) headers['content-length'] = String(body.length);
  const tooLarge: Exchanged = { ok: false, kind: 'too-large', message: `maxContentLength size of ${policy.maxBytes} exceeded` };
  return new Promise((resolve) => {
    let settled = false;
    let req: ClientRequest | undefined;
    // Settles once; a failure also drops the connection (never reused after a half-read answer).
    const finish = (outcome: Exchanged): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      if (!outcome.ok) req?.destroy();
      resolve(outcome);
    };
    const deadline = setTimeout(() => finish({ ok: false, kind: 'timeout', message: `no complete response within ${policy.timeoutMs} ms` }), policy.timeoutMs);
    const send = target.startsWith('https:') ? httpsRequest : httpRequest;
    try {
      req = send(target, { method: request.method, headers, agent }, (response) => {
        const status = response.statusCode ?? 0;
        if (!NO_BODY.has(status) && Number(response.headers['content-length']) > policy.maxBytes) return finish(tooLarge);
        const chunks: Buffer[] = [];
        let bytes = 0;
        response.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes > policy.maxBytes) return finish(tooLarge);
          chunks.push(chunk);
        });
        response.on('end', () => {
          decode(response.headers['content-encoding'], Buffer.concat(chunks), policy.maxBytes).then(
            ({ body: decoded, decoded: wasEncoded }) => {
              const answered: Record<string, string> = {};
              for (const [k, v] of Object.entries(response.headers)) if (typeof v === 'string') answered[k.toLowerCase()] = v;
              // The text is what was sent: the encoding is undone, and a byte-order mark is not part of the JSON.
              if (wasEncoded) delete answered['content-encoding'];
              const text = decoded.toString('utf8');
              finish({ ok: true, status, headers: answered, text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text });
            },
            (error: Error & { code?: string }) => finish(error.code === 'ERR_BUFFER_TOO_LARGE' ? tooLarge : { ok: false, kind: 'network', message: `the response body could not be decoded: ${error.message}` }),
          );
        });
        // A connection closed before the body was complete.
        response.on('error', (error: Error) => finish({ ok: false, ...classify(error) }));
        response.on('close', () => {
          if (!response.complete) finish({ ok: false, kind: 'network', message: 'the connection closed before the response was complete' });
        });
      });
    } catch (error) {
      // Refused before anything was sent (a header value Node will not put on the wire).
      const e = error as Error & { code?: string };
      return finish({ ok: false, kind: 'network', message: `the request could not be sent: ${e.code ? `${e.code}: ` : ''}${e.message}` });
    }
    req.on('error', (error: Error) => finish({ ok: false, ...classify(error) }));
    req.end(body);
  });
}

function blocked(url: string, reason: string, policy: OutboundPolicy, ms: number): OutboundResult {
  policy.onBlocked?.({ url, reason });
  return { ok: false, kind: 'blocked', message: BLOCKED_MESSAGE, ms };
}

// 169.254.169.254 (AWS, GCP, Azure, ...) and fd00:ec2::254 answer cloud metadata requests; the
// IPv4 rule also covers IPv4-mapped IPv6 forms (::ffff:169.254.169.254).
const LINK_LOCAL = new BlockList();
LINK_LOCAL.addSubnet('169.254.0.0', 16, 'ipv4');
LINK_LOCAL.addSubnet('fe80::', 10, 'ipv6');
LINK_LOCAL.addAddress('fd00:ec2::254', 'ipv6');

// Special-purpose ranges (IANA registries) that request-filtering-agent's ipaddr.js reads as
// unicast, refused for every destination. ::/96 holds the deprecated IPv4-compatible addresses:
// ::169.254.169.254 is ::a9fe:a9fe, the metadata address in disguise.
const SPECIAL_RANGES = new BlockList();
SPECIAL_RANGES.addSubnet('::', 96, 'ipv6');
SPECIAL_RANGES.addSubnet('fec0::', 10, 'ipv6');
SPECIAL_RANGES.addSubnet('100::', 64, 'ipv6');
SPECIAL_RANGES.addSubnet('198.18.0.0', 15, 'ipv4');
SPECIAL_RANGES.addSubnet('192.0.2.0', 24, 'ipv4');
SPECIAL_RANGES.addSubnet('198.51.100.0', 24, 'ipv4');
SPECIAL_RANGES.addSubnet('203.0.113.0', 24, 'ipv4');
SPECIAL_RANGES.addSubnet('240.0.0.0', 4, 'ipv4');
// Inside ::/96 but not IPv4-compatible: the unspecified address and loopback, which
// request-filtering-agent refuses on its own (and allows for an allow-listed name, like 127.0.0.1).
const NOT_SPECIAL = new BlockList();
NOT_SPECIAL.addAddress('::', 'ipv6');
NOT_SPECIAL.addAddress('::1', 'ipv6');

type LookupAddresses = string | Array<{ address: string; family: number }>;

/** The allow list's address rules (IPs and CIDR ranges) as a BlockList to test answers against. */
function addressBlockList(addressRules: string[]): BlockList {
  const listed = new BlockList();
  for (const rule of addressRules) {
    const [net, bits] = rule.split('/');
    const type = isIP(net ?? '') === 6 ? 'ipv6' : 'ipv4';
    if (bits === undefined) listed.addAddress(net ?? '', type);
    else listed.addSubnet(net ?? '', Number(bits), type);
  }
  return listed;
}

/** Whether an address falls in one of the ranges and no address rule of the allow list names it. */
function inRanges(address: string, ranges: BlockList[], listed: BlockList, family = 0): boolean {
  const type = family === 6 || isIP(address) === 6 ? 'ipv6' : 'ipv4';
  return ranges.some((r) => r.check(address, type)) && !NOT_SPECIAL.check(address, type) && !listed.check(address, type);
}

/** `lookup`, failing for answers in any of the ranges that no address rule of the allow list names. */
function refusingRanges(lookup: LookupFunction, ranges: BlockList[], listed: BlockList): LookupFunction {
  return ((hostname: string, options: object, callback: (error: Error | null, address?: LookupAddresses, family?: number) => void) => {
    lookup(hostname, options as never, ((error: Error | null, address: LookupAddresses, family?: number) => {
      if (error) return callback(error);
      const answers = Array.isArray(address) ? address : [{ address, family: family ?? 0 }];
      const bad = answers.find((a) => inRanges(a.address, ranges, listed, a.family));
      // Worded like request-filtering-agent's refusals, which classify() recognizes.
      if (bad) return callback(new Error(`DNS lookup ${bad.address}(host:${hostname}) is not allowed. Because, it is a special-purpose or link-local address.`));
      callback(null, address, family);
    }) as never);
  }) as LookupFunction;
}

function classify(error: Error & { code?: string }): { kind: OutboundFailureKind; message: string } {
  const message = error.message;
  // request-filtering-agent reports a refused address with a plain Error and no code; its
  // message ("DNS lookup <ip> ... is not allowed") is the only signal it gives.
  if (/is not allowed/.test(message)) return { kind: 'blocked', message };
  if (error.code === 'ETIMEDOUT') return { kind: 'timeout', message };
  return { kind: 'network', message: error.code ? `${error.code}: ${message}` : message };
}
