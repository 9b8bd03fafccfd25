// Kubernetes name formats (RFC 1123 labels and subdomains, as the API
// server's validation defines them): the one place they are written. Each
// check answers with the reason a name is refused, or undefined.

const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DOTTED_QUAD = /^[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+$/;

const LABEL_RULE = 'lowercase letters, digits and "-", starting and ending with a letter or digit';

/** An RFC 1123 label (namespace names, Service and port names): 1 to 63 characters. */
export function dnsLabelError(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > 63) return 'is longer than 63 characters';
  if (!LABEL.test(name)) return `is not a DNS label (${LABEL_RULE})`;
  return undefined;
}

/** An RFC 1123 subdomain (object names, hosts): 1 to 253 characters of dot-separated labels. */
export function dnsSubdomainError(name: string): string | undefined {
  if (name.length === 0) return 'is empty';
  if (name.length > 253) return 'is longer than 253 characters';
  return isSubdomainText(name) ? undefined : 'is not a DNS name (lowercase letters, digits, "-" and ".", each label 1 to 63 characters starting and ending with a letter or digit)';
}

/**
 * LABEL for each dot-separated label, by hand: every host and Service name
 * of every build is checked (splitting them was 20,000 arrays a build).
 */
function isSubdomainText(name: string): boolean {
  let length = 0;
  let last = 0;
  for (let i = 0; i <= name.length; i++) {
    const c = i < name.length ? name.charCodeAt(i) : 46;
    if (c === 46) {
      // A label ends: not empty, at most 63, not ending in '-'.
      if (length === 0 || length > 63 || last === 45) return false;
      length = 0;
    } else if ((c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c === 45 && length > 0)) {
      length++;
      last = c;
    } else {
      return false;
    }
  }
  return true;
}

/** A DNS name that is not an IPv4 address written as one (Ingress hosts must be names). */
export function hostNameError(name: string): string | undefined {
  const error = dnsSubdomainError(name);
  if (error) return error;
  if (DOTTED_QUAD.test(name)) return 'is an IP address; a DNS name is required';
  return undefined;
}

export function isDnsLabel(name: string): boolean {
  return dnsLabelError(name) === undefined;
}

export function isDnsSubdomain(name: string): boolean {
  return dnsSubdomainError(name) === undefined;
}
