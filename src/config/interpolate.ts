/**
 * Replaces `${NAME}` and `${NAME:-default}` in every string of a parsed YAML document with
 * environment variables, so secrets stay out of the file. `$${` stands for a literal `${`.
 * Reports each missing variable with the path of the field that needs it.
 */
export function interpolateEnv(
  value: unknown,
  env: NodeJS.ProcessEnv,
  path: string[] = [],
  missing: { path: string; variable: string }[] = [],
): unknown {
  if (typeof value === 'string') {
    return value.replace(
      /\$(\$?)\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g,
      (whole, escaped, name, fallback) => {
        if (escaped) return whole.slice(1);
        const v = env[name];
        if (v !== undefined && v !== '') return v;
        if (fallback !== undefined) return fallback;
        missing.push({ path: path.join('.'), variable: name });
        return '';
      },
    );
  }
  if (Array.isArray(value)) return value.map((v, i) => interpolateEnv(v, env, [...path, String(i)], missing));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolateEnv(v, env, [...path, k], missing);
    return out;
  }
  return value;
}
