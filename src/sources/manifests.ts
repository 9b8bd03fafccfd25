// A directory of YAML (or JSON) manifests as a source: the same objects as
// in a cluster, for local runs, the demo and tests. Every change to the
// directory re-reads it whole and hands the loop a full list per kind; the
// cache drops what did not change, so unrelated edits cost nothing.
//
// Every object of a kind we read is checked as the API server would check it
// on create (validate/api-objects.ts): one it would refuse is skipped, with a
// problem per field naming the file, the line of that field and what the API
// server would say, and the rest still serve. So what works with --manifests
// works with kubectl apply, and the other way round.
//
// Namespaces, as a cluster has them: a Namespace manifest gets the label
// kubernetes.io/metadata.name with its name, as the API server sets it (and
// overwrites any other value) on every Namespace; a namespace that objects
// are in but that no manifest defines (kubectl would refuse them; here it is
// the usual way to write a directory) is given a Namespace of its own with
// that one label. So a Gateway listener's allowedRoutes From Selector selects
// here what it would select in a cluster created from the same files.
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { isNode, LineCounter, parseAllDocuments } from 'yaml';
import { isClusterScoped, isKind, KIND_INFO, KINDS } from '../kube/kinds.js';
import type { KubeObject, Namespace } from '../kube/types.js';
import { NAMESPACE_NAME_LABEL, namespaceOf } from '../kube/types.js';
import type { Logger } from '../observe/logger.js';
import { formatFieldError, validateObject, withSchemaDefaults, type PathStep } from '../validate/api-objects.js';
import type { Source, SourceHealth, SourceProblem, SourceSink } from './source.js';

const MANIFEST = /\.(ya?ml|json)$/i;

export interface ManifestRead {
  objects: KubeObject[];
  problems: SourceProblem[];
  files: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Where a field of a document is: its line, or its nearest enclosing node's. */
type LineOf = (at: readonly PathStep[]) => number;

function describe(kind: string, metadata: Record<string, unknown>): string {
  const name = typeof metadata.name === 'string' && metadata.name !== '' ? metadata.name : '(no name)';
  return typeof metadata.namespace === 'string' ? `${kind} ${metadata.namespace}/${name}` : `${kind} ${name}`;
}

/**
 * Checks one parsed document as the API server would on create
 * (validate/api-objects.ts); returns the object, nothing for kinds we do not
 * use, or the problems that make it one the API server would refuse.
 */
function toObject(doc: unknown, where: string, namespaces: readonly string[], lineOf: LineOf, file: string): KubeObject | SourceProblem[] | undefined {
  if (doc === null || doc === undefined) return undefined; // an empty document
  if (!isRecord(doc)) return [{ where, message: 'a manifest must be a mapping with apiVersion, kind and metadata' }];
  const kind = doc.kind;
  if (typeof kind !== 'string') return [{ where, message: 'kind is missing' }];
  if (!isKind(kind)) return undefined; // Deployments, Pods, ...: not ours
  const k = kind;
  const apiVersion = KIND_INFO[k].apiVersion;
  if (doc.apiVersion !== apiVersion && !KIND_INFO[k].alsoAccepted.includes(doc.apiVersion as string)) {
    return [{ where: `${file}:${lineOf(['apiVersion'])}`, message: `${kind}: apiVersion ${JSON.stringify(doc.apiVersion)} is not supported; use ${apiVersion}` }];
  }
  const metadata: Record<string, unknown> = isRecord(doc.metadata) ? { ...doc.metadata } : {};
  // The API server's default, before it validates: the label is the name, whatever was written.
  // (Labels that are not a mapping are left for the decoding check to refuse.)
  if (k === 'Namespace' && typeof metadata.name === 'string' && metadata.name !== '' && (metadata.labels === undefined || metadata.labels === null || isRecord(metadata.labels))) {
    metadata.labels = { ...(isRecord(metadata.labels) ? metadata.labels : {}), [NAMESPACE_NAME_LABEL]: metadata.name };
  }
  // As kubectl does: a namespaced object without a namespace goes to the context's, here "default".
  if (!isClusterScoped(k) && (metadata.namespace === undefined || metadata.namespace === null)) metadata.namespace = 'default';
  // As the API server does for cluster-scoped kinds: a namespace given is dropped.
  if (isClusterScoped(k)) delete metadata.namespace;
  const object = { ...doc, metadata };
  const errors = validateObject(object);
  if (errors.length > 0) {
    const what = describe(kind, metadata);
    const verdict = errors.some((e) => e.decode) ? 'the API server cannot decode this object' : 'the API server refuses this object';
    return errors.map((e) => ({ where: `${file}:${lineOf(e.at)}`, message: `${what}: ${formatFieldError(e)}; ${verdict}, so it is skipped` }));
  }
  // ConfigMaps are not routes: the one that holds the records lives in the controller's namespace.
  if (!isClusterScoped(k) && namespaces.length > 0 && k !== 'ConfigMap' && !namespaces.includes(metadata.namespace as string)) return undefined;
  if (k === 'Secret' && doc.type !== 'kubernetes.io/tls') return undefined;
  // As the API server stores a custom resource: with its CRD's defaults, in the apiVersion we read.
  if (KIND_INFO[k].crd) return withSchemaDefaults({ ...object, apiVersion }) as unknown as KubeObject;
  return object as unknown as KubeObject;
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const entries = await readdir(dir, { withFileTypes: true });
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (e.name.startsWith('.')) continue;
    const path = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(path)));
    else if (e.isFile() && MANIFEST.test(e.name)) out.push(path);
  }
  return out;
}

