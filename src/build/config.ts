// What build() needs from the command line. Parsed once by the CLI and passed
// down; nothing here reads the environment.

export const DEFAULT_CONTROLLER_NAME = 'ats.ingress.kubernetes.io/controller';
export const DEFAULT_INGRESS_CLASS_NAME = 'ats';

export interface BuildConfig {
  /** The `spec.controller` of the IngressClasses that are ours. */
  readonly controllerName: string;
  /** Our class name, also accepted in the legacy `kubernetes.io/ingress.class` annotation. */
  readonly ingressClassName: string;
  /** Only Ingresses of these namespaces are claimed; empty: every namespace. */
  readonly watchNamespaces: readonly string[];
  /** `--default-backend`: `namespace/name:port` (port a number or a port name). */
  readonly defaultBackend?: string;
}

export function buildConfig(overrides: Partial<BuildConfig> = {}): BuildConfig {
  return {
    controllerName: DEFAULT_CONTROLLER_NAME,
    ingressClassName: DEFAULT_INGRESS_CLASS_NAME,
    watchNamespaces: [],
    ...overrides,
  };
}

/** A Service port reference as the controller's flags write it. */
export interface ServicePortRef {
  readonly namespace: string;
  readonly name: string;
  readonly port: { readonly number: number } | { readonly name: string };
}

const SERVICE_PORT_REF = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?)\/([a-z0-9]([-a-z0-9]*[a-z0-9])?):([0-9]+|[a-z0-9]([-a-z0-9]*[a-z0-9])?)$/;

/** Parses `namespace/name:port`; a string saying what is wrong when it is not one. */
export function parseServicePortRef(text: string): ServicePortRef | string {
  const m = SERVICE_PORT_REF.exec(text);
  if (!m) return `"${text}" is not namespace/name:port (port a number or a port name)`;
  const [, namespace = '', , name = '', , port = ''] = m;
  if (/^[0-9]+$/.test(port)) {
    const number = Number(port);
    if (number < 1 || number > 65535) return `"${text}": port ${port} is not in 1..65535`;
    return { namespace, name, port: { number } };
  }
  return { namespace, name, port: { name: port } };
}
