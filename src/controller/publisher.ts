// Publishers turn a build result into effects on one target (the route
// table, logs, Kubernetes Events, Ingress status). Each skips its work when
// its part of the result did not change.
import type { BuildResult } from '../build/model.js';

export interface Publisher {
  readonly name: string;
  publish(result: BuildResult): Promise<void>;
}
