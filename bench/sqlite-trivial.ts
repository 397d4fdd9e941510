/**
 * The executor of the SQLite benchmark (`bench/sqlite.ts`): next to no work, so that what is
 * measured is what jobloom and its store cost per instance.
 */
export default function trivial(args: { n: number }): { n: number } {
  return { n: args.n };
}
