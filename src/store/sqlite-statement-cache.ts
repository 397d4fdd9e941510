/**
 * Prepared statements by a key (their SQL, or the shape they were built for), each prepared
 * the first time it is asked for. Shapes should be few; past `max` of them something keeps
 * making new ones, so the cache starts over rather than grow without end.
 */
export class StatementCache<K, S> {
  readonly #max: number;
  readonly #prepare: (key: K) => S;
  readonly #statements = new Map<K, S>();

  constructor(max: number, prepare: (key: K) => S) {
    this.#max = max;
    this.#prepare = prepare;
  }

  get(key: K): S {
    let statement = this.#statements.get(key);
    if (statement === undefined) {
      statement = this.#prepare(key);
      if (this.#statements.size >= this.#max) this.#statements.clear();
      this.#statements.set(key, statement);
    }
    return statement;
  }
}
