import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SlackMessage } from '../../../../src/slack/blocks/message.js';
import type { MessageRef } from '../../../../src/slack/gateway.js';
import { postControlLost } from '../../../../src/slack/migration-thread/control-lost.js';
import { META_CHANNEL, META_TS } from '../../../../src/slack/migration-thread/message-store.js';
import { createLogger } from '../../../../src/util/logger.js';
import { memoryMigration } from '../../runbook/fixtures.js';

describe('a migration lost by the control Redis, in Slack', () => {
  const log = createLogger({ level: 'silent' });
  const gateway = () => {
    const posts: { root: MessageRef; message: SlackMessage }[] = [];
    return {
      posts,
      postThreadReply: async (root: MessageRef, message: SlackMessage) => {
        posts.push({ root, message });
        return { channel: root.channel, ts: '2.0' };
      },
    };
  };

  it('is told in the thread its last copy names', async () => {
    const g = gateway();
    const migration = memoryMigration({ meta: { [META_CHANNEL]: 'C1', [META_TS]: '1.0' } });
    await postControlLost(
      g,
      { migrationId: migration.id, migration, message: 'source writes resumed <now>' },
      log,
    );
    assert.equal(g.posts.length, 1);
    assert.deepEqual(g.posts[0]!.root, { channel: 'C1', ts: '1.0' });
    assert.match(g.posts[0]!.message.text, /source writes resumed/);
    assert.match(JSON.stringify(g.posts[0]!.message.blocks), /&lt;now&gt;/, 'escaped for mrkdwn');
  });

  it('posts nothing without a thread (a CLI migration), and a Slack failure does not throw', async () => {
    const g = gateway();
    await postControlLost(g, { migrationId: 'm1', migration: undefined, message: 'x' }, log);
    assert.equal(g.posts.length, 0);
    const failing = { postThreadReply: async () => Promise.reject(new Error('rate limited')) };
    const migration = memoryMigration({ meta: { [META_CHANNEL]: 'C1', [META_TS]: '1.0' } });
    await postControlLost(failing, { migrationId: migration.id, migration, message: 'x' }, log);
  });
});
