import { loadIntegrationConfig } from './config';

// SYNC_MUTANT selects a deliberately broken engine for the convergence test's mutation checks
// (docs/reliability.md, "Convergence"): tests only, never in production.
describe('SYNC_MUTANT', () => {
  it('is refused in production', () => {
    expect(() => loadIntegrationConfig({ NODE_ENV: 'production', SYNC_MUTANT: 'no-fencing' })).toThrow(/SYNC_MUTANT: a deliberately broken engine is for tests only/);
  });

  it('names one of the known variants, and is unset by default', () => {
    expect(() => loadIntegrationConfig({ NODE_ENV: 'test', SYNC_MUTANT: 'anything' })).toThrow(/SYNC_MUTANT/);
    expect(loadIntegrationConfig({ NODE_ENV: 'test', SYNC_MUTANT: 'settle-on-first-webhook' }).SYNC_MUTANT).toBe('settle-on-first-webhook');
    expect(loadIntegrationConfig({ NODE_ENV: 'test' }).SYNC_MUTANT).toBeUndefined();
  });
});
