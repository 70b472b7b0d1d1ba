import type { Express } from 'express';
import { resolve } from '@music/platform';
import { INVENTORY, inventoryContainer, type InventoryDeps } from './container';

export { INVENTORY, inventoryContainer, type InventoryDeps } from './container';

/** The music-inventory HTTP app, built from its composition root (container.ts). */
export function createInventoryApp(deps: InventoryDeps): Express {
  return resolve(inventoryContainer(deps), INVENTORY.app);
}
