import type { Mappings, Transform } from '@music/domain';
import type { FieldError } from './outcome';
import { resolvePath, topLevelFields, type FieldSpec } from './field-spec';

const TEMPLATE_TOKEN = /\{\{\s*([^{}]*?)\s*\}\}/g;

/** A template field must be a scalar reached through objects only (one value per record). */
function templateFieldProblem(fields: FieldSpec[], path: string): string | null {
  const resolved = resolvePath(fields, path);
  if (!resolved) return `{{${path}}} is not a mapped field`;
  if (resolved.throughArray.some(Boolean)) return `{{${path}}} goes through an array`;
  if (resolved.field.shape.kind !== 'scalar') return `{{${path}}} is not a scalar field`;
  return null;
}

/**
 * The transforms that do not fit the mappings (a field that is not mapped, a template naming one),
 * with paths such as `transforms.2.field`; empty when they all fit. The config service checks this
 * next to the schemas; compileMapping itself ignores transforms on unmapped fields.
 */
export function checkTransforms(mappings: Mappings, transforms: readonly Transform[]): FieldError[] {
  const fields = topLevelFields(mappings);
  const errors: FieldError[] = [];
  transforms.forEach((t, i) => {
    if (!resolvePath(fields, t.field)) {
      errors.push({ path: `transforms.${i}.field`, message: `\`${t.field}\` is not a mapped field` });
    }
    if (t.op === 'template') {
      for (const match of t.template.matchAll(TEMPLATE_TOKEN)) {
        const problem = templateFieldProblem(fields, match[1] ?? '');
        if (problem) errors.push({ path: `transforms.${i}.template`, message: problem });
      }
    }
  });
  return errors;
}
