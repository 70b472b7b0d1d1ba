import mongoose, { type Connection } from 'mongoose';
import { createModels, ensureIndexes, type Models } from '@music/persistence';

/** Time and count of driver commands by `<command> <collection>` (e.g. `insert inventory_items`). */
export interface CommandProfile {
  [key: string]: { count: number; ms: number; statements: number };
}

const WRITE_COMMANDS = new Set(['insert', 'update', 'delete', 'findAndModify']);

/** Write statements (documents inserted, updates, deletes) per collection in a command profile. */
export function writesIn(profile: CommandProfile, collection: string): number {
  let writes = 0;
  for (const [key, entry] of Object.entries(profile)) {
    const [command, coll] = key.split(' ');
    if (coll === collection && command !== undefined && WRITE_COMMANDS.has(command)) writes += entry.statements;
  }
  return writes;
}

export interface BenchStore {
  connection: Connection;
  models: Models;
  /** Commands seen since the last reset (only with `monitor`). */
  profile: () => CommandProfile;
  resetProfile: () => void;
  close: () => Promise<void>;
  drop: () => Promise<void>;
}

/**
 * A connection to the benchmark's database with the options the apps use (libs/platform mongo.ts);
 * with `monitor`, every driver command is timed (command monitoring: this is how write counts and
 * store time are measured without touching the code under test).
 */
export async function openBenchStore(url: string, dbName: string, monitor = false): Promise<BenchStore> {
  const connection = mongoose.createConnection(url, {
    dbName,
    serverSelectionTimeoutMS: 5000,
    heartbeatFrequencyMS: 2000,
    maxPoolSize: 20,
    retryWrites: false,
    autoIndex: true,
    monitorCommands: monitor,
  });
  await connection.asPromise();
  const models = createModels(connection);
  await ensureIndexes(models);

  let profile: CommandProfile = {};
  const started = new Map<number, { key: string; at: number }>();
  if (monitor) {
    const client = connection.getClient();
    // A cursor's getMores are counted with the find that opened it.
    const cursors = new Map<string, string>();
    client.on('commandStarted', (e) => {
      const command = e.command as Record<string, unknown>;
      let key: string;
      if (e.commandName === 'getMore') {
        key = `${cursors.get(String(command['getMore'])) ?? `getMore ${String(command['collection'])}`} +getMore`;
      } else {
        const collection = typeof command[e.commandName] === 'string' ? (command[e.commandName] as string) : '';
        // Reads are told apart by the fields they filter on (by _id, by organizationId...).
        const filter = command['filter'] ?? command['query'];
        const on = filter && typeof filter === 'object' ? ` {${Object.keys(filter).sort().join(',')}}` : '';
        key = `${e.commandName} ${collection}${e.commandName === 'find' || e.commandName === 'count' ? on : ''}`.trim();
      }
      const list = command['documents'] ?? command['updates'] ?? command['deletes'];
      const entry = (profile[key] ??= { count: 0, ms: 0, statements: 0 });
      entry.count++;
      entry.statements += Array.isArray(list) ? list.length : WRITE_COMMANDS.has(e.commandName) ? 1 : 0;
      started.set(e.requestId, { key, at: performance.now() });
    });
    const done = (e: { requestId: number; reply?: unknown }): void => {
      const s = started.get(e.requestId);
      if (!s) return;
      started.delete(e.requestId);
      const cursor = (e.reply as { cursor?: { id?: unknown } } | undefined)?.cursor?.id;
      if (cursor !== undefined && String(cursor) !== '0') cursors.set(String(cursor), s.key.replace(/ \+getMore$/, ''));
      const entry = profile[s.key];
      if (entry) entry.ms += performance.now() - s.at;
    };
    client.on('commandSucceeded', done);
    client.on('commandFailed', done);
  }
  return {
    connection,
    models,
    profile: () => profile,
    resetProfile: () => {
      profile = {};
      started.clear();
    },
    close: () => connection.close(),
    drop: async () => {
      await connection.dropDatabase().catch(() => undefined);
    },
  };
}