/**
 * A file's documents, each with the line it starts on. Documents are cut at
 * the YAML markers `---` and `...` at the start of a line (the spec forbids
 * them inside a document's content, block scalars included), so each can be
 * parsed alone: a document that is JSON (kubectl -o json, generated
 * manifests) goes through JSON.parse, which is tens of times faster than a
 * YAML parser and keeps no syntax tree; the rest through the yaml library.
 * A file with directives (`%YAML`) is parsed whole, as one stream.
 */
interface Segment {
  readonly text: string;
  /** 1-based line of the segment's first line in the file. */
  readonly line: number;
}

const MARKER = /^(?:---|\.\.\.)(?:[ \t]|$)/;

function segments(text: string): Segment[] {
  if (/^%/m.test(text)) return [{ text, line: 1 }];
  const out: Segment[] = [];
  let start = 0;
  let startLine = 1;
  let line = 1;
  let i = 0;
  while (i <= text.length) {
    const end = text.indexOf('\n', i);
    const lineEnd = end < 0 ? text.length : end;
    if (i > start && MARKER.test(text.slice(i, Math.min(lineEnd, i + 4)))) {
      out.push({ text: text.slice(start, i), line: startLine });
      start = i;
      startLine = line;
    }
    if (end < 0) break;
    i = end + 1;
    line++;
  }
  out.push({ text: text.slice(start), line: startLine });
  return out;
}

/** The JSON of a segment that is one JSON document (after an optional `---`), or undefined. */
function jsonOf(seg: Segment): { value: unknown } | undefined {
  let t = seg.text;
  if (t.startsWith('---')) t = t.slice(3);
  else if (t.startsWith('...')) return undefined;
  t = t.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) return undefined;
  try {
    return { value: JSON.parse(t) as unknown };
  } catch {
    return undefined; // the YAML parser says what is wrong, with its line
  }
}

/**
 * Where each element of the "items" array of a JSON document's top-level
 * object begins, as offsets into `text` (the document JSON.parse took, so
 * well-formed); undefined without such an array. One pass, strings skipped.
 */
export function listItemOffsets(text: string): number[] | undefined {
  const out: number[] = [];
  let depth = 0;
  // The last string seen at depth 1: a value's key, when the value is an array.
  let key = '';
  let inItems = false;
  let element = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inItems && depth === 2 && element && c > 32 && c !== 93) {
      out.push(i);
      element = false;
    }
    if (c === 34) {
      const start = i + 1;
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i);
        if (d === 92) i++;
        else if (d === 34) break;
      }
      if (depth === 1 && !inItems) key = text.slice(start, i);
    } else if (c === 123 || c === 91) {
      if (depth === 1 && c === 91 && key === 'items') {
        inItems = true;
        element = true;
      }
      depth++;
    } else if (c === 125 || c === 93) {
      depth--;
      if (inItems && depth === 1) return out;
    } else if (c === 44 && inItems && depth === 2) {
      element = true;
    }
  }
  return undefined;
}

