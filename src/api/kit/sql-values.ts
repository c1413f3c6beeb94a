import { Type } from "@sinclair/typebox";

/**
 * Wire pieces of SQL secret values that two adapters answer alike: the Ververica-compatible
 * API (src/api/ververica) and the native `/v1/sql` routes (src/api/references).
 */

/** A validated SQL script: each reference's line, place and existence, and a redacted rendering (`'******'`). */
export const ScriptCheck = Type.Object({
  statement: Type.String(),
  valid: Type.Boolean(),
  references: Type.Array(Type.Object({
    line: Type.Integer(), reference: Type.String(), name: Type.Union([Type.String(), Type.Null()]),
    allowed: Type.Boolean(), exists: Type.Boolean(), problem: Type.Optional(Type.String()),
  })),
});

/** The `Warning` header of a deletion that statements still reference (RFC 7234, code 299). */
export function referencedWarning(name: string, statements: string[]): string {
  const list = statements.slice(0, 20).join(", ") + (statements.length > 20 ? `, … (${statements.length} in all)` : "");
  return `299 coffer "The secret value ${name} is referenced by the statements ${list}: those already running keep running; starting them again fails until the value exists again."`;
}
