// Requests signed the way Slack signs them (docs: "Verifying requests from Slack"; bolt-js
// verify-request.ts): HMAC-SHA256 over `v0:<timestamp>:<raw body>` with the signing secret.
import { createHmac } from 'node:crypto';
import {
  type BlockActionInput,
  blockActionPayload,
  type SlashCommandInput,
  slashCommandPayload,
  type ViewSubmissionInput,
  viewSubmissionPayload,
} from './payloads.js';

export function slackSignature(signingSecret: string, timestampSec: number, body: string): string {
  return `v0=${createHmac('sha256', signingSecret).update(`v0:${timestampSec}:${body}`).digest('hex')}`;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

export function slashCommandBody(input: SlashCommandInput): string {
  return new URLSearchParams(slashCommandPayload(input)).toString();
}

export function blockActionsBody(input: BlockActionInput): string {
  return new URLSearchParams({ payload: JSON.stringify(blockActionPayload(input)) }).toString();
}

export function viewSubmissionBody(input: ViewSubmissionInput): string {
  return new URLSearchParams({ payload: JSON.stringify(viewSubmissionPayload(input)) }).toString();
}

export interface SignedPostOptions {
  signingSecret: string;
  /** Defaults to now; pass an old one to test stale-request rejection. */
  timestampSec?: number;
  /** Replaces the computed signature (to test a bad one). */
  signature?: string;
  contentType?: string;
}

/** POSTs a form body to the HTTP receiver with Slack's signature headers. */
export async function postSigned(url: string, body: string, options: SignedPostOptions): Promise<Response> {
  const timestamp = options.timestampSec ?? nowSeconds();
  return fetch(url, {
    method: 'POST',
    headers: {
      'content-type': options.contentType ?? 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(timestamp),
      'x-slack-signature': options.signature ?? slackSignature(options.signingSecret, timestamp, body),
    },
    body,
  });
}
