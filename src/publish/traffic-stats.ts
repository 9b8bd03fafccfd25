// Requests per Ingress: the plugin counts each request in the slot its
// backend carries in the route table (by status class and cache result, per
// thread, in a shared-memory region of its own), and this turns the slots
// back into (namespace, Ingress, Service) for /metrics.
//
// A slot belongs to one (Ingress, Service) for as long as both stay in the
// table, so its counts never move to another series. A slot freed by an
// Ingress that went away is taken again only after FREE_QUARANTINE_MS, when
// no transaction that began under the old table can still be counted in it,
// and its new owner starts from what the slot held then (a baseline), as it
// does for every slot the first time this controller sees it (the plugin may
// have counted for an earlier controller). When ATS starts again its region
// starts from zero: what the old one had counted is carried over, so the
// counters only grow, as Prometheus expects of a counter.
import type { StatsOwnersModel, TableModel } from '../model/table-model.js';

/** What the plugin's region holds (RouteTable.readStats()). */
export interface StatsSnapshot {
  /** Changes when ATS starts again (a new region, counting from zero). */
  readonly instance: bigint;
  /** Slots the region holds counts for. */
  readonly slots: number;
  /** Requests the plugin could not count (a slot beyond its region). */
  readonly dropped: bigint;
  /** slots × counterNames.length, slot-major. */
  readonly counters: BigUint64Array;
}

export interface TrafficRow {
  readonly namespace: string;
  /** The Ingress's name; '' for the controller's --default-backend. */
  readonly ingress: string;
  /** The Service's name. */
  readonly service: string;
  /** By counter name (StatsReader's order). */
  readonly counts: readonly number[];
}

/** No slot: the table's "none". */
const NONE = 0xffffffff;
/** Longer than any request a table switch could leave counting in an old slot. */
const FREE_QUARANTINE_MS = 120_000;

interface Owner {
  readonly slot: number;
  /** Its Ingress and Service, `namespace/name` ('' for --default-backend's Ingress). */
  readonly ingressKey: string;
  readonly serviceKey: string;
  /** Their parts for rows(), made on first use: 10,000 owners made 30,000 strings on a controller's first build. */
  names: { readonly namespace: string; readonly ingress: string; readonly service: string } | undefined;
  /** What the slot held when this owner got it, in this ATS instance. */
  baseline: bigint[];
  /** What earlier ATS instances counted for this owner. */
  carried: bigint[];
  /** The last reading, for carrying it over when ATS starts again. */
  last: bigint[];
  /** The assign() that last found it in the table. */
  seen: number;
}

/** The namespace of `namespace/name` ('' without one). */
function namespacePart(text: string): string {
  const i = text.indexOf('/');
  return i < 0 ? '' : text.slice(0, i);
}

/** The name of `namespace/name`. */
function namePart(text: string): string {
  return text.slice(text.indexOf('/') + 1);
}

/**
 * The Ingress each backend is counted for (its Service is the backend's):
 * the source of the first rule (or default) that uses it, '' for the
 * controller's --default-backend. The strings are the model's own: a key
 * made of the two per backend was a new string to hash on every lookup,
 * the most of assign() at 10,000 backends.
 */
function ownerIngresses(model: StatsOwnersModel): Array<string | undefined> {
  const ingressOf = new Array<string | undefined>(model.backends.length);
  const own = (backend: number | undefined, ingress: string) => {
    if (backend === undefined || ingressOf[backend] !== undefined || backend >= model.backends.length) return;
    ingressOf[backend] = ingress;
  };
  for (const host of model.hosts) {
    for (const rule of host.rules) own(rule.backend, rule.source);
    if (host.defaultSource !== undefined) own(host.defaultBackend, host.defaultSource);
  }
  own(model.defaultBackend, '');
  return ingressOf;
}

/** The owner for `service` among one Ingress's. */
function ownerOf(owners: Owner | Map<string, Owner> | undefined, service: string): Owner | undefined {
  if (owners === undefined) return undefined;
  if (owners instanceof Map) return owners.get(service);
  return owners.serviceKey === service ? owners : undefined;
}

