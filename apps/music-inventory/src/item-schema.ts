import { Result } from '@sapphire/result';
import { z } from 'zod';
import type { FieldMapping, Mappings } from '@music/domain';
import { AppError, type ErrorDetail } from '@music/platform';

/**
 * Which request a body belongs to:
 * - `create` (POST): externalId and every required field must be present.
 * - `replace` (PUT): every required field must be present; externalId may be repeated but not changed.
 * - `merge` (PATCH): every field is optional; `null` on an optional field removes it.
 */
export type ItemBodyMode = 'create' | 'replace' | 'merge';

/** A validated item body: the sync key and the mapped fields (every field but externalId). */
export interface ItemBody {
  externalId?: string;
  data: Record<string, unknown>;
}

const REQUIRED = 'Required';
const requiredMessage = (issue: { input?: unknown }): string | undefined => (issue.input === undefined ? REQUIRED : undefined);

// `required` may arrive as the string "true"; stored mappings are parsed to booleans, strings are tolerated.
const isRequired = (mapping: FieldMapping): boolean => mapping.required === true || (mapping.required as unknown) === 'true';

// `items` is either one mapping (an array of scalars or objects) or the properties of the
// array's objects. A mapping has a string `type`; a property record's values are objects.
const isSingleMapping = (items: FieldMapping | Record<string, FieldMapping>): items is FieldMapping =>
  typeof (items as { type?: unknown }).type === 'string';

function objectSchema(properties: Record<string, FieldMapping>): z.ZodType {
  const shape: Record<string, z.ZodType> = {};
  for (const [key, mapping] of Object.entries(properties)) {
    const schema = fieldSchema(mapping);
    shape[key] = isRequired(mapping) ? schema : schema.optional();
  }
  return z.object(shape).strict();
}

/** The zod schema of one mapped value (recursive for arrays and objects). */
export function fieldSchema(mapping: FieldMapping): z.ZodType {
  switch (mapping.type) {
    case 'string':
      return z.string({ error: requiredMessage });
    case 'number':
      return z.number({ error: requiredMessage });
    case 'boolean':
      return z.boolean({ error: requiredMessage });
    case 'array': {
      const items = mapping.items;
      if (items === undefined) return z.array(z.never());
      return z.array(isSingleMapping(items) ? fieldSchema(items) : objectSchema(items), { error: requiredMessage });
    }
    case 'object':
      return objectSchema(mapping.properties ?? {});
    default: {
      const unreachable: never = mapping.type;
      throw new Error(`unknown field type ${String(unreachable)}`);
    }
  }
}

// The sync key: a string, or a number the client used as an id (stored as its decimal text).
const externalIdSchema = z.union([z.string().min(1).max(256), z.number().finite()], { error: requiredMessage }).transform(String);

/**
 * The schema of an item body for an organization's mappings: every mapping key except
 * externalId is an allowed field with its type; unknown fields are refused.
 */
export function itemSchemaFor(mappings: Mappings, mode: ItemBodyMode = 'create'): z.ZodType<ItemBody, unknown> {
  const shape: Record<string, z.ZodType> = {
    externalId: mode === 'create' ? externalIdSchema : externalIdSchema.optional(),
  };
  for (const [key, mapping] of Object.entries(mappings)) {
    if (key === 'externalId') continue;
    const schema = fieldSchema(mapping);
    if (mode === 'merge') shape[key] = isRequired(mapping) ? schema.optional() : schema.nullable().optional();
    else shape[key] = isRequired(mapping) ? schema : schema.optional();
  }
  return z
    .object(shape)
    .strict()
    .transform((body): ItemBody => {
      const { externalId, ...data } = body as Record<string, unknown>;
      return externalId === undefined ? { data } : { externalId: externalId as string, data };
    });
}

/** Zod issues as envelope details; an unknown-keys issue becomes one detail per unknown field path. */
export function itemValidationDetails(error: z.ZodError): ErrorDetail[] {
  return error.issues.flatMap((issue) => {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...path, key].join('.'), message: 'Unknown field (not in the organization mappings)' }));
    }
    return [{ path: path.join('.') || '(root)', message: issue.message }];
  });
}

/** Validates an item body against the organization's mappings. */
export function parseItemBody(mappings: Mappings, mode: ItemBodyMode, body: unknown): Result<ItemBody, AppError> {
  const parsed = itemSchemaFor(mappings, mode).safeParse(body);
  if (parsed.success) return Result.ok(parsed.data);
  return Result.err(new AppError('VALIDATION_FAILED', 'Item validation failed', itemValidationDetails(parsed.error)));
}

/** PATCH semantics: fields present replace, `null` removes, absent fields stay. */
export function mergeData(current: Record<string, unknown>, patch: Record<string, unknown>): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else if (value !== undefined) merged[key] = value;
  }
  return merged;
}
