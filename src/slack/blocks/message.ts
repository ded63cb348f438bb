// A message is fallback text plus blocks; these helpers keep both inside Slack's limits.
import { LIMITS } from './limits.js';
import { fitLines, type KnownBlock, mrkdwn, truncate } from './text.js';

export interface SlackMessage {
  /** Shown in notifications and by clients that cannot render blocks. */
  text: string;
  blocks: KnownBlock[];
}

export interface HomeView {
  type: 'home';
  blocks: KnownBlock[];
}

/** Builds a message, cutting the fallback text and dropping blocks past the per-message maximum. */
export function message(text: string, blocks: KnownBlock[], maxBlocks: number = LIMITS.blocksPerMessage) {
  const fitted =
    blocks.length <= maxBlocks
      ? blocks
      : [
          ...blocks.slice(0, maxBlocks - 1),
          contextBlock(`… and ${blocks.length - (maxBlocks - 1)} more blocks not shown`),
        ];
  return { text: truncate(text.trim() ? text : 'migration-buddy', LIMITS.messageText), blocks: fitted };
}

export function homeView(blocks: KnownBlock[]): HomeView {
  return { type: 'home', blocks: message('home', blocks, LIMITS.blocksPerView).blocks };
}

export function section(text: string): KnownBlock {
  return { type: 'section', text: mrkdwn(text, LIMITS.sectionText) };
}

export function contextBlock(...texts: string[]): KnownBlock {
  return {
    type: 'context',
    elements: texts.slice(0, LIMITS.contextElements).map((t) => mrkdwn(t, LIMITS.contextText)),
  };
}

export function header(text: string): KnownBlock {
  return {
    type: 'header',
    text: { type: 'plain_text', text: truncate(text.trim() ? text : 'migration-buddy', LIMITS.headerText) },
  };
}

export function divider(): KnownBlock {
  return { type: 'divider' };
}

/**
 * Packs lines into as few section blocks as possible (each at most `maxChars`), using at most
 * `maxBlocks` of them; whatever does not fit is counted in a final "… and N more <noun>" line.
 */
export function sectionsFromLines(
  lines: string[],
  maxBlocks: number,
  noun: string,
  maxChars: number = LIMITS.sectionText,
): KnownBlock[] {
  if (lines.length === 0 || maxBlocks < 1) return [];
  const blocks: KnownBlock[] = [];
  let i = 0;
  while (i < lines.length && blocks.length < maxBlocks) {
    const last = blocks.length === maxBlocks - 1;
    if (last) {
      blocks.push(section(fitLines(lines.slice(i), maxChars, noun)));
      break;
    }
    let text = '';
    while (i < lines.length) {
      const line = truncate(lines[i]!, maxChars);
      const next = text ? `${text}\n${line}` : line;
      if (next.length > maxChars) break;
      text = next;
      i += 1;
    }
    blocks.push(section(text));
  }
  return blocks;
}
