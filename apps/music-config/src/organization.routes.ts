import { Router, type Request } from 'express';
import type { Organization, SyncRun } from '@music/domain';
import { addToContext, authUser, maskUrl, parseInput, sendResult } from '@music/platform';
import { parseOrganizationBody } from './organization-body';
import { toApi, type ApiView } from './organization.api';
import type { WrittenOrganization } from './webhook-credentials';
import type { RotateWebhookSecretUseCase } from './rotate-webhook-secret.use-case';
import type { CreateOrganizationUseCase } from './create-organization.use-case';
import type { DeleteOrganizationUseCase } from './delete-organization.use-case';
import type { GetOrganizationUseCase } from './get-organization.use-case';
import type { ListOrganizationsUseCase } from './list-organizations.use-case';
import type { PatchOrganizationUseCase } from './patch-organization.use-case';
import type { ReplaceOrganizationUseCase } from './replace-organization.use-case';
import type { TriggerSyncUseCase } from './trigger-sync.use-case';
import { mappingPreviewBodySchema, type MappingPreviewUseCase } from './mapping-preview.use-case';

export interface OrganizationRouteDeps {
  create: CreateOrganizationUseCase;
  list: ListOrganizationsUseCase;
  get: GetOrganizationUseCase;
  replace: ReplaceOrganizationUseCase;
  patch: PatchOrganizationUseCase;
  remove: DeleteOrganizationUseCase;
  triggerSync: TriggerSyncUseCase;
  previewMapping: MappingPreviewUseCase;
  rotateSecret: RotateWebhookSecretUseCase;
  view: ApiView;
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
export function organizationRoutes(deps: OrganizationRouteDeps): Router {
  const router = Router();
  const shown = (org: Organization) => toApi(org, deps.view);
  // A write's answer: the organization, with the credentials it generated shown this once.
  const written = ({ org, revealed }: WrittenOrganization) => toApi(org, deps.view, revealed);

  router.post('/', async (req, res) => {
    const body = parseOrganizationBody(req.body);
    if (body.isErr()) return sendResult(res, body);
    const result = await deps.create.execute(authUser(req).id, body.unwrap());
    result.inspect(({ org }) => void res.location(`${req.baseUrl}/${org.id}`));
    sendResult(res, result, 201, written);
  });

  router.get('/', async (req, res) => {
    sendResult(res, await deps.list.execute(authUser(req).id), 200, (orgs) => ({ organizations: orgs.map(shown) }));
  });

  router.get('/:id', async (req, res) => {
    sendResult(res, await deps.get.execute(authUser(req).id, orgIdOf(req)), 200, shown);
  });

  // PUT and PATCH bodies are validated against the stored organization (in the use-cases): what GET
  // showed masked stands for what is stored.
  router.put('/:id', async (req, res) => {
    sendResult(res, await deps.replace.execute(authUser(req).id, orgIdOf(req), req.body), 200, written);
  });

  router.patch('/:id', async (req, res) => {
    sendResult(res, await deps.patch.execute(authUser(req).id, orgIdOf(req), req.body), 200, written);
  });

  router.post('/:id/webhooks/:webhookId/rotate-secret', async (req, res) => {
    const result = await deps.rotateSecret.execute(authUser(req).id, orgIdOf(req), String(req.params['webhookId']));
    sendResult(res, result, 200, (r) => ({ webhook: written(r).webhooks.find((w) => w.id === r.webhookId) }));
  });

  // 202: the organization is gone from every API now; its data is removed by a durable job.
  router.delete('/:id', async (req, res) => {
    sendResult(res, await deps.remove.execute(authUser(req).id, orgIdOf(req)), 202);
  });

  router.post('/:id/sync', async (req, res) => {
    sendResult(res, await deps.triggerSync.execute(authUser(req).id, orgIdOf(req)), 202, toRunApi);
  });

  // A dry run: maps the first page of a polling endpoint (or a pasted sample), writes nothing.
  router.post('/:id/mapping-preview', async (req, res) => {
    const id = orgIdOf(req);
    const body = parseInput(mappingPreviewBodySchema, req.body ?? {}, 'Mapping preview');
    if (body.isErr()) return sendResult(res, body);
    sendResult(res, await deps.previewMapping.execute(authUser(req).id, id, body.unwrap()));
  });

  return router;
}
