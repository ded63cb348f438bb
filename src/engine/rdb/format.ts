// The RDB layout as redis/redis src/rdb.h and src/rdb.c (rdbLoadRioWithLoadingCtx, rdbLoadObject)
// define it, for RDB versions 1 to 12 (Redis up to 8.4, Valkey up to 8.x).

/** Highest RDB version the reader knows every opcode and value type of (Redis 7.4 to 8.4). */
export const MAX_RDB_VERSION = 12;

export const OPCODE = {
  SLOT_INFO: 0xf4,
  FUNCTION2: 0xf5,
  FUNCTION_PRE_GA: 0xf6,
  MODULE_AUX: 0xf7,
  IDLE: 0xf8,
  FREQ: 0xf9,
  AUX: 0xfa,
  RESIZEDB: 0xfb,
  EXPIRETIME_MS: 0xfc,
  EXPIRETIME: 0xfd,
  SELECTDB: 0xfe,
  EOF: 0xff,
} as const;

export const TYPE_MODULE_PRE_GA = 6;
export const TYPE_MODULE_2 = 7;

/**
 * How a value of each type byte is laid out, as a small program the reader walks to find its end
 * without decoding it:
 *   'len'  a length (rdbLoadLen)          'str'  a string (plain, int-encoded or LZF)
 *   'dbl'  an old-style double (1-byte length, 253-255 = nan/+inf/-inf)
 *   n      n fixed bytes                  { repeat } the ops, as many times as the length just read
 */
export type Op = 'len' | 'str' | 'dbl' | number | { readonly repeat: readonly Op[] };

const BLOB: readonly Op[] = ['str'];

function streamLayout(version: 1 | 2 | 3): readonly Op[] {
  const ids = version >= 2 ? ['len', 'len', 'len', 'len', 'len'] : [];
  return [
    'len',
    { repeat: ['str', 'str'] }, // listpack nodes: master id, listpack
    'len', // length
    'len',
    'len', // last id
    ...(ids as Op[]), // first id, max deleted id, entries added
    'len',
    {
      repeat: [
        'str', // group name
        'len',
        'len', // last delivered id
        ...((version >= 2 ? ['len'] : []) as Op[]), // entries read
        'len',
        { repeat: [16, 8, 'len'] }, // PEL: raw id, delivery time, delivery count
        'len',
        {
          repeat: [
            'str', // consumer name
            8, // seen time
            ...((version >= 3 ? [8] : []) as Op[]), // active time
            'len',
            { repeat: [16] }, // the consumer's PEL ids
          ],
        },
      ],
    },
  ];
}

/** Layout per value type byte; absent = unknown to this reader. Module values are handled apart. */
export const LAYOUTS: readonly (readonly Op[] | undefined)[] = (() => {
  const l: (readonly Op[] | undefined)[] = [];
  l[0] = BLOB; // string
  l[1] = ['len', { repeat: ['str'] }]; // list (linked list, RDB < 7)
  l[2] = ['len', { repeat: ['str'] }]; // set (hash table)
  l[3] = ['len', { repeat: ['str', 'dbl'] }]; // zset with string scores
  l[4] = ['len', { repeat: ['str', 'str'] }]; // hash (hash table)
  l[5] = ['len', { repeat: ['str', 8] }]; // zset 2: binary double scores
  for (const t of [9, 10, 11, 12, 13, 16, 17, 20]) l[t] = BLOB; // zipmap, ziplists, intset, listpacks
  l[14] = ['len', { repeat: ['str'] }]; // quicklist of ziplists
  l[15] = streamLayout(1);
  l[18] = ['len', { repeat: ['len', 'str'] }]; // quicklist 2: container, listpack or plain node
  l[19] = streamLayout(2);
  l[21] = streamLayout(3);
  l[22] = ['len', { repeat: ['len', 'str', 'str'] }]; // hash with field TTLs, 7.4 RC: ttl, field, value
  l[23] = BLOB; // hash listpack with field TTLs, 7.4 RC
  l[24] = [8, 'len', { repeat: ['len', 'str', 'str'] }]; // hash with field TTLs: min expire first
  l[25] = [8, 'str']; // hash listpack with field TTLs: min expire, listpack
  return l;
})();

/**
 * Where a collection's element count sits in its layout (the op index), for the types whose count
 * is a plain length: a count of 0 is an empty key, which Redis's load skips (rdb.c `emptykey`, left
 * by an old bug) and RESTORE refuses.
 */
export const COUNT_OP: readonly (number | undefined)[] = (() => {
  const c: (number | undefined)[] = [];
  for (const t of [1, 2, 3, 4, 5, 14, 18, 22]) c[t] = 0;
  c[24] = 1;
  return c;
})();

/** The name TYPE reports for a value type byte (summaries). */
export function typeName(type: number): string {
  if (type === 0) return 'string';
  if ([1, 10, 14, 18].includes(type)) return 'list';
  if ([2, 11, 20].includes(type)) return 'set';
  if ([3, 5, 12, 17].includes(type)) return 'zset';
  if ([4, 9, 13, 16, 22, 23, 24, 25].includes(type)) return 'hash';
  if ([15, 19, 21].includes(type)) return 'stream';
  if (type === TYPE_MODULE_2 || type === TYPE_MODULE_PRE_GA) return 'module';
  return `type ${type}`;
}

const MODULE_NAME_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/**
 * A module type's 9-character name and encoding version from its 64-bit id (module.c
 * moduleTypeNameByID: 9 chars of 6 bits, then 10 bits of encoding version).
 */
export function moduleTypeName(id: bigint): { name: string; encver: number } {
  let rest = id >> 10n;
  let name = '';
  for (let i = 0; i < 9; i++) {
    name = MODULE_NAME_CHARS[Number(rest & 63n)] + name;
    rest >>= 6n;
  }
  return { name, encver: Number(id & 1023n) };
}
