/** Quotes one argument so a POSIX shell reads it back unchanged. */
export function quote(arg: unknown): string {
  const s = String(arg);
  if (s === '') return "''";
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'"'"'`)}'`;
}

/** Joins arguments into one string that is safe to paste into a shell. */
export function qjoin(args: Iterable<unknown>): string {
  return [...args].map(quote).join(' ');
}
