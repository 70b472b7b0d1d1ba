import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';

// Rule 1 of docs/sync-model.md: one module writes item state. Every source file of the product
// (apps/, libs/, scripts/) outside libs/sync-state is scanned for a write to `inventory_items`,
// `deliveries` or `inbound_messages`; tests and test helpers may set up state as they need.

const ROOT = join(__dirname, '..', '..', '..');
const WRITER = 'libs/sync-state/src/';
const MODELS = 'libs/persistence/src/models.ts';

const WRITE_METHODS = [
  'create',
  'insertMany',
  'insertOne',
  'updateOne',
  'updateMany',
  'findOneAndUpdate',
  'findByIdAndUpdate',
  'findOneAndReplace',
  'findOneAndDelete',
  'findByIdAndDelete',
  'deleteOne',
  'deleteMany',
  'replaceOne',
  'bulkWrite',
  'save',
];

/** A write through a model (`models.inventoryItems.updateOne(`, also through `.collection`). */
const MODEL_WRITE = new RegExp(`\\b(inventoryItems|deliveries|inboundMessages)\\s*(?:\\.\\s*collection)?\\s*\\.\\s*(${WRITE_METHODS.join('|')})\\s*\\(`);
/** The collection opened by name on a raw connection (it could be written through). */
const COLLECTION_NAME = /\bcollection\s*\(\s*['"`](inventory_items|deliveries|inbound_messages)['"`]/;

const isTest = (file: string): boolean => /\.(spec|test-helper|test-harness)\.ts$/.test(file) || file.startsWith('libs/testing/');

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (entry.name.endsWith('.ts')) out.push(relative(ROOT, path).split(sep).join('/'));
  }
  return out;
}

/** The lines of `source` that write item state (comments left out). */
export function itemStateWrites(source: string): string[] {
  return source
    .split('\n')
    .filter((line) => !/^\s*(\/\/|\*|\/\*)/.test(line))
    .filter((line) => MODEL_WRITE.test(line) || COLLECTION_NAME.test(line));
}

describe('one writer of item state (docs/sync-model.md, rule 1)', () => {
  const files = ['apps', 'libs', 'scripts'].flatMap((d) => sourceFiles(join(ROOT, d)));

  it('no module outside libs/sync-state writes inventory_items, deliveries or inbound_messages', () => {
    const offenders = files
      .filter((f) => !f.startsWith(WRITER) && f !== MODELS && !isTest(f))
      .flatMap((f) => itemStateWrites(readFileSync(join(ROOT, f), 'utf8')).map((line) => `${f}: ${line.trim()}`));
    expect(offenders).toEqual([]);
  });

  it('the scan sees the writes it is meant to catch (it is not vacuous)', () => {
    const writerFiles = files.filter((f) => f.startsWith(WRITER) && !isTest(f));
    const writes = writerFiles.flatMap((f) => itemStateWrites(readFileSync(join(ROOT, f), 'utf8')));
    expect(writes.length).toBeGreaterThan(10);
    expect(files).toContain('apps/music-integration/src/container.ts');
    for (const line of [
      'await this.models.inventoryItems.updateOne({ _id }, { $set: x });',
      'await models.deliveries.insertMany(docs);',
      'await deps.models.inboundMessages.deleteMany({});',
      'await this.models.inventoryItems.collection.bulkWrite(ops);',
      "const c = db.collection('inventory_items');",
    ]) {
      expect(itemStateWrites(line)).toEqual([line]);
    }
    // Reads pass.
    for (const line of ['await this.models.deliveries.find({ itemId });', 'await models.inventoryItems.countDocuments({ state });', '// models.inventoryItems.updateOne(x)']) {
      expect(itemStateWrites(line)).toEqual([]);
    }
  });
});
