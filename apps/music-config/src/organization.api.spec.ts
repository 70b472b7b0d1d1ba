import { secretHint, toApi } from './organization.api';
import { OUTPUT_SECRET, storedOrganization } from './organization.test-helper';

describe('secretHint', () => {
  it('shows the whsec_ prefix and the last 4 characters only', () => {
    expect(secretHint('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw')).toBe('whsec_…LaSw');
    expect(secretHint('a-plain-shared-secret-wxyz')).toBe('…wxyz');
    expect(secretHint(undefined)).toBeNull();
  });
});

describe('toApi', () => {
  it('never includes a webhook secret, only hasSecret and the hint', () => {
    const api = toApi(storedOrganization());
    expect(JSON.stringify(api)).not.toContain(OUTPUT_SECRET);
    expect(JSON.stringify(api)).not.toContain('"secret"');
    const [input, output] = api.webhooks;
    expect(input).toEqual({ id: expect.any(String), type: 'input', url: 'http://localhost:3000/sync?orgId=', method: 'DELETE', hasSecret: false, secretHint: null });
    expect(output?.hasSecret).toBe(true);
    expect(output?.secretHint).toBe(`whsec_…${OUTPUT_SECRET.slice(-4)}`);
  });

  it('has the documented shape, without the owner', () => {
    const org = storedOrganization();
    const api = toApi(org);
    expect(Object.keys(api).sort()).toEqual(
      ['createdAt', 'id', 'mappings', 'name', 'polling', 'revision', 'synchronization', 'transforms', 'updatedAt', 'webhooks'].sort(),
    );
    expect(api.polling).toEqual([{ id: org.polling[0]?.id, endpoint: 'http://localhost:3004/music', interval: 1, type: 'minute', trackDeletes: true }]);
  });
});
