/**
 * Kiln Studio's sign-in sessions: a user proves an access key pair once, and the browser then
 * holds an opaque random token in an HttpOnly, SameSite=Strict cookie. Secrets never travel
 * again, and never appear in URLs or logs. Sessions live in memory: a restart signs users out.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

export const SESSION_COOKIE = 'kiln_session';
const LIFETIME_MS = 12 * 60 * 60 * 1000;

export interface Session {
  accessKeyId: string;
  expiresAt: number;
}

export class SessionStore {
  private readonly sessions = new Map<string, Session>();

  create(accessKeyId: string): { token: string; session: Session } {
    const token = randomBytes(32).toString('base64url');
    const session = { accessKeyId, expiresAt: Date.now() + LIFETIME_MS };
    this.sessions.set(token, session);
    return { token, session };
  }

  get(token: string | undefined): Session | undefined {
    if (!token) return undefined;
    const session = this.sessions.get(token);
    if (!session) return undefined;
    if (session.expiresAt < Date.now()) {
      this.sessions.delete(token);
      return undefined;
    }
    return session;
  }

  delete(token: string | undefined): void {
    if (token) this.sessions.delete(token);
  }
}

export function cookieValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  for (const part of (headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function sessionCookie(token: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${maxAgeSeconds}`;
}

/** Compares secrets in constant time. */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
