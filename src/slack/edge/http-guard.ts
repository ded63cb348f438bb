// A thin guard in front of Bolt's HTTPReceiver: for the events path it reads the body, checks the
// signature and the timestamp (both ways: 401), and the body's shape (400), and only then hands
// the request to Bolt (which reads the already-buffered body and checks the signature again).
// Every request is answered: nothing here throws past the HTTP server.
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { HTTPModuleFunctions } from '@slack/bolt';
import { errorMessage } from '../../util/errors.js';
import type { Logger } from '../../util/logger.js';
import { parseHttpBody } from './payload-shape.js';
import { signatureProblem } from './signature.js';

export interface HttpGuardOptions {
  signingSecret: string;
  /** The path Slack posts to; other paths go straight to Bolt (health check, 404s). */
  path: string;
  logger: Logger;
}

export function guardRequestListener(inner: RequestListener, options: HttpGuardOptions): RequestListener {
  const log = options.logger;
  return (req, res) => {
    const path = pathOf(req);
    if (path !== options.path || req.method?.toUpperCase() !== 'POST') {
      inner(req, res); // may throw a deferred-request error: Bolt's server turns it into a 404
      return;
    }
    void checkThenForward(req, res, inner, options).catch((err) => {
      log.error({ error: errorMessage(err) }, 'Slack request failed before reaching the app');
      answer(res, 500, 'internal error');
    });
  };
}

async function checkThenForward(
  req: IncomingMessage,
  res: ServerResponse,
  inner: RequestListener,
  options: HttpGuardOptions,
): Promise<void> {
  const log = options.logger;
  let rawBody: Buffer;
  try {
    // Sets req.rawBody, which Bolt reuses instead of reading the stream again.
    rawBody = (await HTTPModuleFunctions.bufferIncomingMessage(req, HTTPModuleFunctions.defaultBodyLimit))
      .rawBody;
  } catch (err) {
    const tooLarge =
      HTTPModuleFunctions.isRawBodyError(err) && (err as { statusCode?: number }).statusCode === 413;
    log.warn({ error: errorMessage(err) }, 'Slack request body could not be read');
    answer(res, tooLarge ? 413 : 400, tooLarge ? 'body too large' : 'body could not be read');
    return;
  }
  const contentType = req.headers['content-type'];
  const text = rawBody.toString('utf8');
  const shape = parseHttpBody(text, contentType);
  // Slack's ssl_check is not signed; Bolt answers it without looking at anything else either.
  if (shape.ok && shape.kind === 'ssl_check') {
    answer(res, 200, '');
    return;
  }
  const unsigned = signatureProblem({
    signingSecret: options.signingSecret,
    timestamp: req.headers['x-slack-request-timestamp'],
    signature: req.headers['x-slack-signature'],
    rawBody,
  });
  if (unsigned) {
    log.warn({ problem: unsigned }, 'Slack request refused: not signed by Slack');
    answer(res, 401, 'unauthorized');
    return;
  }
  if (!shape.ok) {
    // The problem names fields only, never their contents.
    log.warn({ problem: shape.problem }, 'Slack request refused: malformed payload');
    answer(res, 400, `bad request: ${shape.problem}`);
    return;
  }
  inner(req, res);
}

function pathOf(req: IncomingMessage): string {
  try {
    return new URL(req.url ?? '/', 'http://localhost').pathname;
  } catch {
    return '';
  }
}

function answer(res: ServerResponse, status: number, text: string): void {
  if (res.headersSent) {
    res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(text);
}
