import { Router, type Request } from 'express';
import type { Organization, SyncRun } from '@music/domain';
import { addToContext, authUser, maskUrl, parseInput, sendResult } from '@music/platform';
import { parseOrganizationBody } from './organization-body';
import { toApi, type ApiView } from './organization.api';
import type { WrittenOrganization } from './webhook-credentials';
import type { CreateOrganizationUseCase } from './use-cases/create-organization.use-case';
import type { DeleteOrganizationUseCase } from './use-cases/delete-organization.use-case';
import type { GetOrganizationUseCase } from './use-cases/get-organization.use-case';
import type { ListOrganizationsUseCase } from './use-cases/list-organizations.use-case';
import type { PatchOrganizationUseCase } from './use-cases/patch-organization.use-case';
import { mappingPreviewBodySchema, type PreviewMappingUseCase } from './use-cases/preview-mapping.use-case';
import type { ReplaceOrganizationUseCase } from './use-cases/replace-organization.use-case';
import type { RotateWebhookSecretUseCase } from './use-cases/rotate-webhook-secret.use-case';
import type { TriggerSyncUseCase } from './use-cases/trigger-sync.use-case';

/** The use cases behind `/organization`, one per route. */
export interface OrganizationUseCases {
  create: CreateOrganizationUseCase;
  list: ListOrganizationsUseCase;
  get: GetOrganizationUseCase;
  replace: ReplaceOrganizationUseCase;
  patch: PatchOrganizationUseCase;
  remove: DeleteOrganizationUseCase;
  triggerSync: TriggerSyncUseCase;
  previewMapping: PreviewMappingUseCase;
  rotateSecret: RotateWebhookSecretUseCase;
}

const toRunApi = (runs: SyncRun[]) => ({
  runs: runs.map((r) => ({ id: r.id, pollingId: r.pollingId, endpoint: maskUrl(r.endpoint), status: r.status })),
});

/** The organization id of the path, also stamped on the request's log lines. */
function orgIdOf(req: Request): string {
  const id = String(req.params['id']);
  addToContext({ orgId: id });
  return id;
}

/** `/organization` routes; mount them behind the JWT guard. */
export function organizationRoutes(useCases: OrganizationUseCases, view: ApiView): Router {
  const router = Router();
  const shown = (org: Organization) => toApi(org, view);
  // A write's answer: the organization, with the credentials it generated shown this once.
  const written = ({ org, revealed }: WrittenOrganization) => toApi(org, view, revealed);

  router.post('/', async (req, res) => {
    const body = parseOrganizationBody(req.body);
    if (body.isErr()) return sendResult(res, body);
    const result = await useCases.create.execute({ ownerId: authUser(req).id, update: body.unwrap() });
    result.inspect(({ org }) => void res.location(`${req.baseUrl}/${org.id}`));
    sendResult(res, result, 201, written);
  });

  router.get('/', async (req, res) => {
    sendResult(res, await useCases.list.execute({ ownerId: authUser(req).id }), 200, (orgs) => ({ organizations: orgs.map(shown) }));
  });

  router.get('/:id', async (req, res) => {
    sendResult(res, await useCases.get.execute({ ownerId: authUser(req).id, organizationId: orgIdOf(req) }), 200, shown);
  });

  // PUT and PATCH bodies are validated against the stored organization (in the use-cases): what GET
  // showed masked stands for what is stored.
  router.put('/:id', async (req, res) => {
    sendResult(res, await useCases.replace.execute({ ownerId: authUser(req).id, organizationId: orgIdOf(req), body: req.body }), 200, written);
  });

  router.patch('/:id', async (req, res) => {
    sendResult(res, await useCases.patch.execute({ ownerId: authUser(req).id, organizationId: orgIdOf(req), patch: req.body }), 200, written);
  });

  router.post('/:id/webhooks/:webhookId/rotate-secret', async (req, res) => {
    const result = await useCases.rotateSecret.execute({ ownerId: authUser(req).id, organizationId: orgIdOf(req), webhookId: String(req.params['webhookId']) });
    sendResult(res, result, 200, (r) => ({ webhook: written(r).webhooks.find((w) => w.id === r.webhookId) }));
  });

  // 202: the organization is gone from every API now; its data is removed by a durable job.
  router.delete('/:id', async (req, res) => {
    sendResult(res, await useCases.remove.execute({ ownerId: authUser(req).id, organizationId: orgIdOf(req) }), 202);
  });

  router.post('/:id/sync', async (req, res) => {
    sendResult(res, await useCases.triggerSync.execute({ ownerId: authUser(req).id, organizationId: orgIdOf(req) }), 202, toRunApi);
  });

  // A dry run: maps the first page of a polling endpoint (or a pasted sample), writes nothing.
  router.post('/:id/mapping-preview', async (req, res) => {
    const organizationId = orgIdOf(req);
    const body = parseInput(mappingPreviewBodySchema, req.body ?? {}, 'Mapping preview');
    if (body.isErr()) return sendResult(res, body);
    sendResult(res, await useCases.previewMapping.execute({ ownerId: authUser(req).id, organizationId, body: body.unwrap() }));
  });

  return router;
}
