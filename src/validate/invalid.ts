// The one result convention for validation in TypeScript: a function that
// checks input answers with the value it accepted, or `Invalid` saying what
// is wrong in words a person can act on. Callers add where (object, field).

export interface Invalid {
  readonly invalid: string;
}

export function invalid(message: string): Invalid {
  return { invalid: message };
}

export function isInvalid<T>(value: T | Invalid): value is Invalid {
  return typeof value === 'object' && value !== null && 'invalid' in value;
}
