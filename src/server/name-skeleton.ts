/**
 * The "skeleton" of a user name: what is left of it once the differences a reader easily misses
 * are removed. Two names with the same skeleton cannot both be registered (`alice` blocks `Alice`,
 * `a1ice`, `AIice`), though each account keeps its name exactly as registered and logs in by it.
 *
 * The folds, in order: lower case (A–Z → a–z); `1` and `i` → `l` (so 1, i, I, l, L look alike);
 * `0` → `o`; `-` → `_` (a hyphen and an underscore are easy to mistake in a list or when read out).
 * User names are ASCII (`A–Z a–z 0–9 _ -`), so nothing else needs folding.
 */
export function nameSkeleton(name: string): string {
  return name.toLowerCase().replace(/[1i]/g, 'l').replace(/0/g, 'o').replace(/-/g, '_');
}

/**
 * The same folds as {@link nameSkeleton}, as an SQL expression over `column` (SQLite's `lower()`
 * folds ASCII only, which is all a user name holds), so a migration can fill the column.
 */
export function nameSkeletonSql(column: string): string {
  return `replace(replace(replace(replace(lower(${column}), '1', 'l'), 'i', 'l'), '0', 'o'), '-', '_')`;
}
