// The observed fetch against a local HTTP server answering as Slack would: ok, ok:false, 429,
// another HTTP status, and a closed port; the observer hears each, and the client gets the reply.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { observedFetch, type SlackApiCall } from '../../../src/slack/api-calls.js';
import { freePort } from '../../harness/redis-server.js';

let base: string;
const server = createServer((req, res) => {
  const method = req.url!.split('/').at(-1);
  if (method === 'chat.update') {
    res.writeHead(429, { 'retry-after': '3' });
    res.end();
  } else if (method === 'views.open') {
    res.writeHead(503);
    res.end('down');
  } else {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify(method === 'auth.test' ? { ok: true } : { ok: false, error: 'channel_not_found' }),
    );
  }
});
before(async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
});
after(() => new Promise<void>((r) => server.close(() => r())));

test('each call is reported with its method and outcome; the reply reaches the client untouched', async () => {
  const calls: SlackApiCall[] = [];
  const f = observedFetch({ apiCall: (c) => calls.push(c) });
  const ok = await f(`${base}auth.test`, { method: 'POST' });
  assert.deepEqual(await ok.json(), { ok: true });
  const failed = await f(`${base}chat.postMessage`, { method: 'POST' });
  assert.equal(((await failed.json()) as { error: string }).error, 'channel_not_found');
  assert.equal((await f(`${base}chat.update`, { method: 'POST' })).status, 429);
  assert.equal((await f(`${base}views.open`, { method: 'POST' })).status, 503);
  await assert.rejects(f(`http://127.0.0.1:${await freePort()}/api/auth.test`, { method: 'POST' }));
  assert.deepEqual(calls, [
    { method: 'auth.test', outcome: 'ok' },
    { method: 'chat.postMessage', outcome: 'error', error: 'channel_not_found' },
    { method: 'chat.update', outcome: 'rate_limited' },
    { method: 'views.open', outcome: 'error', error: 'http_503' },
    { method: 'auth.test', outcome: 'unreachable' },
  ]);
});

test('an observer that throws does not break the call', async () => {
  const f = observedFetch({
    apiCall: () => {
      throw new Error('broken counter');
    },
  });
  assert.equal((await f(`${base}auth.test`, { method: 'POST' })).status, 200);
});
