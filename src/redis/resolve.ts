// Which server an endpoint names: its host resolved to an IP address, with the port. Two endpoint
// names (or a name and a URL, or "localhost" and "127.0.0.1") for one server resolve alike, which
// is what server locks are keyed on.
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { UserError } from '../util/errors.js';
import type { Endpoint } from './endpoint.js';

export interface ResolvedServer {
  address: string;
  port: number;
}

/** Resolves the endpoint's host (the system resolver, as connections do). */
export async function resolveServer(
  endpoint: Pick<Endpoint, 'host' | 'port' | 'name'>,
): Promise<ResolvedServer> {
  const host = endpoint.host.replace(/^\[(.*)\]$/, '$1');
  if (isIP(host)) return { address: normalizeAddress(host), port: endpoint.port };
  try {
    // The lowest address when a name has several, so every process picks the same one.
    const all = await lookup(host, { all: true });
    const addresses = all.map((a) => normalizeAddress(a.address)).sort();
    return { address: addresses[0]!, port: endpoint.port };
  } catch (err) {
    throw new UserError(
      `could not resolve the host of ${endpoint.name} (${(err as NodeJS.ErrnoException).code ?? 'lookup failed'}); ` +
        'check the endpoint in the config and the DNS of this machine',
    );
  }
}

/** "::ffff:10.0.0.1" -> "10.0.0.1"; IPv6 in lower case. */
function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped ? mapped[1]! : address.toLowerCase();
}
