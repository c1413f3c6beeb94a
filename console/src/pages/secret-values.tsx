import { useState, type FormEvent } from "react";
import { enc } from "../api.ts";
import { useSession } from "../session.tsx";
import type { SqlValue } from "../types.ts";
import { ConfirmDelete, FormActions, FormError, Listed, Modal, PageHead, Table, TextField, fmtTime, useLoad, useToast } from "../ui.tsx";
import { describeError, fieldOfError, hasErrors, utf8Length, type Errors } from "../validation.ts";

const NAME = /^[A-Za-z][A-Za-z0-9_-]{0,63}$/;

/**
 * SQL secret values (the Flink seed's Security → Secret Values tab): add and delete only.
 * No value is ever shown: the API has no way to read one back, and this page never asks.
 */
export function SecretValuesPage() {
  const s = useSession();
  const toast = useToast();
  const list = useLoad(() => s.api.get<{ values: SqlValue[] }>("/v1/sql/values").then((r) => r.values), [s.scopeKey]);
  const [adding, setAdding] = useState(false);
  const [deleting, setDeleting] = useState<SqlValue>();

  async function remove(v: SqlValue) {
    try {
      const r = await s.api.delete<{ referencedBy: string[] }>(`/v1/sql/values/${enc(v.name)}`);
      setDeleting(undefined);
      toast(
        r.referencedBy?.length ? "error" : "ok",
        r.referencedBy?.length
          ? `Deleted ${v.name}. These statements reference it and cannot start again until it exists: ${r.referencedBy.join(", ")}. Started ones keep running.`
          : `Secret value ${v.name} deleted.`,
      );
      list.reload();
    } catch (e) {
      toast("error", describeError(e));
    }
  }

  return (
    <div>
      <PageHead
        title="Secret values"
        intro={
          <>
            Values for SQL jobs in {s.scope.environment} / {s.scope.region}, referenced as <code>{"${secret_values.<name>}"}</code> in the WITH clause of CREATE TEMPORARY TABLE. You can only add and delete them: a value is never shown or changed after it is added.
          </>
        }
      >
        <button type="button" className="btn-primary" onClick={() => setAdding(true)}>
          Add secret value
        </button>
      </PageHead>
      <p className="note">If you delete a value that a SQL draft uses, the draft may fail to be published and a deployment must be republished. A published deployment is not affected.</p>
      <Listed list={list} items={list.data} what="secret values" empty="No secret values in this environment.">
        {(values) => (
          <Table label="Secret values" columns={["Name", "Reference", "Value", "Added"]} actions>
            {values.map((v) => (
              <tr key={v.name}>
                <td>{v.name}</td>
                <td>
                  <code>{`\${secret_values.${v.name}}`}</code>
                </td>
                <td className="muted">hidden · never shown</td>
                <td>{fmtTime(v.createdAt)}</td>
                <td>
                  <button type="button" className="btn-link danger" onClick={() => setDeleting(v)} aria-label={`Delete secret value ${v.name}`}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </Table>
        )}
      </Listed>
      {adding ? (
        <AddValue
          onClose={(done) => {
            setAdding(false);
            if (done) list.reload();
          }}
        />
      ) : null}
      {deleting ? (
        <ConfirmDelete title={`Delete secret value ${deleting.name}`} onCancel={() => setDeleting(undefined)} onConfirm={() => void remove(deleting)}>
          <p>Proceed with caution: SQL drafts that reference this value can no longer be published.</p>
        </ConfirmDelete>
      ) : null}
    </div>
  );
}

function AddValue({ onClose }: { onClose: (done: boolean) => void }) {
  const s = useSession();
  const toast = useToast();
  const [name, setName] = useState("");
  const [value, setValue] = useState("");
  const [e, setE] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const errs: Errors = {
      name: NAME.test(name) ? undefined : "A secret name is a letter, then up to 63 letters, digits, _ or -.",
      value: value.length === 0 ? "Enter the secret value." : utf8Length(value) > 30_720 ? "The value cannot exceed 30,720 bytes." : undefined,
    };
    setE(errs);
    if (hasErrors(errs)) return;
    setBusy(true);
    try {
      await s.api.post("/v1/sql/values", { name, value });
      setValue("");
      toast("ok", `Secret value ${name} added.`);
      onClose(true);
    } catch (x) {
      setE({ [fieldOfError(x, { name: [/name/i, /already exists/i], value: [/value/i] }) ?? "form"]: describeError(x) });
    } finally {
      setBusy(false);
    }
  }
  return (
    <Modal title="Add Secret Value" onClose={() => onClose(false)}>
      <form onSubmit={submit} noValidate>
        <TextField label="Secret Name" name="sv-name" value={name} onChange={setName} error={e.name} required hint="Referenced as ${secret_values.<name>}; names are case-sensitive." />
        <TextField label="Secret Value" name="sv-value" type="password" autoComplete="new-password" value={value} onChange={setValue} error={e.value} required hint="The value is case-sensitive. It cannot be viewed or changed after you add it." />
        <FormError error={e.form} />
        <FormActions onCancel={() => onClose(false)} submit="OK" busy={busy} />
      </form>
    </Modal>
  );
}
