import type { Clock } from "../../core/clock.js";
import { iso } from "../../core/clock.js";
import { CofferError, invalid } from "../../core/errors.js";
import type { Scope } from "../../core/scope.js";
import type { Storage } from "../../storage/index.js";
import { DraftRepository, type Draft } from "./drafts-repo.js";
import type { FlinkGateways } from "./gateways.js";
import type { DraftValidation, DraftView } from "../../contract/sql-drafts.js";
import { analyzeSql, refusalError, validateSql } from "../script/sql-references.js";
import type { SqlValues } from "../values/sql-values.js";
import { MAX_STATEMENT, type Statements } from "./statements.js";

/**
 * SQL drafts (the Flink seed's SQL Editor → Drafts): named scripts per environment and
 * region, stored as written (references unresolved, never a value). A draft's deployment
 * is the SQL statement named after it (`deploymentName`): deploying validates the draft
 * (placement and that every referenced value exists) and then starts that statement
 * through the statements service, which alone resolves values into what the scope's
 * Flink SQL Gateway receives. Stopping stops the statement. A draft whose references are
 * refused or name a deleted value cannot be published: its validation says why, by line.
 */
export type { DraftDeployment, DraftValidation, DraftView } from "../../contract/sql-drafts.js";

/** A letter, then letters, digits, `_`, `-`, ending with a letter or digit (Ververica's draft names, e.g. `My_first_SQL`). */
export const DRAFT_NAME = /^[A-Za-z]([A-Za-z0-9_-]{0,62}[A-Za-z0-9])?$/;

export function validateDraftName(name: unknown): string {
  if (typeof name !== "string" || !DRAFT_NAME.test(name))
    throw invalid("A draft name is 1-64 letters, digits, _ and -, starting with a letter and ending with a letter or digit.");
  return name;
}

/** The statement a draft deploys as: its name in lowercase with `_` written `-` (`My_first_SQL` → `my-first-sql`). */
export const deploymentName = (draft: string): string => draft.toLowerCase().replace(/_/g, "-");

function checkText(statement: unknown): string {
  if (typeof statement !== "string" || statement.length > MAX_STATEMENT) throw invalid(`A draft is at most ${MAX_STATEMENT} characters of SQL.`);
  return statement;
}

const notFound = (name: string) => new CofferError("DraftNotFound", `The draft "${String(name).slice(0, 100)}" does not exist.`);

