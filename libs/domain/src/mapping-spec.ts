import { z } from 'zod';

// Our field names become document keys: FerretDB and MongoDB refuse keys with '.' or a leading '$'.
export const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
// A dot path into the third party's record, e.g. `id`, `meta.album.title`, `tracks.0.name`.
export const SOURCE_PATH = /^[^.\s]+(\.[^.\s]+)*$/;

export const FIELD_TYPES = ['string', 'number', 'boolean', 'array', 'object'] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

/** `required` may be written as a boolean or as the strings `"true"`/`"false"`; both are accepted. */
const requiredFlag = z
  .union([z.boolean(), z.enum(['true', 'false'])])
  .transform((v) => v === true || v === 'true')
  .default(false);

/** How one of our fields is read from the third party's record (recursive for arrays and objects). */
export interface FieldMapping {
  type: FieldType;
  source?: string;
  required: boolean;
  items?: FieldMapping | Record<string, FieldMapping>;
  properties?: Record<string, FieldMapping>;
}

const fieldNameKey = z.string().regex(FIELD_NAME, 'must be a letter or _ followed by letters, digits or _');

export const fieldMappingSchema: z.ZodType<FieldMapping, unknown> = z.lazy(() =>
  z
    .object({
      type: z.enum(FIELD_TYPES),
      source: z.string().regex(SOURCE_PATH, 'must be a dot path such as `album.title`').max(256).optional(),
      required: requiredFlag,
      // `items` is one mapping (array of scalars/objects) or a record of properties (the objects' fields).
      items: z.union([fieldMappingSchema, z.record(fieldNameKey, fieldMappingSchema)]).optional(),
      properties: z.record(fieldNameKey, fieldMappingSchema).optional(),
    })
    .strict()
    .superRefine((m, ctx) => {
      if (m.type === 'array' && m.items === undefined) {
        ctx.addIssue({ code: 'custom', path: ['items'], message: 'required when type is array' });
      }
      if (m.type === 'object' && m.properties === undefined) {
        ctx.addIssue({ code: 'custom', path: ['properties'], message: 'required when type is object' });
      }
      if (m.type !== 'array' && m.items !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['items'], message: 'only allowed when type is array' });
      }
      if (m.type !== 'object' && m.properties !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['properties'], message: 'only allowed when type is object' });
      }
      // Stores compatible with FerretDB cannot hold arrays of arrays.
      if (m.type === 'array' && m.items && 'type' in m.items && (m.items as FieldMapping).type === 'array') {
        ctx.addIssue({ code: 'custom', path: ['items', 'type'], message: 'arrays of arrays are not supported' });
      }
    }),
);

/** Names the inventory API uses for its own fields; a mapping may not take them. */
export const RESERVED_FIELD_NAMES = ['id', 'organizationId', 'sync', 'createdAt', 'updatedAt'] as const;

/** An organization's mappings: our field name -> how to read it. `externalId` is mandatory. */
export const mappingsSchema = z
  .record(fieldNameKey, fieldMappingSchema)
  .superRefine((mappings, ctx) => {
    for (const name of RESERVED_FIELD_NAMES) {
      if (Object.prototype.hasOwnProperty.call(mappings, name)) {
        ctx.addIssue({ code: 'custom', path: [name], message: `"${name}" is reserved by the inventory API; map it to another name` });
      }
    }
    const externalId = mappings['externalId'];
    if (!externalId) {
      ctx.addIssue({ code: 'custom', path: ['externalId'], message: 'a mapping for externalId is required' });
    } else if (externalId.type !== 'string' && externalId.type !== 'number') {
      ctx.addIssue({ code: 'custom', path: ['externalId', 'type'], message: 'externalId must be a string or number' });
    }
  });
export type Mappings = z.infer<typeof mappingsSchema>;

// Filled in by the mapping work (issue 4): the declarative transform operations.
export { MAX_REGEX_PROGRAM, re2Flags, regexProblem, transformSchema, transformsSchema, type Transform } from './transform-spec';
