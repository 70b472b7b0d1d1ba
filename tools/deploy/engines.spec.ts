import { minVersion, satisfies, subset, validRange } from 'semver';
import { BUILD_TARGET } from '../build/build-app';
import { imageNodeVersion, read } from './deploy-files';

// The Node.js versions we support (package.json `engines`, README) must be ones every dependency
// supports, and must include the two CI runs the suite on: the oldest line (20.19, end of life but
// still what some machines have) and the image's.

const pkg = JSON.parse(read('package.json')) as { engines: { node: string } };
const lock = JSON.parse(read('package-lock.json')) as { packages: Record<string, { engines?: { node?: string } | string[]; dev?: boolean }> };
const ours = pkg.engines.node;

describe('supported Node.js versions', () => {
  it('include the oldest version we build for and the version the image runs', () => {
    expect(validRange(ours)).not.toBeNull();
    expect(minVersion(ours)?.version).toBe('20.19.0');
    expect(BUILD_TARGET).toBe(`node${minVersion(ours)?.major}.${minVersion(ours)?.minor}`);
    expect(satisfies(imageNodeVersion(), ours)).toBe(true);
  });

  it('are supported by every installed package that states its engines', () => {
    const disagreeing: string[] = [];
    let checked = 0;
    for (const [where, meta] of Object.entries(lock.packages)) {
      const node = !Array.isArray(meta.engines) ? meta.engines?.node : undefined;
      if (!where || !node || validRange(node) === null) continue;
      checked++;
      if (!subset(ours, node)) disagreeing.push(`${where.replace(/^node_modules\//, '')} wants node ${node}`);
    }
    expect(checked).toBeGreaterThan(100);
    expect(disagreeing).toEqual([]);
  });

  it('are the ones the README states', () => {
    const readme = read('README.md');
    expect(readme).toContain(`\`${ours}\``);
    expect(readme).toContain(`Node.js ${imageNodeVersion().split('.')[0]}`);
  });
});