export class TrafficStats {
  /**
   * By Ingress (`namespace/name`, '' for --default-backend): its one owner,
   * or its owners by Service (`namespace/name`) once it has two (a map per
   * Ingress was 10,000 maps at 10,000 Ingresses that nearly all name one).
   */
  readonly #owners = new Map<string, Owner | Map<string, Owner>>();
  readonly #quarantined: Array<{ slot: number; freedAt: number }> = [];
  readonly #free: number[] = [];
  #next = 0;
  /** How many times assign() assigned slots afresh. */
  #assigns = 0;
  #instance: bigint | undefined;
  #full = false;
  /**
   * The counts of an owner that has counted nothing, shared by every such
   * owner until it counts (copied on first write): 10,000 owners made three
   * arrays of BigInts each on a controller's first build.
   */
  readonly #zero: bigint[];
  /** What the last assign() was given and gave, when every backend got a slot. */
  #last: { hosts: TableModel['hosts']; defaultBackend: number | undefined; services: string[]; slots: Uint32Array } | undefined;

  /**
   * @param read the plugin's region now, or undefined before ATS made one
   * @param counters how many counters one slot has
   * @param maxSlots how many slots the table can name
   */
  constructor(
    private readonly read: () => StatsSnapshot | undefined,
    private readonly counters: number,
    private readonly maxSlots: number,
    private readonly now: () => number = Date.now,
  ) {
    // Frozen: a write to it throws instead of counting for every owner.
    this.#zero = Object.freeze(new Array<bigint>(counters).fill(0n)) as bigint[];
  }

  /** True once some (Ingress, Service) got no slot (more of them than slots). */
  get full(): boolean {
    return this.#full;
  }

  /**
   * The slot of each backend of `model` (NONE where it has none), keeping
   * every (Ingress, Service) that is still there in the slot it had.
   */
  assign(model: TableModel): Uint32Array {
    // The builder hands over the very hosts of its last model when only
    // backends' endpoints changed (model/memo.ts): with the same hosts and the
    // same Service per backend, every backend has the owner it had, and the
    // answer is the last one (ownerIngresses would only find the same owners again).
    const last = this.#last;
    if (last && last.hosts === model.hosts && last.defaultBackend === model.defaultBackend &&
      last.services.length === model.backends.length && model.backends.every((b, i) => b.service === last.services[i])) {
      return last.slots.slice();
    }
    const { slots, complete } = this.#assign(model);
    this.#last = complete ? { hosts: model.hosts, defaultBackend: model.defaultBackend, services: model.backends.map((b) => b.service), slots: slots.slice() } : undefined;
    return slots;
  }

