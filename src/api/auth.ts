/**
 * Token authentication: `Authorization: Bearer <token>`, or HTTP basic auth
 * with the token as password (what most log shippers can send).
 */
import { timingSafeEqual } from 'node:crypto';

export function checkAuthorization(header: string | undefined, token: string): boolean {
  if (!header) return false;
  const space = header.indexOf(' ');
  if (space < 0) return false;
  const scheme = header.slice(0, space).toLowerCase();
  const value = header.slice(space + 1).trim();
  if (scheme === 'bearer') return safeEqual(value, token);
  if (scheme === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    return colon >= 0 && safeEqual(decoded.slice(colon + 1), token);
  }
  if (scheme === 'apikey') return safeEqual(value, token);
  return false;
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
