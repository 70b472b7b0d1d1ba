import { Result } from '@sapphire/result';
import { z } from 'zod';
import { firstPageParams, mappingsSchema, pollingCredentialHeaders, recordsInPage, transformsSchema, type PollingEntry } from '@music/domain';
import { compileMapping, type CompiledMapping, type FieldError } from '@music/mapping';
import { type AppError, conflict, maskUrl, notFound, type OutboundClient, type OutboundResult, type RateLimiter } from '@music/platform';
import type { OrganizationRepository } from '@music/persistence';
import { findOwnedOrganization } from './organization-access';

/** Records of a pasted sample, and records shown of a fetched page. */
export const MAX_PREVIEW_RECORDS = 50;

export const mappingPreviewBodySchema = z
  .object({
    /** Which polling entry's first page to read (default: the organization's first entry). */
    pollingId: z.string().min(1).max(128).optional(),
    /** A sample of the third party's records to map instead of reading an endpoint. */
    records: z.array(z.unknown()).min(1).max(MAX_PREVIEW_RECORDS).optional(),
    /** A draft to try instead of the saved mappings and transforms (nothing is saved). */
    mappings: mappingsSchema.optional(),
    transforms: transformsSchema.unwrap().optional(),
  })
  .strict()
  .refine((b) => !(b.records !== undefined && b.pollingId !== undefined), { message: 'give records or pollingId, not both', path: ['records'] });
export type MappingPreviewBody = z.infer<typeof mappingPreviewBodySchema>;

/** One record and what the mapping makes of it. */
export type PreviewResult =
  | { index: number; record: unknown; ok: true; item: { externalId: string; data: Record<string, unknown> } }
  | { index: number; record: unknown; ok: false; externalId?: string; errors: FieldError[] };

export type PreviewSource =
  | { kind: 'sample' }
  | { kind: 'polling'; pollingId: string; endpoint: string; ok: true; httpStatus: number; ms: number }
  | { kind: 'polling'; pollingId: string; endpoint: string; ok: false; error: string };

export interface MappingPreview {
  source: PreviewSource;
  /** Which mapping was applied: the saved one, or the draft sent with the request. */
  mapping: 'saved' | 'draft';
  /** Whether items mapped back to the third party's shape and read again come out the same. */
  reversible: boolean;
  /** Records on the page (or in the sample), and how many of them map / do not. */
  counts: { records: number; valid: number; invalid: number };
  /** The first MAX_PREVIEW_RECORDS records with their outcome. */
  results: PreviewResult[];
}

export interface PreviewMappingCommand {
  ownerId: string;
  organizationId: string;
  body: MappingPreviewBody;
}

export interface PreviewMappingDeps {
  organizations: OrganizationRepository;
  /** The guarded client (address policy, deadline, size cap). */
  http: OutboundClient;
  /** Bounds previews that read an endpoint, per organization. */
  limiter?: RateLimiter;
  /** In messages: the size cap and deadline the client applies. */
  maxBytes: number;
  timeoutMs: number;
}

/**
 * `POST /organization/:id/mapping-preview`: a dry run of the organization's mapping (or a draft)
 * against the first page of one of its polling endpoints, or against a pasted sample. Writes
 * nothing, enqueues nothing: one GET at most, through the guarded client, bounded by its deadline
 * and size cap.
 */
export class PreviewMappingUseCase {
  constructor(private readonly deps: PreviewMappingDeps) {}

