/**
 * The SQL drafts' and script validation's answers (`/v1/sql/drafts`, `/v1/sql/resolve`) as
 * the server renders them and the console reads them (docs/references.md). Imports nothing.
 */

/** A statement's phase (the Flink SQL Gateway's operation status, mapped). */
export type StatementPhase = "PENDING" | "RUNNING" | "COMPLETED" | "STOPPED" | "FAILED";

/** One `${secret_values.…}` reference of a script, by line. */
export interface ReferenceCheck {
  line: number;
  /** The reference as written (shortened when long). */
  reference: string;
  name: string | null;
  /** In a place where references are honoured (a quoted option value of CREATE TEMPORARY TABLE … WITH). */
  allowed: boolean;
  /** A secret value of this name exists in the scope. */
  exists: boolean;
  /** Why the script could not be deployed because of this reference; absent when it could. */
  problem?: string;
}

export interface DraftValidation {
  /** The script with each honoured, existing reference written `******`. */
  statement: string;
  valid: boolean;
  references: ReferenceCheck[];
}

export interface DraftDeployment {
  statement: string;
  phase: StatementPhase;
  detail: string;
  stopped: boolean;
  startedAt: string | null;
  /** The deployed SQL differs from the draft's current text (deploy again to publish it). */
  outdated: boolean;
}

export interface DraftView {
  id: string;
  name: string;
  statement: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  resourceVersion: number;
  validation: DraftValidation;
  deployment: DraftDeployment | null;
}
