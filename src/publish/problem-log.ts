// Logs each problem when it appears and once more when it is gone, rather
// than on every build.
import type { BuildResult, Problem } from '../model/model.js';
import type { Publisher } from './publisher.js';
import type { Logger } from '../observe/logger.js';
import type { ControllerMetrics } from '../observe/metrics.js';

function problemKey(p: Problem): string {
  return `${p.kind}/${p.namespace}/${p.name}/${p.field}/${p.message}`;
}

export function describeProblem(p: Problem): string {
  const obj = p.namespace ? `${p.kind} ${p.namespace}/${p.name}` : `${p.kind} ${p.name}`;
  return `${obj}: ${p.field}: ${p.message}`;
}

export class ProblemLog implements Publisher {
  readonly name = 'problem-log';
  #known = new Map<string, Problem>();

  /** `origin` names where the problems come from in the metric: the build, or a publisher that reports its own. */
  constructor(
    private readonly logger: Logger,
    private readonly metrics: ControllerMetrics,
    private readonly origin = 'build',
  ) {}

  async publish(result: BuildResult): Promise<void> {
    this.report(result.problems);
  }

  /** The problems are now these: each new one is logged, each gone one logged as resolved. */
  report(problems: readonly Problem[]): void {
    const now = new Map(problems.map((p) => [problemKey(p), p]));
    for (const [key, p] of now) {
      if (this.#known.has(key)) continue;
      const fields = { object: `${p.kind} ${p.namespace ? `${p.namespace}/` : ''}${p.name}`, field: p.field, reason: p.message };
      if (p.severity === 'Error') this.logger.error(describeProblem(p), fields);
      else this.logger.warn(describeProblem(p), fields);
    }
    for (const [key, p] of this.#known) {
      if (!now.has(key)) this.logger.info(`resolved: ${describeProblem(p)}`);
    }
    this.#known = now;
    for (const severity of ['Error', 'Warning'] as const) {
      this.metrics.problems.set({ severity, origin: this.origin }, problems.filter((p) => p.severity === severity).length);
    }
  }
}
