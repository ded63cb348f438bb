// Block Kit validation as Slack does it, for the limits this app can hit. Kept independent of
// src/slack/blocks/limits.ts on purpose: a builder bug must not be mirrored by its own checker.
// Numbers: docs.slack.dev/reference/block-kit (blocks, section, header, context, actions, button,
// confirmation dialog).

const MAX = {
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  headerText: 150,
  contextElements: 10,
  contextText: 3000,
  actionsElements: 25,
  buttonText: 75,
  actionId: 255,
  blockId: 255,
  value: 2000,
  url: 3000,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
};

export const MESSAGE_MAX_BLOCKS = 50;
export const VIEW_MAX_BLOCKS = 100;
export const MESSAGE_MAX_TEXT = 40_000;

type Json = Record<string, unknown>;

/** Returns Slack-style error strings ("... [json-pointer:/blocks/3/text/text]"); empty when valid. */
export function validateBlocks(blocks: unknown, maxBlocks: number, base = '/blocks'): string[] {
  const errors: string[] = [];
  if (!Array.isArray(blocks)) return [`must be an array [json-pointer:${base}]`];
  if (blocks.length > maxBlocks)
    errors.push(`no more than ${maxBlocks} items allowed [json-pointer:${base}]`);
  const blockIds = new Set<string>();
  blocks.forEach((block, i) => {
    const at = `${base}/${i}`;
    if (!isObject(block)) {
      errors.push(`must be an object [json-pointer:${at}]`);
      return;
    }
    if (block.block_id !== undefined) {
      if (typeof block.block_id !== 'string' || block.block_id.length > MAX.blockId)
        errors.push(`must be less than ${MAX.blockId + 1} characters [json-pointer:${at}/block_id]`);
      else if (blockIds.has(block.block_id)) errors.push(`duplicate block_id [json-pointer:${at}/block_id]`);
      else blockIds.add(block.block_id);
    }
    switch (block.type) {
      case 'section':
        validateSection(block, at, errors);
        break;
      case 'header':
        textObject(block.text, at + '/text', MAX.headerText, errors, 'plain_text');
        break;
      case 'context': {
        const elements = block.elements;
        if (!Array.isArray(elements) || elements.length === 0) {
          errors.push(`must provide at least 1 element [json-pointer:${at}/elements]`);
          break;
        }
        if (elements.length > MAX.contextElements)
          errors.push(`no more than ${MAX.contextElements} items allowed [json-pointer:${at}/elements]`);
        elements.forEach((el, j) => {
          if (isObject(el) && el.type === 'image') return;
          textObject(el, `${at}/elements/${j}`, MAX.contextText, errors);
        });
        break;
      }
      case 'actions': {
        const elements = block.elements;
        if (!Array.isArray(elements) || elements.length === 0) {
          errors.push(`must provide at least 1 element [json-pointer:${at}/elements]`);
          break;
        }
        if (elements.length > MAX.actionsElements)
          errors.push(`no more than ${MAX.actionsElements} items allowed [json-pointer:${at}/elements]`);
        const actionIds = new Set<string>();
        elements.forEach((el, j) => {
          validateElement(el, `${at}/elements/${j}`, errors);
          if (isObject(el) && typeof el.action_id === 'string') {
            if (actionIds.has(el.action_id))
              errors.push(`duplicate action_id [json-pointer:${at}/elements/${j}/action_id]`);
            actionIds.add(el.action_id);
          }
        });
        break;
      }
      case 'input':
        textObject(block.label, `${at}/label`, 2000, errors, 'plain_text');
        if (!isObject(block.element) || typeof block.element.type !== 'string') {
          errors.push(`must provide an element [json-pointer:${at}/element]`);
        }
        break;
      case 'divider':
      case 'image':
      case 'rich_text':
      case 'markdown':
      case 'file':
      case 'video':
        break;
      default:
        errors.push(`unsupported type [json-pointer:${at}/type]`);
    }
  });
  return errors;
}

function validateSection(block: Json, at: string, errors: string[]): void {
  if (block.text === undefined && block.fields === undefined) {
    errors.push(`must provide either text or fields [json-pointer:${at}]`);
  }
  if (block.text !== undefined) textObject(block.text, `${at}/text`, MAX.sectionText, errors);
  if (block.fields !== undefined) {
    if (!Array.isArray(block.fields) || block.fields.length === 0) {
      errors.push(`must provide at least 1 field [json-pointer:${at}/fields]`);
    } else {
      if (block.fields.length > MAX.fields)
        errors.push(`no more than ${MAX.fields} items allowed [json-pointer:${at}/fields]`);
      block.fields.forEach((f, j) => {
        textObject(f, `${at}/fields/${j}`, MAX.fieldText, errors);
      });
    }
  }
  if (block.accessory !== undefined) validateElement(block.accessory, `${at}/accessory`, errors);
}

function validateElement(el: unknown, at: string, errors: string[]): void {
  if (!isObject(el)) {
    errors.push(`must be an object [json-pointer:${at}]`);
    return;
  }
  if (
    el.action_id !== undefined &&
    (typeof el.action_id !== 'string' || el.action_id.length > MAX.actionId)
  ) {
    errors.push(`must be less than ${MAX.actionId + 1} characters [json-pointer:${at}/action_id]`);
  }
  if (el.type !== 'button') return;
  textObject(el.text, `${at}/text`, MAX.buttonText, errors, 'plain_text');
  if (el.value !== undefined && (typeof el.value !== 'string' || el.value.length > MAX.value)) {
    errors.push(`must be less than ${MAX.value + 1} characters [json-pointer:${at}/value]`);
  }
  if (el.url !== undefined && (typeof el.url !== 'string' || el.url.length > MAX.url)) {
    errors.push(`must be less than ${MAX.url + 1} characters [json-pointer:${at}/url]`);
  }
  if (el.style !== undefined && el.style !== 'primary' && el.style !== 'danger') {
    errors.push(`must be one of primary, danger [json-pointer:${at}/style]`);
  }
  if (el.confirm !== undefined) validateConfirm(el.confirm, `${at}/confirm`, errors);
}

function validateConfirm(c: unknown, at: string, errors: string[]): void {
  if (!isObject(c)) {
    errors.push(`must be an object [json-pointer:${at}]`);
    return;
  }
  textObject(c.title, `${at}/title`, MAX.confirmTitle, errors, 'plain_text');
  textObject(c.text, `${at}/text`, MAX.confirmText, errors);
  textObject(c.confirm, `${at}/confirm`, MAX.confirmButton, errors, 'plain_text');
  textObject(c.deny, `${at}/deny`, MAX.confirmButton, errors, 'plain_text');
  if (c.style !== undefined && c.style !== 'primary' && c.style !== 'danger') {
    errors.push(`must be one of primary, danger [json-pointer:${at}/style]`);
  }
}

function textObject(t: unknown, at: string, max: number, errors: string[], onlyType?: 'plain_text'): void {
  if (!isObject(t)) {
    errors.push(`must be a text object [json-pointer:${at}]`);
    return;
  }
  if (t.type !== 'plain_text' && t.type !== 'mrkdwn')
    errors.push(`invalid text type [json-pointer:${at}/type]`);
  else if (onlyType && t.type !== onlyType) errors.push(`must be ${onlyType} [json-pointer:${at}/type]`);
  if (typeof t.text !== 'string' || t.text.trim().length === 0) {
    errors.push(`must be more than 0 characters [json-pointer:${at}/text]`);
  } else if (t.text.length > max) {
    errors.push(`must be less than ${max + 1} characters [json-pointer:${at}/text]`);
  }
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
