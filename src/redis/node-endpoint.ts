// One node of a cluster endpoint as an endpoint of its own: the same credentials, TLS settings and
// deadlines, another host and port. The cluster is reached through any node; its other nodes
// are those the cluster announces.
import { type Endpoint, redactUrl } from './endpoint.js';

export function nodeEndpoint(endpoint: Endpoint, host: string, port: number): Endpoint {
  const url = new URL(endpoint.url);
  url.hostname = host.includes(':') ? `[${host}]` : host;
  url.port = String(port);
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const text = url.toString();
  return {
    ...endpoint,
    name: `${endpoint.name} node ${address}`,
    url: text,
    redactedUrl: redactUrl(text),
    host,
    port,
  };
}
