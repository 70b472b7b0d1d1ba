import { compileMapping, type CompiledMapping } from '@music/mapping';
import type { Organization } from '@music/domain';

const MAX_ENTRIES = 500;

/**
 * Compiled mappings by organization revision. A cache of derived values only: the organization
 * itself is read from the database for every job, and a new revision compiles afresh, so several
 * processes never disagree about an organization's settings.
 */
export class MappingCache {
  private readonly entries = new Map<string, CompiledMapping>();

  for(org: Organization): CompiledMapping {
    const key = `${org.id}@${org.revision}`;
    let compiled = this.entries.get(key);
    if (!compiled) {
      compiled = compileMapping(org.mappings, org.transforms);
      if (this.entries.size >= MAX_ENTRIES) {
        const oldest = this.entries.keys().next().value;
        if (oldest !== undefined) this.entries.delete(oldest);
      }
      this.entries.set(key, compiled);
    }
    return compiled;
  }
}