/** The 1-based line in the file of each offset of `seg`'s text (ascending offsets). */
function linesOf(seg: Segment, offsets: readonly number[]): number[] {
  const out: number[] = [];
  let line = seg.line;
  // The next newline (each looked for once: a file of one line has none).
  let newline = seg.text.indexOf('\n');
  for (const offset of offsets) {
    while (newline >= 0 && newline < offset) {
      line++;
      newline = seg.text.indexOf('\n', newline + 1);
    }
    out.push(line);
  }
  return out;
}

/** Reads every manifest under `dir`. Bad documents become problems; the rest still count. */
export async function readManifests(dir: string, namespaces: readonly string[] = []): Promise<ManifestRead> {
  const files = await listFiles(dir);
  const objects: KubeObject[] = [];
  const problems: SourceProblem[] = [];
  const take = (value: unknown, name: string, lineOfPath: (steps: ReadonlyArray<string | number>) => number) => {
    const isList = isRecord(value) && typeof value.kind === 'string' && value.kind.endsWith('List') && Array.isArray(value.items);
    const items: unknown[] = isList ? (value.items as unknown[]) : [value];
    items.forEach((item, i) => {
      const base: Array<string | number> = isList ? ['items', i] : [];
      const lineOf: LineOf = (at) => lineOfPath([...base, ...at.map((s) => (typeof s === 'object' ? s.key : s))]);
      const r = toObject(item, `${name}:${lineOf([])}`, namespaces, lineOf, name);
      if (r === undefined) return;
      if (Array.isArray(r)) problems.push(...r);
      else objects.push(r);
    });
  };
  for (const file of files) {
    const name = relative(dir, file) || file;
    const text = await readFile(file, 'utf8');
    for (const seg of segments(text)) {
      // Lines of fields come from a syntax tree, built only when a problem needs one.
      const yamlOf = () => {
        const lines = new LineCounter();
        const docs = parseAllDocuments(seg.text, { lineCounter: lines, prettyErrors: false });
        return { lines, list: Array.isArray(docs) ? docs : [docs] };
      };
      const json = jsonOf(seg);
      if (json) {
        let tree: ReturnType<typeof yamlOf> | undefined;
        // The document's own line (where its '{' is), without a tree: every object's `where` names it.
        const brace = seg.text.indexOf('{');
        let docLine = seg.line;
        for (let i = seg.text.indexOf('\n'); i >= 0 && i < brace; i = seg.text.indexOf('\n', i + 1)) docLine++;
        let items: number[] | undefined;
        take(json.value, name, (steps) => {
          if (steps.length === 0) return docLine;
          // An item of a List (kubectl get -o json): its line from where its
          // text begins, found by a scan of the JSON (a syntax tree of the
          // whole file was 17 s and 2.3 GB for 10,000 Ingresses).
          if (steps.length === 2 && steps[0] === 'items' && typeof steps[1] === 'number') {
            items ??= linesOf(seg, listItemOffsets(seg.text) ?? []);
            const line = items[steps[1]];
            if (line !== undefined) return line;
          }
          tree ??= yamlOf();
          const doc = tree.list[0];
          for (let n = steps.length; doc && n >= 0; n--) {
            const node = doc.getIn(steps.slice(0, n), true);
            if (isNode(node) && node.range) return seg.line - 1 + tree.lines.linePos(node.range[0]).line;
          }
          return seg.line;
        });
        continue;
      }
      const { lines, list } = yamlOf();
      for (const doc of list) {
        const line = seg.line - 1 + lines.linePos(doc.range?.[0] ?? 0).line;
        if (doc.errors.length > 0) {
          for (const err of doc.errors) {
            const pos = err.linePos?.[0];
            problems.push({ where: `${name}:${pos ? seg.line - 1 + pos.line : line}`, message: `YAML: ${err.message.split('\n')[0]}` });
          }
          continue;
        }
        take(doc.toJS(), name, (steps) => {
          for (let n = steps.length; n >= 0; n--) {
            const node = doc.getIn(steps.slice(0, n), true);
            if (isNode(node) && node.range) return seg.line - 1 + lines.linePos(node.range[0]).line;
          }
          return line;
        });
      }
    }
  }
  return { objects, problems, files: files.length };
}