  /** `complete`: every backend that has an owner got a slot. */
  #assign(model: TableModel): { slots: Uint32Array; complete: boolean } {
    const ingressOf = ownerIngresses(model);
    let complete = true;
    const stamp = ++this.#assigns;
    const now = this.now();
    const fresh: Owner[] = [];
    const slots = new Uint32Array(model.backends.length).fill(NONE);
    // Backends of one Ingress come one after another: its map is looked up once for them.
    let lastIngress: string | undefined;
    let owners: Owner | Map<string, Owner> | undefined;
    for (let i = 0; i < ingressOf.length; i++) {
      const ingress = ingressOf[i];
      if (ingress === undefined) continue;
      if (ingress !== lastIngress) {
        lastIngress = ingress;
        owners = this.#owners.get(ingress);
      }
      const service = model.backends[i]!.service;
      let owner = ownerOf(owners, service);
      if (!owner) {
        const slot = this.#takeSlot(now);
        if (slot === undefined) {
          this.#full = true;
          complete = false;
          continue;
        }
        owner = this.#owner(ingress, service, slot);
        owners = this.#owners.get(ingress);
        fresh.push(owner);
      }
      owner.seen = stamp;
      slots[i] = owner.slot;
    }
    for (const [ingress, owners] of this.#owners) {
      if (!(owners instanceof Map)) {
        if (owners.seen === stamp) continue;
        this.#owners.delete(ingress);
        this.#quarantined.push({ slot: owners.slot, freedAt: now });
        continue;
      }
      for (const [service, owner] of owners) {
        if (owner.seen === stamp) continue;
        owners.delete(service);
        this.#quarantined.push({ slot: owner.slot, freedAt: now });
      }
      if (owners.size === 0) this.#owners.delete(ingress);
    }
    if (fresh.length > 0) this.#takeBaselines(fresh);
    return { slots, complete };
  }

  *#allOwners(): Generator<Owner> {
    for (const owners of this.#owners.values()) {
      if (owners instanceof Map) yield* owners.values();
      else yield owners;
    }
  }

  /** The counts of every (Ingress, Service) with a slot, read from the plugin now. */
  rows(): { rows: TrafficRow[]; dropped: number } {
    const snap = this.read();
    if (snap && snap.instance !== this.#instance) {
      // ATS started again: what the old region counted stays in the counters.
      for (const o of this.#allOwners()) {
        const carried = o.carried === this.#zero ? [...this.#zero] : o.carried;
        for (let c = 0; c < this.counters; c++) carried[c]! += o.last[c]! - o.baseline[c]!;
        o.carried = carried;
        o.baseline = this.#zero;
        o.last = this.#zero;
      }
      this.#instance = snap.instance;
    }
    const rows: TrafficRow[] = [];
    for (const o of this.#allOwners()) {
      const counts = new Array<number>(this.counters);
      for (let c = 0; c < this.counters; c++) {
        const now = snap && o.slot < snap.slots ? snap.counters[o.slot * this.counters + c]! : o.last[c]!;
        // A reading below the baseline cannot happen in one instance; never go backwards if it does.
        if (now > o.last[c]!) {
          if (o.last === this.#zero) o.last = [...this.#zero];
          o.last[c] = now;
        }
        counts[c] = Number(o.carried[c]! + o.last[c]! - o.baseline[c]!);
      }
      o.names ??= {
        namespace: namespacePart(o.ingressKey !== '' ? o.ingressKey : o.serviceKey),
        ingress: namePart(o.ingressKey),
        service: namePart(o.serviceKey),
      };
      rows.push({ namespace: o.names.namespace, ingress: o.names.ingress, service: o.names.service, counts });
    }
    return { rows, dropped: snap ? Number(snap.dropped) : 0 };
  }

  /**
   * Takes over the slots of the table a previous controller left (killed or
   * restarted while ATS kept counting with that table): each (Ingress,
   * Service) still in it keeps its slot, so no request is counted for
   * another pair in the meantime, and the slots it did not use wait out the
   * quarantine (the old controller may have freed them a moment ago).
   * Call once, before the first assign().
   */
  adopt(previous: StatsOwnersModel): void {
    if (this.#owners.size > 0 || this.#next > 0) throw new Error('TrafficStats.adopt: only before the first assign');
    const ingressOf = ownerIngresses(previous);
    const fresh: Owner[] = [];
    const used = new Set<number>();
    let top = -1;
    for (let i = 0; i < ingressOf.length; i++) {
      const ingress = ingressOf[i];
      const service = previous.backends[i]!.service;
      const slot = previous.backends[i]!.options?.statsSlot;
      // One owner per slot and one slot per owner, whatever the old table says.
      if (ingress === undefined || slot === undefined || slot >= this.maxSlots || ownerOf(this.#owners.get(ingress), service) || used.has(slot)) continue;
      used.add(slot);
      fresh.push(this.#owner(ingress, service, slot));
      if (slot > top) top = slot;
    }
    const now = this.now();
    for (let slot = 0; slot <= top; slot++) if (!used.has(slot)) this.#quarantined.push({ slot, freedAt: now });
    this.#next = top + 1;
    if (fresh.length > 0) this.#takeBaselines(fresh);
  }

  /** The owner of (`ingress`, `service`), both `namespace/name` ('' for --default-backend's Ingress). */
  #owner(ingress: string, service: string, slot: number): Owner {
    const zero = this.#zero;
    const owner: Owner = { slot, ingressKey: ingress, serviceKey: service, names: undefined, baseline: zero, carried: zero, last: zero, seen: this.#assigns };
    const owners = this.#owners.get(ingress);
    if (owners === undefined) this.#owners.set(ingress, owner);
    else if (owners instanceof Map) owners.set(service, owner);
    else this.#owners.set(ingress, new Map([[owners.serviceKey, owners], [service, owner]]));
    return owner;
  }

  #takeSlot(now: number): number | undefined {
    while (this.#quarantined.length > 0 && now - this.#quarantined[0]!.freedAt >= FREE_QUARANTINE_MS) {
      this.#free.push(this.#quarantined.shift()!.slot);
    }
    if (this.#free.length > 0) return this.#free.pop();
    if (this.#next < this.maxSlots) return this.#next++;
    return undefined;
  }

  #takeBaselines(fresh: readonly Owner[]): void {
    const snap = this.read();
    if (!snap) return;
    if (this.#instance === undefined) this.#instance = snap.instance;
    if (snap.instance !== this.#instance) return; // rows() carries over first, then these start from 0 of the new one
    for (const o of fresh) {
      if (o.slot >= snap.slots) continue;
      const baseline = new Array<bigint>(this.counters);
      for (let c = 0; c < this.counters; c++) baseline[c] = snap.counters[o.slot * this.counters + c]!;
      o.baseline = baseline;
      o.last = [...baseline];
    }
  }
}
