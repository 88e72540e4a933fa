// Validate a document against the JSON Schema luotrace publishes (`luotrace schema KIND`), with ajv
// (draft 2020-12, what zod's toJSONSchema emits): an independent check that the zod schemas, the
// generated JSON Schemas and the real outputs agree.
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { jsonSchemaOf } from '../../cli/schema.js';

const ajv = new Ajv2020({ strict: false, allErrors: true });
const compiled = new Map<string, ValidateFunction>();

/** Errors of `doc` against the published schema of `kind` (empty = valid). */
export function schemaErrors(kind: string, doc: unknown): unknown[] {
  let validate = compiled.get(kind);
  if (!validate) {
    validate = ajv.compile(jsonSchemaOf(kind));
    compiled.set(kind, validate);
  }
  return validate(doc) ? [] : (validate.errors ?? ['invalid']);
}
