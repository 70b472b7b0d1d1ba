/** Where the example organization's third party and our integration app are. */
export interface ExampleOrganizationUrls {
  /** The third party (the faker): polled at `/music`, delivered to at `/sync/create`. */
  thirdParty: string;
  /** The integration app, where the third party's webhook calls arrive (`/sync?orgId=`). */
  integration: string;
}

/** The local stack's addresses (`npm start`). */
export const LOCAL_STACK_URLS: ExampleOrganizationUrls = { thirdParty: 'http://localhost:5000', integration: 'http://localhost:3003' };

/** The example organization's mapping: the third party's id, name, artist and album, all required. */
export const EXAMPLE_MAPPINGS = {
  externalId: { type: 'string' as const, source: 'id', required: true },
  name: { type: 'string' as const, source: 'name', required: true },
  artist: { type: 'string' as const, source: 'artist', required: true },
  album: { type: 'string' as const, source: 'album', required: true },
};

/**
 * The example organization in its canonical form (`webhooks`, boolean `required`): two-way, polling
 * the third party's songs every minute and delivering local changes to it, with the
 * id/name/artist/album mapping. One fixture for every place that shows or sends it: Swagger's
 * example, the demo, the console's "new organization" form, and tests.
 */
export function exampleOrganization(urls: ExampleOrganizationUrls = LOCAL_STACK_URLS) {
  return {
    name: 'Example organization',
    synchronization: 'two-way' as const,
    webhooks: [
      { type: 'input' as const, url: `${urls.integration}/sync?orgId=`, method: 'DELETE' as const },
      { type: 'output' as const, url: `${urls.thirdParty}/sync/create`, method: 'POST' as const },
    ],
    polling: [{ endpoint: `${urls.thirdParty}/music`, interval: 1, type: 'minute' as const }],
    mappings: EXAMPLE_MAPPINGS,
    transforms: [],
  };
}
