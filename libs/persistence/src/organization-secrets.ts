import type { NotificationTarget, PollingCredentials, PollingEntry, Webhook } from '@music/domain';
import type { SecretBox } from '@music/platform';
import type { StoredPollingEntry } from './models';

// Webhook secrets and polling credentials are sealed (AES-256-GCM, secret-box.ts) in the stored
// organization, and opened when it is read. Values stored before sealing existed are plain: they
// open as they are, and are written sealed the next time the organization is written.

/** A webhook as stored: its secrets sealed. */
export function sealWebhook(webhook: Webhook, box: SecretBox): Webhook {
  return {
    ...webhook,
    ...(webhook.secret !== undefined ? { secret: box.seal(webhook.secret) } : {}),
    ...(webhook.previousSecret !== undefined ? { previousSecret: box.seal(webhook.previousSecret) } : {}),
  };
}

/** A polling entry as stored: its credentials one sealed JSON text. */
export function sealPolling(entry: PollingEntry, box: SecretBox): StoredPollingEntry {
  if (entry.auth === undefined) return { ...entry };
  return { ...entry, auth: box.seal(JSON.stringify(entry.auth)) };
}

/** A stored webhook with its secrets opened; without a box, with its secrets left out. */
export function openWebhook(stored: Webhook, box: SecretBox | undefined): Webhook {
  const { secret, previousSecret, ...rest } = stored;
  if (!box) return rest;
  return {
    ...rest,
    ...(secret !== undefined ? { secret: box.open(secret) } : {}),
    ...(previousSecret !== undefined ? { previousSecret: box.open(previousSecret) } : {}),
  };
}

/** A stored polling entry with its credentials opened; without a box, with them left out. */
export function openPolling(stored: PollingEntry, box: SecretBox | undefined): PollingEntry {
  const { auth, ...rest } = stored as PollingEntry & { auth?: PollingCredentials | string };
  if (!box || auth === undefined) return rest;
  return { ...rest, auth: typeof auth === 'string' ? (JSON.parse(box.open(auth)) as PollingCredentials) : auth };
}

/** A notification webhook as stored: its secret sealed. */
export function sealNotification(target: NotificationTarget, box: SecretBox): NotificationTarget {
  return { ...target, ...(target.secret !== undefined ? { secret: box.seal(target.secret) } : {}) };
}

/** A stored notification webhook with its secret opened; without a box, with its secret left out. */
export function openNotification(stored: NotificationTarget, box: SecretBox | undefined): NotificationTarget {
  const { secret, ...rest } = stored;
  if (!box) return rest;
  return { ...rest, ...(secret !== undefined ? { secret: box.open(secret) } : {}) };
}
