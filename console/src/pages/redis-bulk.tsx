import { Select, TextField } from "../ui.tsx";
import { checkSecretName, describeError } from "../validation.ts";

/**
 * Redis bulk creation (the seeds' "Create Bulk Secrets"): several secrets for accounts of
 * one Redis instance, each a pair (account, account_clone) Coffer creates. Every secret is
 * one POST /v1/managed-secrets, which is atomic on the server (a refused one leaves no
 * secret and no account behind), so a partial failure leaves a clear result per secret.
 */
export interface BulkRow {
  name: string;
  account: string;
  privileges: "readwrite" | "readonly";
}

export interface BulkResult {
  name: string;
  ok: boolean;
  message: string;
}

export const MAX_BULK = 20;
export const newBulkRow = (): BulkRow => ({ name: "", account: "", privileges: "readwrite" });
const ACCOUNT = /^[A-Za-z][A-Za-z0-9_]{0,23}$/;

/** Errors per row and field (`name-<i>`, `account-<i>`), and `rows` for the list as a whole. */
export function checkBulkRows(rows: BulkRow[]): Record<string, string | undefined> {
  const e: Record<string, string | undefined> = {};
  if (rows.length === 0 || rows.length > MAX_BULK) e.rows = `Add 1-${MAX_BULK} secrets.`;
  rows.forEach((r, i) => {
    e[`name-${i}`] = checkSecretName(r.name) ?? (rows.findIndex((x) => x.name === r.name) !== i ? "Each secret needs its own name." : undefined);
    e[`account-${i}`] = !ACCOUNT.test(r.account)
      ? "1-24 letters, digits and _, starting with a letter."
      : rows.findIndex((x) => x.account === r.account) !== i
        ? "Each secret manages its own accounts."
        : undefined;
  });
  return e;
}

export function BulkRowsEditor({ rows, onChange, errors }: { rows: BulkRow[]; onChange: (rows: BulkRow[]) => void; errors: Record<string, string | undefined> }) {
  const set = (i: number, r: Partial<BulkRow>) => onChange(rows.map((x, j) => (j === i ? { ...x, ...r } : x)));
  return (
    <fieldset className="field group">
      <legend>Secrets to create</legend>
      <p className="hint">Each secret gets two accounts with the same permissions: the account name and account_clone. Up to {MAX_BULK} secrets.</p>
      {rows.map((r, i) => (
        <div className="row" key={i}>
          <TextField label={`Secret name ${i + 1}`} name={`bulk-name-${i}`} value={r.name} onChange={(v) => set(i, { name: v })} error={errors[`name-${i}`]} required />
          <TextField label={`Account name ${i + 1}`} name={`bulk-account-${i}`} value={r.account} onChange={(v) => set(i, { account: v })} error={errors[`account-${i}`]} required />
          <Select
            label={`Permissions ${i + 1}`}
            name={`bulk-privileges-${i}`}
            value={r.privileges}
            onChange={(v) => set(i, { privileges: v })}
            options={[
              ["readwrite", "Read/Write"],
              ["readonly", "Read-Only"],
            ]}
          />
          {rows.length > 1 ? (
            <button type="button" className="btn-link" aria-label={`Remove secret ${i + 1}`} onClick={() => onChange(rows.filter((_, j) => j !== i))}>
              Remove
            </button>
          ) : null}
        </div>
      ))}
      {errors.rows ? <p className="error">{errors.rows}</p> : null}
      {rows.length < MAX_BULK ? (
        <button type="button" className="btn-link" onClick={() => onChange([...rows, newBulkRow()])}>
          + Add secret
        </button>
      ) : null}
    </fieldset>
  );
}

/** One result per secret of the last run: created, or the server's reason. */
export function BulkResults({ results }: { results: BulkResult[] }) {
  const failed = results.filter((r) => !r.ok).length;
  return (
    <div className={`notice${failed ? " notice-warn" : ""}`} role="status" aria-label="Bulk creation results">
      <strong>
        {results.length - failed} of {results.length} secrets created{failed ? `; ${failed} not created (nothing of them was written: fix and submit again)` : ""}.
      </strong>
      <table className="table">
        <thead>
          <tr>
            <th scope="col">Secret</th>
            <th scope="col">Result</th>
          </tr>
        </thead>
        <tbody>
          {results.map((r) => (
            <tr key={r.name}>
              <td>{r.name}</td>
              <td>{r.ok ? "Created" : `Not created: ${r.message}`}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** Create the rows one after another (never in parallel: one admin session on the target at a time); every row gets a result. */
export async function createInBulk(rows: BulkRow[], create: (row: BulkRow) => Promise<unknown>): Promise<BulkResult[]> {
  const out: BulkResult[] = [];
  for (const row of rows) {
    try {
      await create(row);
      out.push({ name: row.name, ok: true, message: "" });
    } catch (e) {
      out.push({ name: row.name, ok: false, message: describeError(e) });
    }
  }
  return out;
}
