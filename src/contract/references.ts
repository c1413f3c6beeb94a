/** The answers of SQL secret values (`/v1/sql/values`) as the CLI and the console read them. Imports nothing. */

/** A SQL secret value: its name and times, never its value. */
export interface SqlValue {
  id: string;
  name: string;
  createdAt: string;
  modifiedAt: string;
}