  async execute(command: PreviewMappingCommand): Promise<Result<MappingPreview, AppError>> {
    const found = await findOwnedOrganization(this.deps.organizations, command.ownerId, command.organizationId);
    if (found.isErr()) return Result.err(found.unwrapErr());
    const org = found.unwrap();
    const { body } = command;
    const draft = body.mappings !== undefined || body.transforms !== undefined;
    const mapping = compileMapping(body.mappings ?? org.mappings, body.transforms ?? org.transforms);

    if (body.records) return Result.ok(preview({ kind: 'sample' }, body.records, mapping, draft));

    const entry = body.pollingId === undefined ? org.polling[0] : org.polling.find((p) => p.id === body.pollingId);
    if (!entry) {
      return Result.err(body.pollingId === undefined ? conflict('The organization has no polling entry: send a sample of records instead') : notFound('Polling entry'));
    }
    const allowed = this.deps.limiter ? await this.deps.limiter.consume(org.id) : Result.ok(undefined);
    if (allowed.isErr()) return Result.err(allowed.unwrapErr());
    return Result.ok(await this.previewFirstPage(entry, mapping, draft));
  }

  private async previewFirstPage(entry: PollingEntry, mapping: CompiledMapping, draft: boolean): Promise<MappingPreview> {
    // Shown with its credentials masked; requested with the entry's credentials, as a poll is.
    const where = { kind: 'polling' as const, pollingId: entry.id, endpoint: maskUrl(entry.endpoint) };
    const headers = { accept: 'application/json', ...pollingCredentialHeaders(entry.auth) };
    const response = await this.deps.http.send({ method: 'GET', url: entry.endpoint, params: firstPageParams(entry), headers });
    const failed = (error: string): MappingPreview => ({ source: { ...where, ok: false, error }, mapping: draft ? 'draft' : 'saved', reversible: mapping.reversible, counts: { records: 0, valid: 0, invalid: 0 }, results: [] });
    if (!response.ok) return failed(this.describeFailure(response));
    if (response.status < 200 || response.status >= 300) return failed(`the endpoint answered HTTP ${response.status}`);
    const parsed = Result.from<unknown>(() => JSON.parse(response.text));
    if (parsed.isErr()) return failed('the endpoint did not answer JSON');
    const page = recordsInPage(parsed.unwrap(), entry.itemsPath);
    if (!page.ok) return failed(page.message);
    return preview({ ...where, ok: true, httpStatus: response.status, ms: response.ms }, page.records, mapping, draft);
  }

  /**
   * What a tenant is told about a failed request: never the address it resolved to or why the
   * policy refused it (that would map our network for them).
   */
  private describeFailure(response: Extract<OutboundResult, { ok: false }>): string {
    switch (response.kind) {
      case 'blocked':
        return 'blocked by the outbound policy';
      case 'invalid-url':
        return 'the endpoint is not a valid http(s) URL';
      case 'timeout':
        return `no complete answer within ${this.deps.timeoutMs} ms`;
      case 'too-large':
        return `the first page is larger than ${this.deps.maxBytes} bytes, the most a preview reads: paste a sample of records instead`;
      case 'network': {
        const code = /^([A-Z][A-Z_]+):/.exec(response.message)?.[1];
        return code ? `could not connect (${code})` : 'could not connect';
      }
      case 'quota':
        return 'the outbound quota for this destination is used up: try again in a minute';
      default: {
        const unreachable: never = response.kind;
        throw new Error(`unknown failure kind ${String(unreachable)}`);
      }
    }
  }
}

function preview(source: PreviewSource, records: unknown[], mapping: CompiledMapping, draft: boolean): MappingPreview {
  const counts = { records: records.length, valid: 0, invalid: 0 };
  const results: PreviewResult[] = [];
  records.forEach((record, index) => {
    const outcome = mapping.toItem(record);
    if (outcome.ok) counts.valid++;
    else counts.invalid++;
    if (results.length >= MAX_PREVIEW_RECORDS) return;
    results.push(
      outcome.ok
        ? { index, record, ok: true, item: { externalId: outcome.externalId, data: outcome.data } }
        : { index, record, ok: false, ...(outcome.externalId !== undefined ? { externalId: outcome.externalId } : {}), errors: outcome.errors },
    );
  });
  return { source, mapping: draft ? 'draft' : 'saved', reversible: mapping.reversible, counts, results };
}
