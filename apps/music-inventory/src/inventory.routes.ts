import { Router, type Request } from 'express';
import { z } from 'zod';
import { addToContext, authUser, createJwtGuard, parseInput, sendResult, type TokenVerification } from '@music/platform';
import { toItemApi, toItemPageApi } from './item.api';
import type { InventoryUseCaseDeps } from './use-cases/item-access';
import { CreateItemUseCase } from './use-cases/create-item.use-case';
import { UpdateItemUseCase } from './use-cases/update-item.use-case';
import { DeleteItemUseCase } from './use-cases/delete-item.use-case';
import { GetItemUseCase, ListItemsUseCase } from './use-cases/read-items.use-case';

export const ORGANIZATION_HEADER = 'x-organization-id';

export const organizationHeaderSchema = z.object({
  [ORGANIZATION_HEADER]: z.string({ error: (issue) => (issue.input === undefined ? 'Required' : undefined) }).min(1, 'Required').max(128),
});

export const pageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** Opaque to clients: the id of the last item of the previous page. */
  cursor: z.string().min(1).max(128).optional(),
});

/** `x-organization-id` when sent (an empty header counts as not sent). */
function organizationHeader(req: Request): string | undefined {
  const value = req.header(ORGANIZATION_HEADER);
  return value === undefined || value === '' ? undefined : value;
}

export interface InventoryRoutesOptions extends InventoryUseCaseDeps {
  verification: TokenVerification;
}

/** `/inventory` routes; every one needs a bearer token and sees only the caller's organizations. */
export function inventoryRouter(options: InventoryRoutesOptions): Router {
  const { verification, ...deps } = options;
  const createItem = new CreateItemUseCase(deps);
  const replaceItem = new UpdateItemUseCase(deps, 'replace');
  const mergeItem = new UpdateItemUseCase(deps, 'merge');
  const deleteItem = new DeleteItemUseCase(deps);
  const getItem = new GetItemUseCase(deps);
  const listItems = new ListItemsUseCase(deps);

  const router = Router();
  router.use(createJwtGuard(verification));

  router.post('/', async (req, res) => {
    const header = parseInput(organizationHeaderSchema, { [ORGANIZATION_HEADER]: req.header(ORGANIZATION_HEADER) }, 'Headers');
    if (header.isErr()) return sendResult(res, header);
    const organizationId = header.unwrap()[ORGANIZATION_HEADER];
    addToContext({ orgId: organizationId });
    const result = await createItem.execute({ userId: authUser(req).id, organizationId, body: req.body });
    sendResult(res, result, 201, toItemApi);
  });

  router.get('/', async (req, res) => {
    const query = parseInput(pageQuerySchema, req.query, 'Query');
    if (query.isErr()) return sendResult(res, query);
    const result = await listItems.execute({ userId: authUser(req).id, ...query.unwrap() });
    sendResult(res, result, 200, toItemPageApi);
  });

  router.get('/organization/:orgId', async (req, res) => {
    const query = parseInput(pageQuerySchema, req.query, 'Query');
    if (query.isErr()) return sendResult(res, query);
    addToContext({ orgId: req.params.orgId });
    const result = await listItems.execute({ userId: authUser(req).id, organizationId: req.params.orgId, ...query.unwrap() });
    sendResult(res, result, 200, toItemPageApi);
  });

  router.get('/:id', async (req, res) => {
    const result = await getItem.execute({ userId: authUser(req).id, itemId: req.params.id, organizationId: organizationHeader(req) });
    sendResult(res, result, 200, toItemApi);
  });

  router.put('/:id', async (req, res) => {
    const command = { userId: authUser(req).id, itemId: req.params.id, organizationId: organizationHeader(req), body: req.body };
    sendResult(res, await replaceItem.execute(command), 200, toItemApi);
  });

  router.patch('/:id', async (req, res) => {
    const command = { userId: authUser(req).id, itemId: req.params.id, organizationId: organizationHeader(req), body: req.body };
    sendResult(res, await mergeItem.execute(command), 200, toItemApi);
  });

  router.delete('/:id', async (req, res) => {
    const result = await deleteItem.execute({ userId: authUser(req).id, itemId: req.params.id, organizationId: organizationHeader(req) });
    sendResult(res, result, 204);
  });

  return router;
}
