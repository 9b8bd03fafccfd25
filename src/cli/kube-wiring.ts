// The Kubernetes source and its publishers, from the controller's options.
import type { Logger } from '../observe/logger.js';
import type { Source } from '../sources/source.js';
import type { ControllerOptions } from './controller-options.js';
import { CliError } from './io.js';

export function createKubernetesSource(_o: ControllerOptions, _logger: Logger): Source {
  throw new CliError('the Kubernetes source is not part of this build yet: use --manifests DIR', 2);
}
