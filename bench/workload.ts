/**
 * The benchmark's workload, identical for every store: deterministic session data (a user profile,
 * roles, preferences, a cart, flash messages), and a seeded sequence of reads and writes.
 */
import { createHmac } from 'node:crypto';

/** A seeded pseudo-random generator (mulberry32): the same seed gives the same numbers. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rnd: () => number, list: readonly T[]): T {
  return list[Math.floor(rnd() * list.length)] as T;
}

function word(rnd: () => number, length: number): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(rnd() * alphabet.length)];
  return out;
}

const firstNames = ['Ada', 'Grace', 'Alan', 'Edsger', 'Barbara', 'Donald', 'Margaret', 'Ken', 'Radia'];
const lastNames = ['Lovelace', 'Hopper', 'Turing', 'Dijkstra', 'Liskov', 'Knuth', 'Hamilton', 'Thompson'];
const cities = ['Lisbon', 'Utrecht', 'Leeds', 'Lyon', 'Graz', 'Aarhus', 'Porto', 'Ghent'];
const products = ['Desk lamp', 'Notebook A5', 'Fountain pen', 'Monitor arm', 'USB-C hub', 'Headphones'];
const epochMs = Date.UTC(2025, 0, 1);

/** A cart line. */
export interface CartItem {
  sku: string;
  name: string;
  qty: number;
  priceCents: number;
  options: { size: string; color: string };
}

/** The application's session data, as a login stores it. */
export interface AppSession {
  user: Record<string, unknown>;
  roles: string[];
  permissions: string[];
  preferences: Record<string, unknown> & { recentlyViewed: string[] };
  cart: { currency: string; items: CartItem[]; coupon: string | null; rev: number; updatedAt: string };
  flash: { type: string; message: string }[];
  csrfSecret: string;
  visits: number;
}

/** The session data of user `index`, padded so that its JSON is about `bytes` long. */
export function sessionData(index: number, bytes: number): AppSession {
  const rnd = prng(0x5e55 + index);
  const first = pick(rnd, firstNames);
  const last = pick(rnd, lastNames);
  const items: CartItem[] = [];
  for (let i = 0, n = 2 + Math.floor(rnd() * 3); i < n; i++) {
    items.push({
      sku: `SKU-${word(rnd, 8).toUpperCase()}`,
      name: pick(rnd, products),
      qty: 1 + Math.floor(rnd() * 3),
      priceCents: 199 + Math.floor(rnd() * 20_000),
      options: { size: pick(rnd, ['S', 'M', 'L']), color: pick(rnd, ['black', 'white', 'oak']) },
    });
  }
  const data: AppSession = {
    user: {
      id: `u_${index}`,
      email: `${first}.${last}.${index}@example.com`.toLowerCase(),
      name: `${first} ${last}`,
      locale: 'en-GB',
      timezone: 'Europe/Lisbon',
      createdAt: new Date(epochMs - index * 86_400_000).toISOString(),
      verified: rnd() < 0.8,
      plan: pick(rnd, ['free', 'pro', 'team']),
      address: {
        street: `${1 + index} Market Street`,
        city: pick(rnd, cities),
        zip: word(rnd, 5),
        country: 'PT',
      },
    },
    roles: rnd() < 0.1 ? ['customer', 'admin'] : ['customer'],
    permissions: ['orders:read', 'orders:write', 'profile:read', 'profile:write'],
    preferences: {
      theme: pick(rnd, ['light', 'dark', 'system']),
      currency: 'EUR',
      language: 'en',
      newsletter: rnd() < 0.5,
      notifications: { email: true, sms: false, push: rnd() < 0.5 },
      recentlyViewed: [],
    },
    cart: { currency: 'EUR', items, coupon: null, rev: 0, updatedAt: new Date(epochMs).toISOString() },
    flash: [{ type: 'info', message: `Welcome back, ${first}!` }],
    csrfSecret: word(rnd, 24),
    visits: 1,
  };
  // each recently viewed id adds 18 characters of JSON: `"SKU-xxxxxxxxxxx",`
  const missing = bytes - JSON.stringify(data).length;
  for (let i = 0; i < missing / 18 - 1; i++) data.preferences.recentlyViewed.push(`SKU-${word(rnd, 11)}`);
  return data;
}

/** A write: what `POST /cart` changes. `n` is unique per request, so every write changes the session. */
export function applyWrite(session: AppSession, item: number, qty: number, n: number): void {
  const line = session.cart.items[item % session.cart.items.length];
  if (line) line.qty = qty;
  session.cart.rev = n;
  session.cart.updatedAt = new Date(epochMs + n * 1000).toISOString();
  session.flash = [{ type: 'success', message: `Cart updated (${line?.name ?? 'item'} x${qty})` }];
  session.visits += 1;
}

/** What `GET /account` answers (reads the session, changes nothing). */
export function accountView(session: AppSession): Record<string, unknown> {
  const { user, cart, flash, roles } = session;
  return { name: user.name, plan: user.plan, roles, cartItems: cart.items.length, flash: flash.length };
}

/** One request of the sequence: a read of session `s`, or a write. */
export interface Step {
  s: number;
  write: boolean;
  path: string;
}

/**
 * `count` requests over `sessions` sessions, uniformly, with a `writeShare` of writes; the same
 * `seed` and `offset` give the same sequence. `offset` numbers the writes, so chunks never repeat.
 */
export function sequence(
  seed: number,
  offset: number,
  count: number,
  sessions: number,
  writeShare: number,
): Step[] {
  const rnd = prng(seed * 7919 + offset);
  const steps: Step[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const s = Math.floor(rnd() * sessions);
    const write = rnd() < writeShare;
    const path = write
      ? `/cart?k=${Math.floor(rnd() * 5)}&q=${1 + Math.floor(rnd() * 9)}&n=${offset + i}`
      : '/account';
    steps[i] = { s, write, path };
  }
  return steps;
}

/** The secret every benchmark server signs its cookies with. */
export const cookieSecret = 'bench-secret-that-is-at-least-32-characters-long';

/** express-session's cookie value for a session id (`s:` + id + HMAC-SHA256), URI-encoded. */
export function expressCookie(sid: string): string {
  const mac = createHmac('sha256', cookieSecret).update(sid).digest('base64').replace(/=+$/, '');
  return `connect.sid=${encodeURIComponent(`s:${sid}.${mac}`)}`;
}

/** A deterministic 32-character session id for seeded session `index` (express-session's length). */
export function seededId(index: number): string {
  return `seed${String(index).padStart(8, '0')}${'x'.repeat(20)}`;
}
