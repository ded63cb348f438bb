// Commander's usage errors quote what was typed ("unknown option '--password=hunter2'", "argument
// 'x' is invalid"), which may be a pasted secret. These rewrites keep the error and the option or
// argument it is about (and commander's suggestion, which names a real option) but drop the value.
const REWRITES: [RegExp, string][] = [
  [/^error: unknown option '[\s\S]*'(\n\(Did you mean [^\n]*\?\))?\n?$/, 'error: unknown option$1\n'],
  [/^error: unknown command '[\s\S]*'(\n\(Did you mean [^\n]*\?\))?\n?$/, 'error: unknown command$1\n'],
  [/^error: option '([^']*)' argument '[\s\S]*' is invalid\./, "error: option '$1' argument is invalid."],
  [
    /^error: command-argument value '[\s\S]*' is invalid for argument '([^']*)'\./,
    "error: command-argument value is invalid for argument '$1'.",
  ],
];

export function withoutTypedValues(message: string): string {
  for (const [pattern, replacement] of REWRITES) {
    if (pattern.test(message)) return message.replace(pattern, replacement);
  }
  return message;
}
