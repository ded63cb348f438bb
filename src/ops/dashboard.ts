// The read-only BullMQ dashboard (bull-board) at /queues, behind a token: a Bearer token, or HTTP
// Basic with the token as the password (what a browser can send). Read-only mode hides retry,
// promote, clean and remove: steps are moved by the runbook, never by hand.
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';

export const DASHBOARD_PATH = '/queues';

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export function dashboardHandler(queues: Queue[], token: string): Handler {
  const adapter = new ExpressAdapter();
  adapter.setBasePath(DASHBOARD_PATH);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: true })),
    serverAdapter: adapter,
    options: { uiConfig: { boardTitle: 'migration-buddy queues' } },
  });
  const app = adapter.getRouter() as unknown as (
    req: IncomingMessage,
    res: ServerResponse,
    next: (err?: unknown) => void,
  ) => void;
  return (req, res) => {
    if (!authorized(req, token)) {
      res.writeHead(401, {
        'content-type': 'text/plain',
        'www-authenticate': 'Basic realm="migration-buddy queues", charset="UTF-8"',
      });
      res.end('The queue dashboard needs the OPS_DASHBOARD_TOKEN: as a Bearer token, or as the password.\n');
      return;
    }
    // The adapter's routes are relative to where it is mounted.
    req.url = req.url!.slice(DASHBOARD_PATH.length) || '/';
    app(req, res, (err) => {
      res.writeHead(err ? 500 : 404, { 'content-type': 'text/plain' });
      res.end(err ? 'dashboard error\n' : 'not found\n');
    });
  };
}

function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? '';
  const [scheme, value = ''] = header.split(' ', 2);
  let given: string | undefined;
  if (scheme?.toLowerCase() === 'bearer') given = value;
  else if (scheme?.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value, 'base64').toString('utf8');
    given = decoded.slice(decoded.indexOf(':') + 1);
  }
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
