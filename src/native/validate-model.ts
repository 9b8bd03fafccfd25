// Kept for callers that only want the check: encoding is the validation.
import { encodeModel } from './encode-model.js';
import type { TableModel } from './table-types.js';

export { isValidHostName, matchKey } from './encode-model.js';

export function validateModel(model: unknown): asserts model is TableModel {
  encodeModel(model);
}
