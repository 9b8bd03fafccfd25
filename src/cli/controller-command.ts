import { Controller, type ControllerConfig } from '../controller/controller.js';
import { describeProblem } from '../publish/problem-log.js';
import { createLogger } from '../observe/logger.js';
import { ManifestSource } from '../sources/manifests.js';
import type { Source } from '../sources/source.js';
import { CONTROLLER_HELP, parseControllerOptions, type ControllerOptions } from './controller-options.js';
import { CliError, type Io } from './io.js';
import { kubernetesWiring } from './kube-wiring.js';

function makeSource(o: ControllerOptions, logger: ReturnType<typeof createLogger>): Pick<ControllerConfig, 'source' | 'extraPublishers' | 'onStop'> {
  if (o.manifests !== undefined) {
    return { source: new ManifestSource({ dir: o.manifests, namespaces: o.watchNamespaces, logger: logger.with({ source: 'manifests' }), watch: !o.once }) };
  }
  return kubernetesWiring(o, logger);
}

export async function runController(args: string[], io: Io, signal?: AbortSignal): Promise<number> {
  const o = parseControllerOptions(args);
  if (o.help) {
    io.out(CONTROLLER_HELP);
    return 0;
  }
  const logger = createLogger({ level: o.logLevel, write: (line) => io.err(line) });
  const wiring = makeSource(o, logger);
  const source: Source = wiring.source;
  const controller = new Controller({
    ...wiring,
    table: o.table,
    logger,
    build: {
      controllerName: o.controllerName,
      ingressClassName: o.ingressClass,
      watchNamespaces: o.watchNamespaces,
      ...(o.defaultBackend !== undefined ? { defaultBackend: o.defaultBackend } : {}),
    },
    ...(o.once ? {} : { adminAddress: o.adminAddress }),
    ...(o.atsStatsUrl !== undefined ? { atsStatsUrl: o.atsStatsUrl } : {}),
    holdMs: o.batchHoldMs,
    coalesceMs: o.batchCoalesceMs,
  });

  if (o.once) {
    try {
      const result = await controller.start();
      const last = controller.table.last;
      if (!last) throw new CliError('the route table was refused (see the error above); nothing was published', 1);
      const t = result.model.table;
      io.out(`published generation ${last.generation} to table "${o.table}": ${t.hosts.length} hosts, ${last.routes} rules, ${t.backends.length} backends, ${t.backends.reduce((n, b) => n + b.endpoints.length, 0)} endpoints`);
      for (const h of t.hosts) {
        for (const r of h.rules) {
          const b = t.backends[r.backend]!;
          io.out(`  ${h.name || '*'}${r.path} (${r.pathType}) -> ${b.service}:${b.port} [${b.endpoints.length} endpoints]`);
        }
        if (h.defaultBackend !== undefined) io.out(`  ${h.name || '*'} (default) -> ${t.backends[h.defaultBackend]!.service}`);
      }
      const sourceProblems = source instanceof ManifestSource ? source.problems : [];
      const count = result.problems.length + sourceProblems.length;
      io.out(count === 0 ? 'no problems' : `${count} problems:`);
      for (const p of sourceProblems) io.out(`  ${p.where}: ${p.message}`);
      for (const p of result.problems) io.out(`  ${p.severity}: ${describeProblem(p)}`);
      return 0;
    } finally {
      await controller.stop();
    }
  }

  const stopped = new Promise<void>((resolve) => {
    const done = () => resolve();
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
    signal?.addEventListener('abort', done, { once: true });
  });
  try {
    await controller.start();
    logger.info('controller running', { table: o.table, adminPort: controller.adminPort });
    await stopped;
    logger.info('stopping');
  } finally {
    await controller.stop();
  }
  return 0;
}
