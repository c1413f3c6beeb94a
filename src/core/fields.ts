/**
 * A field of a value no schema has typed (a body before validation, as a route's `resource`
 * sees it when the pipeline audits a refused request; a route's wildcard parameter): `path`
 * walked through own properties of objects; undefined when any step is absent or not an
 * object. Narrows by checks, so callers need no cast.
 */
export function fieldOf(value: unknown, ...path: readonly string[]): unknown {
  let v: unknown = value;
  for (const key of path) {
    if (typeof v !== "object" || v === null || !Object.prototype.hasOwnProperty.call(v, key)) return undefined;
    v = Object.getOwnPropertyDescriptor(v, key)?.value;
  }
  return v;
}
