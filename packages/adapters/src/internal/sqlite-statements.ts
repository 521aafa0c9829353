/**
 * The SQL `SqliteStore` runs on `table`, one statement per operation (internal; tests read it
 * for `EXPLAIN QUERY PLAN`). Every one finds its rows through an
 * index: the primary key `id`, or `(expires_at)` for the purge step.
 *
 * @param table - a valid table name (not checked here)
 * @returns the statements' source
 */
export function sqliteStatements(table: string) {
  return {
    /** insert; a duplicate id fails on the primary key */
    insert: `INSERT INTO "${table}" (id, v, kdf_n, kdf_r, kdf_p, salt, iv, ciphertext, created_at, expires_at, max_attempts, attempts)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    /** reserve: (id, now) */
    reserve: `UPDATE "${table}" SET attempts = attempts + 1
      WHERE id = ? AND expires_at > ? AND attempts < max_attempts RETURNING *`,
    /** claim: (id, iv, now) */
    claim: `DELETE FROM "${table}" WHERE id = ? AND iv = ? AND expires_at > ?`,
    /** burn: (id) */
    burn: `DELETE FROM "${table}" WHERE id = ? AND attempts >= max_attempts`,
    /** delete: (id) */
    delete: `DELETE FROM "${table}" WHERE id = ?`,
    /** one purge step: (now, at most this many rows) */
    purge: `DELETE FROM "${table}" WHERE id IN (SELECT id FROM "${table}" WHERE expires_at <= ? LIMIT ?)`,
  } as const;
}
