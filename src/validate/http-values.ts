// What the plugin may write into a request or response it sends on: the
// same checks the table's writer makes (native/core/names.h:
// is_header_name, is_header_value, is_path_value), so that the builder can
// leave out and report what the writer would refuse, rather than have one
// object stop every table from being published.

/** RFC 9110's token (tchar+). */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A control character other than HTAB: CR and LF would split a header, NUL ends C strings. */
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f]/;
/** Visible ASCII without '?' and '#': what a path written into a Location or a request line may hold. */
const PATH_VALUE = /^[\x21-\x22\x24-\x3e\x40-\x7e]*$/;
const MAX_PATH = 8192;

export function isHeaderName(name: string): boolean {
  return TOKEN.test(name);
}

export function isHeaderValue(value: string): boolean {
  return !CONTROL.test(value);
}

export function isPathValue(value: string): boolean {
  return value.length <= MAX_PATH && PATH_VALUE.test(value);
}
