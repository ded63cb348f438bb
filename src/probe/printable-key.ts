// Redis keys are bytes. People need to read them, so show them as text when they are text.

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Valid UTF-8 without control characters is shown as is. Anything else is shown byte by byte:
 * printable ASCII as itself, a backslash as `\\`, every other byte as `\xNN`.
 */
export function printableKey(key: Buffer): string {
  let text: string | undefined;
  try {
    text = utf8.decode(key);
  } catch {
    text = undefined;
  }
  if (text !== undefined && !/[\x00-\x1f\x7f]/.test(text)) return text;
  let out = '';
  for (const byte of key) {
    if (byte === 0x5c) out += '\\\\';
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\x${byte.toString(16).padStart(2, '0')}`;
  }
  return out;
}
