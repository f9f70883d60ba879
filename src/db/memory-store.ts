import { type KeyValueStore, type KeyValueWrite, windowKeySeconds } from './key-value.ts';

type RateWindow = { openedAt: number; count: number };
type Entry = { value: string | Set<string> | string[] | RateWindow; expiresAt: number };

const SWEEP_INTERVAL_MS = 60_000;

/** The embedded stand-in for Redis: same contract, one process. */
export class MemoryStore implements KeyValueStore {
  readonly anySlots = true;
  private readonly entries = new Map<string, Entry>();
  private readonly sweeper = setInterval(() => this.sweep(), SWEEP_INTERVAL_MS).unref();

  async get(key: string) {
    const value = this.live(key)?.value;
    return typeof value === 'string' ? value : null;
  }

  async getThrough(indexKey: string, prefix: string) {
    const id = await this.get(indexKey);
    return id === null ? null : this.get(prefix + id);
  }

  async getMany(keys: string[]) {
    return Promise.all(keys.map((key) => this.get(key)));
  }

  async write(writes: KeyValueWrite[]) {
    for (const w of writes) {
      if (w.op === 'del') {
        this.entries.delete(w.key);
        continue;
      }
      if (w.op === 'setUnlessGuarded') {
        await this.setUnlessGuarded(w.key, w.value, w.ttlSeconds, w.guard, true);
        continue;
      }
      if (w.op === 'set') {
        this.entries.set(w.key, { value: w.value, expiresAt: expiry(w.ttlSeconds) });
        continue;
      }
      const entry = this.live(w.key);
      if (entry?.value instanceof Set) {
        entry.value.add(w.member);
        entry.expiresAt = Math.max(entry.expiresAt, expiry(w.ttlSeconds));
      } else {
        this.entries.set(w.key, { value: new Set([w.member]), expiresAt: expiry(w.ttlSeconds) });
      }
    }
  }

  async setIfAbsent(key: string, value: string, ttlSeconds: number) {
    if (this.live(key)) return false;
    this.entries.set(key, { value, expiresAt: expiry(ttlSeconds) });
    return true;
  }

  async setUnlessGuarded(key: string, value: string, ttlSeconds: number, guard: string, onlyIfAbsent: boolean) {
    if (this.live(guard) || (onlyIfAbsent && this.live(key))) return false;
    this.entries.set(key, { value, expiresAt: expiry(ttlSeconds) });
    return true;
  }

  async take(key: string) {
    const value = await this.get(key);
    this.entries.delete(key);
    return value;
  }

  async del(...keys: string[]) {
    let removed = 0;
    for (const key of keys) {
      if (this.live(key)) removed += 1;
      this.entries.delete(key);
    }
    return removed;
  }

  async increment(key: string, ttlSeconds: number) {
    const entry = this.live(key);
    const next = (entry && typeof entry.value === 'string' ? Number(entry.value) : 0) + 1;
    this.entries.set(key, { value: String(next), expiresAt: entry?.expiresAt ?? expiry(ttlSeconds) });
    return next;
  }

  async countInWindow(key: string, windowSeconds: number, now: number) {
    const open = this.openWindow(key, windowSeconds, now);
    if (open) {
      open.count += 1;
      return { ...open };
    }
    const opened: RateWindow = { openedAt: now, count: 1 };
    this.entries.set(key, { value: opened, expiresAt: expiry(windowKeySeconds(windowSeconds)) });
    return { ...opened };
  }

  async windowCount(key: string, windowSeconds: number, now: number) {
    return this.openWindow(key, windowSeconds, now)?.count ?? 0;
  }

  async uncount(key: string) {
    const value = this.live(key)?.value;
    if (isRateWindow(value) && value.count > 0) value.count -= 1;
  }

  async ttl(key: string) {
    const entry = this.live(key);
    return entry ? Math.ceil((entry.expiresAt - Date.now()) / 1000) : 0;
  }

  async members(key: string) {
    const value = this.live(key)?.value;
    return value instanceof Set ? [...value] : [];
  }

  async pushCapped(key: string, value: string, cap: number, ttlSeconds: number) {
    const current = this.live(key)?.value;
    const list = Array.isArray(current) ? current : [];
    this.entries.set(key, { value: [value, ...list].slice(0, cap), expiresAt: expiry(ttlSeconds) });
  }

  async list(key: string) {
    const value = this.live(key)?.value;
    return Array.isArray(value) ? [...value] : [];
  }

  /** Reads here cost no round trip: there is nothing to remember them for. */
  async watch() {
    return undefined;
  }

  async ping() {}

  async close() {
    clearInterval(this.sweeper);
    this.entries.clear();
  }

  private live(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private openWindow(key: string, windowSeconds: number, now: number): RateWindow | undefined {
    const value = this.live(key)?.value;
    return isRateWindow(value) && now < value.openedAt + windowSeconds * 1000 ? value : undefined;
  }

  private sweep() {
    const now = Date.now();
    for (const [key, entry] of this.entries) if (entry.expiresAt <= now) this.entries.delete(key);
  }
}

function expiry(ttlSeconds: number) {
  return Date.now() + ttlSeconds * 1000;
}

function isRateWindow(value: Entry['value'] | undefined): value is RateWindow {
  return typeof value === 'object' && !(value instanceof Set) && !Array.isArray(value);
}
