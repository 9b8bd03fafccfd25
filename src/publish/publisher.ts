// Publishers turn a build result into effects on one target (the route
// table, logs, Kubernetes Events, Ingress status). Each skips its work when
// its part of the result did not change. The loop runs them in order, one
// build at a time.
import type { Snapshot } from '../cache/snapshot.js';
import type { BuildResult, Problem } from '../model/model.js';

export interface Publisher {
  readonly name: string;
  publish(result: BuildResult): Promise<void>;
  /** Ends work the publisher owns beyond publish() (a status writer waiting for ATS). */
  stop?(): Promise<void>;
}

/** What publishers may ask of the controller that runs them. */
export interface PublisherContext {
  /** True when ATS serves the last published table. */
  isLive(): Promise<boolean>;
  /** The objects as the cache holds them now (status needs the Ingresses). */
  snapshot(): Snapshot;
  /** A publisher's own problems (what ATS refused, say): the origin's set is replaced, and goes to Events like the build's. */
  reportProblems(origin: string, problems: readonly Problem[]): void;
  /** Subscribes to reportProblems (the Events publisher). */
  onProblems(listener: (origin: string, problems: readonly Problem[]) => void): void;
}