export function createDrafts(deps: { storage: Storage; clock: Clock; values: SqlValues; statements: Statements; gateways: FlinkGateways }) {
  const { clock, values, statements, gateways } = deps;
  const repo = new DraftRepository(deps.storage);
  const where = (scope: Scope) => `environment ${scope.environmentId} (${scope.region})`;

  async function row(scope: Scope, name: string): Promise<Draft> {
    validateDraftName(name);
    const r = await repo.find(scope, name);
    if (!r) throw notFound(name);
    return r;
  }

  /** Validation without any value (which references exist, where they are allowed). A script that cannot be lexed is reported as one problem. */
  async function validate(scope: Scope, text: string): Promise<DraftValidation> {
    let a;
    try {
      a = analyzeSql(text);
    } catch (e) {
      if (!(e instanceof CofferError)) throw e;
      return { statement: text, valid: false, references: [{ line: 1, reference: "", name: null, allowed: false, exists: false, problem: e.message }] };
    }
    const names = [...new Set(a.references.flatMap((r) => (r.name === undefined ? [] : [r.name])))];
    const found = await values.existing(scope, names);
    return validateSql(text, a, (n) => found.has(n), where(scope));
  }

  async function view(scope: Scope, r: Draft, refresh: boolean): Promise<DraftView> {
    const st = await statements.find(scope, deploymentName(r.name), refresh);
    return {
      id: r.id, name: r.name, statement: r.statement, createdBy: r.createdBy, createdAt: iso(r.createdAt), updatedAt: iso(r.updatedAt), resourceVersion: r.resourceVersion,
      validation: await validate(scope, r.statement),
      deployment: st
        ? { statement: st.name, phase: st.phase, detail: st.detail, stopped: st.stopped, startedAt: st.startedAt === null ? null : iso(st.startedAt), outdated: st.statement !== r.statement }
        : null,
    };
  }

  return {
    validate,

    async list(scope: Scope): Promise<DraftView[]> {
      const rows = await repo.list(scope, 1000);
      return Promise.all(rows.map((r) => view(scope, r, false)));
    },

    async get(scope: Scope, name: string): Promise<DraftView> {
      return view(scope, await row(scope, name), true);
    },

    async create(scope: Scope, name: string, statement: unknown, createdBy: string): Promise<DraftView> {
      validateDraftName(name);
      const text = checkText(statement ?? "");
      await repo.insert(scope, name, text, createdBy, clock.now());
      return view(scope, await row(scope, name), false);
    },

    /** Saves new text; `resourceVersion`, when given, must be the stored one (no lost update). */
    async update(scope: Scope, name: string, statement: unknown, resourceVersion?: number): Promise<DraftView> {
      const text = checkText(statement);
      const r = await row(scope, name);
      if (!(await repo.updateText(r.id, text, clock.now(), resourceVersion)))
        throw new CofferError("InvalidState", `The draft changed since version ${resourceVersion} (now ${r.resourceVersion}); read it again.`);
      return view(scope, await row(scope, name), false);
    },

    /** Deletes the draft; a running deployment must be stopped first (it is left alone otherwise). */
    async delete(scope: Scope, name: string): Promise<void> {
      const r = await row(scope, name);
      const st = await statements.find(scope, deploymentName(name), true);
      if (st && (st.phase === "PENDING" || st.phase === "RUNNING")) throw new CofferError("InvalidState", `The draft "${name}" is deployed and running as the statement ${st.name}: stop it first.`);
      await repo.delete(r.id);
    },

    /**
     * Publishes the draft's current text as its statement: refused, with every problem by
     * line, unless every reference is allowed and names an existing value (nothing is
     * changed then). The same text already running is left running; a stopped or failed one
     * starts again; other text replaces the statement (stopped and deleted, then created).
     * `authorize` is asked before the statement is touched, with the statement actions it needs.
     */
    async deploy(scope: Scope, name: string, authorize: (actions: ("sql:CreateStatement" | "sql:UpdateStatement" | "sql:DeleteStatement")[], statement: string) => Promise<void>): Promise<{ draft: DraftView; resolved: string[] }> {
      const r = await row(scope, name);
      if (r.statement.trim().length === 0) throw invalid(`The draft "${name}" is empty: write a statement first.`);
      const check = await validate(scope, r.statement);
      const bad = check.references.filter((x) => x.problem !== undefined);
      if (bad.length > 0) throw refusalError(bad.map((x) => ({ line: x.line, raw: x.reference, why: x.problem! })));
      // Checked before an older deployment is replaced: a draft that cannot start leaves it as it was.
      if (!(await gateways.urlFor(scope))) throw new CofferError("InvalidState", "No Flink SQL Gateway is configured for this environment and region (PUT /v1/sql/gateway, or COFFER_FLINK_GATEWAY_URL).");
      const stName = deploymentName(name);
      const st = await statements.find(scope, stName, true);
      const names = [...new Set(check.references.flatMap((x) => (x.name === null ? [] : [x.name])))].sort();
      let started = true;
      if (!st) {
        await authorize(["sql:CreateStatement"], stName);
        await statements.create(scope, { name: stName, statement: r.statement });
      } else if (st.statement === r.statement) {
        if (st.phase === "PENDING" || st.phase === "RUNNING") started = false;
        else {
          await authorize(["sql:UpdateStatement"], stName);
          await statements.update(scope, stName, { stopped: false });
        }
      } else {
        await authorize(["sql:DeleteStatement", "sql:CreateStatement"], stName);
        await statements.delete(scope, stName);
        await statements.create(scope, { name: stName, statement: r.statement });
      }
      return { draft: await view(scope, r, false), resolved: started ? names : [] };
    },

    /** Stops the draft's deployment (the statement stays, stopped). */
    async stop(scope: Scope, name: string, authorize: (statement: string) => Promise<void>): Promise<DraftView> {
      const r = await row(scope, name);
      const stName = deploymentName(name);
      const st = await statements.find(scope, stName, false);
      if (!st) throw new CofferError("InvalidState", `The draft "${name}" has not been deployed.`);
      await authorize(stName);
      await statements.update(scope, stName, { stopped: true });
      return view(scope, r, false);
    },
  };
}

export type Drafts = ReturnType<typeof createDrafts>;