/**
 * The objects read, plus a Namespace (labelled kubernetes.io/metadata.name
 * only) for each namespace that objects are in and no Namespace manifest
 * defines: what a cluster holding these objects would have.
 */
export function withImplicitNamespaces(objects: readonly KubeObject[]): KubeObject[] {
  const defined = new Set(objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name));
  const implicit = new Set<string>();
  for (const o of objects) {
    if (isClusterScoped(o.kind)) continue;
    const ns = namespaceOf(o);
    if (!defined.has(ns)) implicit.add(ns);
  }
  const added = [...implicit].sort().map((name): Namespace => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { [NAMESPACE_NAME_LABEL]: name } } }));
  return [...objects, ...added];
}

export interface ManifestSourceOptions {
  dir: string;
  namespaces?: readonly string[];
  logger: Logger;
  /** Re-read this long after the last change seen (coalesces editors' bursts). */
  debounceMs?: number;
  /** Watch the directory for changes (default true). */
  watch?: boolean;
}

export class ManifestSource implements Source {
  readonly #o: ManifestSourceOptions;
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #reading: Promise<void> | undefined;
  #again = false;
  #synced = false;
  #stopped = false;
  #lastRead = Date.now();
  #lastError: string | undefined;
  #problems: SourceProblem[] = [];

  constructor(options: ManifestSourceOptions) {
    this.#o = options;
  }

  get problems(): readonly SourceProblem[] {
    return this.#problems;
  }

  async start(sink: SourceSink): Promise<void> {
    await this.#read(sink);
    if (this.#lastError) throw new Error(`cannot read manifests in ${this.#o.dir}: ${this.#lastError}`);
    if (this.#o.watch === false) return;
    this.#watcher = watch(this.#o.dir, { recursive: true }, () => this.#changed(sink));
    this.#watcher.on('error', (err) => {
      this.#lastError = err.message;
      this.#o.logger.error('manifest directory watch failed', { dir: this.#o.dir, error: err });
    });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#watcher?.close();
    if (this.#timer) clearTimeout(this.#timer);
    await this.#reading;
  }

  health(): SourceHealth {
    return {
      synced: this.#synced,
      healthy: this.#lastError === undefined,
      watches: KINDS.map((kind) => ({
        kind,
        state: this.#stopped ? 'stopped' : 'watching',
        restarts: 0,
        sinceLastEventMs: Date.now() - this.#lastRead,
        ...(this.#lastError ? { lastError: this.#lastError } : {}),
      })),
    };
  }

  #changed(sink: SourceSink): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#reading) {
        this.#again = true;
        return;
      }
      void this.#read(sink);
    }, this.#o.debounceMs ?? 50);
  }

  // Owns its promise: errors are recorded and logged, never thrown away.
  #read(sink: SourceSink): Promise<void> {
    const run = (async () => {
      try {
        const { objects, problems, files } = await readManifests(this.#o.dir, this.#o.namespaces ?? []);
        this.#lastError = undefined;
        this.#lastRead = Date.now();
        const known = new Set(this.#problems.map((p) => `${p.where}: ${p.message}`));
        for (const p of problems) {
          if (!known.has(`${p.where}: ${p.message}`)) this.#o.logger.error(`manifest problem: ${p.where}: ${p.message}`, { file: p.where });
        }
        this.#problems = problems;
        this.#o.logger.debug('read manifests', { dir: this.#o.dir, files, objects: objects.length, problems: problems.length });
        if (this.#stopped) return;
        const all = withImplicitNamespaces(objects);
        sink(KINDS.map((kind) => ({ type: 'replace' as const, kind, objects: all.filter((o) => o.kind === kind) })));
        this.#synced = true;
      } catch (err) {
        this.#lastError = (err as Error).message;
        this.#o.logger.error('cannot read the manifests directory; keeping what was read before', { dir: this.#o.dir, error: err });
      }
    })().finally(() => {
      this.#reading = undefined;
      if (this.#again && !this.#stopped) {
        this.#again = false;
        void this.#read(sink);
      }
    });
    this.#reading = run;
    return run;
  }
}
