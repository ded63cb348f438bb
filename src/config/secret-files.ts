// Secrets from files: `passwordFile: /run/secrets/redis` stands for `password: <the file's text>`
// (likewise secretFile and tokenFile), so Kubernetes secrets and systemd credentials mount as files
// and never sit in the config or the environment. The text is registered as a secret, so it is
// scrubbed from every log line and error.
import { readFileSync } from 'node:fs';
import { registerSecret } from '../util/secrets.js';

const SECRET_FILE_KEY = /^(password|secret|token)File$/;

export interface SecretFileProblem {
  path: string;
  problem: string;
}

/** The file's text without the one trailing newline editors and `echo` add. */
export function readSecretFile(path: string): string {
  const text = readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  registerSecret(text);
  return text;
}

/** Replaces every `<name>File` key with `<name>` read from that file; reports each problem. */
export function resolveSecretFiles(
  value: unknown,
  problems: SecretFileProblem[],
  path: string[] = [],
  read: (file: string) => string = readSecretFile,
): unknown {
  if (Array.isArray(value))
    return value.map((v, i) => resolveSecretFiles(v, problems, [...path, String(i)], read));
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const m = SECRET_FILE_KEY.exec(key);
    if (!m) {
      out[key] = resolveSecretFiles(v, problems, [...path, key], read);
      continue;
    }
    const field = m[1]!;
    const where = [...path, key].join('.');
    if (field in value) {
      problems.push({ path: where, problem: `give ${field} or ${key}, not both` });
    } else if (typeof v !== 'string' || v === '') {
      problems.push({ path: where, problem: 'must be the path of a file' });
    } else {
      try {
        const text = read(v);
        if (text === '') problems.push({ path: where, problem: `${v} is empty` });
        else out[field] = text;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        problems.push({ path: where, problem: `cannot read ${v}: ${code ?? (err as Error).message}` });
      }
    }
  }
  return out;
}
