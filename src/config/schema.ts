import { z } from 'zod';

// The config file's shape. Objects are strict so a misspelt key is an error, not a silent default.

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

/** "90s", "15m", "1h", "2d" or a number of milliseconds. */
export const durationSchema = z
  .union([z.number(), z.string()])
  .refine((v) => (typeof v === 'number' ? Number.isInteger(v) && v > 0 : /^\d+(ms|s|m|h|d)$/.test(v)), {
    message: 'must be a duration like 30s, 15m, 1h or 2d (or milliseconds)',
  })
  .transform((v) => (typeof v === 'number' ? v : parseDuration(v)));

export function parseDuration(text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!m) throw new Error(`not a duration: ${text}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
    m[2] as 'ms' | 's' | 'm' | 'h' | 'd'
  ];
  return Number(m[1]) * unit;
}

const commandHookSchema = z
  .object({
    command: z.string().min(1),
    timeout: durationSchema.default(60_000),
  })
  .strict();

const webhookHookSchema = z
  .object({
    url: z.string().url(),
    secret: z.string().min(1).optional(),
    timeout: durationSchema.default(30_000),
  })
  .strict();

export const configSchema = z
  .object({
    endpoints: z.record(
      z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, 'bad endpoint name'),
      endpointSchema,
    ),
    control: z
      .object({ url: z.string().min(1) })
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
    hooks: z.record(z.string(), z.union([commandHookSchema, webhookHookSchema])).optional(),
    copy: z
      .object({
        bigKeyThresholdBytes: z.number().int().positive().optional(),
        batchSize: z.number().int().min(1).max(100_000).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type ConfigFile = z.infer<typeof configSchema>;
export type EndpointConfig = z.infer<typeof endpointSchema>;
