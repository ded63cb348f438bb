// Bolt routes a request to every listener whose constraint matches. The "not ours" listener of a
// surface (a button or dialog from an older version, a slash command pointed at this app by
// mistake) matches every id except the handled ones, so Slack never shows a timeout for them.

/** Matches every id except the given ones (Bolt constraints take a RegExp). */
export function anyExcept(ids: readonly string[]): RegExp {
  const alternatives = ids.map((id) => id.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')).join('|');
  return new RegExp(`^(?!(?:${alternatives})$)`);
}
