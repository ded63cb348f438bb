import { z } from 'zod';
import { BYTE_SIZE_UNITS_TEXT, parseByteSize } from '../util/byte-size.js';

// The config file's shape. Objects are strict so a misspelt key is an error, not a silent default.

/** "90s", "15m", "1h", "2d" or a number of milliseconds. */
export const durationSchema = z
  .union([z.number(), z.string()])
  .refine((v) => (typeof v === 'number' ? Number.isInteger(v) && v > 0 : /^\d+(ms|s|m|h|d)$/.test(v)), {
    message: 'must be a duration like 30s, 15m, 1h or 2d (or milliseconds)',
  })
  .transform((v) => (typeof v === 'number' ? v : parseDuration(v)));

/** A size as the CLI's options take it (one parser, Redis' units: "64mb" = 64 MiB), or bytes. */
export const byteSizeSchema = z
  .union([z.number(), z.string()])
  .refine(
    (v) => {
      const bytes = typeof v === 'number' ? v : parseByteSize(v);
      return bytes !== null && Number.isInteger(bytes) && bytes > 0;
    },
    { message: `must be a size like 64mb or 64MiB, or a number of bytes (${BYTE_SIZE_UNITS_TEXT})` },
  )
  .transform((v) => (typeof v === 'number' ? v : parseByteSize(v)!));

export function parseDuration(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!m) throw new Error(`not a duration: ${text}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
    m[2] as 'ms' | 's' | 'm' | 'h' | 'd'
  ];
  return Number(m[1]) * unit;
}

const tlsSchema = z
  .object({
    ca: z.string().min(1).optional(),
    cert: z.string().min(1).optional(),
    key: z.string().min(1).optional(),
    servername: z.string().min(1).optional(),
    insecureSkipVerify: z.boolean().optional(),
  })
  .strict()
  .refine((t) => Boolean(t.cert) === Boolean(t.key), { message: 'cert and key must be given together' });

export const endpointSchema = z
  .object({
    url: z.string().min(1, 'is empty'),
    /** ACL user and password; override the URL's, and need no percent-encoding. */
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    tls: tlsSchema.optional(),
    cluster: z.boolean().default(false),
    /** Deadline for opening a connection, handshake and AUTH included (default 10s). */
    connectTimeout: durationSchema.optional(),
    description: z.string().optional(),
  })
  .strict();

const principalsSchema = z
  .object({
    /** Slack user ids (U...). */
    users: z.array(z.string().regex(/^[UW][A-Z0-9]+$/, 'must be a Slack user id like U0123ABCD')).default([]),
    /** Slack user group ids (S...), resolved with usergroups.users.list. */
    groups: z
      .array(z.string().regex(/^S[A-Z0-9]+$/, 'must be a Slack user group id like S0123ABCD'))
      .default([]),
  })
  .strict();

/**
 * Points of a runbook where configured hooks run (see src/hooks/place.ts):
 * - before_start: after preflight, before the first step that changes anything;
 * - before_cutover: before the cutover begins (make_writable, or the write pause);
 * - repoint: the hook *is* the repoint step (at most one);
 * - after_repoint: right after the repoint step;
 * - after_cutover: after the cutover ends (promote, or the end of the write pause);
 * - end: after the last step.
 */
export const HOOK_POINTS = [
  'before_start',
  'before_cutover',
  'repoint',
  'after_repoint',
  'after_cutover',
  'end',
] as const;
export type HookPoint = (typeof HOOK_POINTS)[number];

const hookNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'bad hook name');

/**
 * One hook: a command line (`command`) or a webhook (`url`). Fields are checked in one object, so a
 * mistake is reported on the field rather than as "invalid input" of a union.
 */
const hookSchema = z
  .object({
    /** Run with /bin/sh -c in its own process group; MB_* variables describe the migration. */
    command: z.string().min(1).optional(),
    /** Extra environment variables for the command (the worker's own environment is not passed on). */
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'bad variable name'), z.string()).optional(),
    /** POSTed a JSON body describing the migration and the step (no credentials). */
    url: z.string().url().optional(),
    /** HMAC-SHA256 key: the request carries X-MB-Signature: sha256=hex(HMAC(timestamp + "." + body)). */
    secret: z.string().min(1).optional(),
    /** Extra request headers (e.g. an authorization token). */
    headers: z.record(z.string(), z.string()).optional(),
    /** Longest run (default 60 s for commands, 30 s for webhooks); a command is killed after it. */
    timeout: durationSchema.optional(),
    /** Where the hook runs in a runbook; without it the hook runs only where a step names it. */
    at: z.enum(HOOK_POINTS).optional(),
    /** A second person approves the hook step before it runs. */
    gated: z.boolean().default(false),
    /** Shown in the runbook step. */
    description: z.string().optional(),
  })
  .strict()
  .superRefine((h, ctx) => {
    if (Boolean(h.command) === Boolean(h.url)) {
      ctx.addIssue({ code: 'custom', message: 'give exactly one of command or url', path: [] });
    }
    if (h.command) {
      for (const field of ['secret', 'headers'] as const) {
        if (h[field] !== undefined) {
          ctx.addIssue({ code: 'custom', message: 'only for webhooks (url)', path: [field] });
        }
      }
    }
    if (h.url && h.env !== undefined) {
      ctx.addIssue({ code: 'custom', message: 'only for commands', path: ['env'] });
    }
  });

export const hooksSchema = z.record(hookNameSchema, hookSchema).superRefine((hooks, ctx) => {
  const atRepoint = Object.entries(hooks).filter(([, h]) => h.at === 'repoint');
  if (atRepoint.length > 1) {
    ctx.addIssue({
      code: 'custom',
      message: `only one hook can be at "repoint" (found ${atRepoint.map(([n]) => n).join(', ')})`,
      path: [atRepoint[1]![0], 'at'],
    });
  }
});

export type HookConfig = z.infer<typeof hookSchema>;
export type HooksConfig = z.infer<typeof hooksSchema>;

export const configSchema = z
  .object({
    endpoints: z.record(
      z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'bad endpoint name'),
      endpointSchema,
    ),
    control: z
      .object({
        url: z.string().min(1),
        /** Overrides the URL's password (e.g. from passwordFile); needs no percent-encoding. */
        password: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
    slack: z
      .object({
        /** Channels where /migrate may be used (ids); empty = anywhere the app is. */
        channels: z.array(z.string()).default([]),
        requesters: principalsSchema.optional(),
      })
      .strict()
      .optional(),
    approvers: principalsSchema.optional(),
    approvals: z
      .object({
        expiresAfter: durationSchema.default(3_600_000),
        /** Number of distinct approvers needed per step kind (default 1). */
        quorum: z.record(z.string(), z.number().int().min(1).max(10)).default({}),
      })
      .strict()
      .optional(),
    hooks: hooksSchema.optional(),
    workers: z
      .object({
        /** Shard jobs (one source shard of a cluster's copy or verify) run at once per worker process. */
        shardConcurrency: z.number().int().min(1).max(64).optional(),
      })
      .strict()
      .optional(),
    copy: z
      .object({
        bigKeyThresholdBytes: byteSizeSchema.optional(),
        batchSize: z.number().int().min(1).max(100_000).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type ConfigFile = z.infer<typeof configSchema>;
export type EndpointConfig = z.infer<typeof endpointSchema>;
