import { useMemo, useState, type FormEvent } from "react";
import { ACTION_CATALOG } from "../../../src/policy/actions.ts";
import { enc } from "../api.ts";
import { useSession } from "../session.tsx";
import type { Policy, Role } from "../types.ts";
import { Badge, ConfirmDelete, FormActions, FormError, Listed, Modal, PageHead, Table, TextArea, TextField, fmtTime, useLoad, useToast } from "../ui.tsx";
import { describeError, fieldOfError, hasErrors, type Errors } from "../validation.ts";

const TEMPLATE = JSON.stringify(
  {
    Version: "1",
    Statement: [{ Sid: "ReadApp", Effect: "Allow", Action: ["secrets:GetSecretValue", "secrets:DescribeSecret"], Resource: "secret/app/*" }],
  },
  null,
  2,
);

/** Identity policies (JSON documents) and roles; the action catalog to write them with. */
export function PoliciesPage() {
  const s = useSession();
  const toast = useToast();
  const policies = useLoad(() => s.api.get<{ policies: Policy[] }>("/v1/policies", { limit: 100 }, { scoped: false }).then((r) => r.policies), []);
  const roles = useLoad(() => s.api.get<{ roles: Role[] }>("/v1/roles", undefined, { scoped: false }).then((r) => r.roles), []);
  const [editing, setEditing] = useState<Policy | "new">();
  const [deleting, setDeleting] = useState<Policy>();
  const [newRole, setNewRole] = useState(false);
  const [showActions, setShowActions] = useState(false);

  async function remove(p: Policy) {
    try {
      await s.api.delete(`/v1/policies/${enc(p.id)}`, undefined, { scoped: false });
      toast("ok", `Policy ${p.name} deleted (and detached everywhere).`);
      setDeleting(undefined);
      policies.reload();
    } catch (e) {
      toast("error", describeError(e));
    }
  }
  async function removeRole(r: Role) {
    try {
      await s.api.delete(`/v1/roles/${enc(r.id)}`, undefined, { scoped: false });
      roles.reload();
    } catch (e) {
      toast("error", describeError(e));
    }
  }

  return (
    <div>
      <PageHead title="Policies and roles" intro="Deny by default; an explicit Deny wins. Resources are CRNs (crn:coffer:<env>:<region>:secret/<name>) or short forms (secret/app/*).">
        <button type="button" className="btn" onClick={() => setShowActions(true)}>
          Action catalog
        </button>
        <button type="button" className="btn-primary" onClick={() => setEditing("new")}>
          Create policy
        </button>
      </PageHead>
      <section className="card" aria-labelledby="pol-list">
        <h2 id="pol-list">Policies</h2>
        <Listed list={policies} items={policies.data} what="policies" empty="No policies.">
          {(items) => (
            <Table label="Policies" columns={["Name", "Statements", "Updated"]} actions>
              {items.map((p) => (
                <tr key={p.id}>
                  <td>
                    {p.name} {p.builtin ? <Badge>built-in</Badge> : null}
                    {p.description ? <div className="muted small">{p.description}</div> : null}
                  </td>
                  <td>{summarize(p.document)}</td>
                  <td>{fmtTime(p.updatedAt)}</td>
                  <td className="row-actions">
                    <button type="button" className="btn-link" onClick={() => setEditing(p)} aria-label={`${p.builtin ? "View" : "Edit"} policy ${p.name}`}>
                      {p.builtin ? "View" : "Edit"}
                    </button>
                    {p.builtin ? null : (
                      <button type="button" className="btn-link danger" onClick={() => setDeleting(p)} aria-label={`Delete policy ${p.name}`}>
                        Delete
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </Table>
          )}
        </Listed>
      </section>
      <section className="card" aria-labelledby="role-list">
        <h2 id="role-list">Roles</h2>
        <Listed list={roles} items={roles.data} what="roles" empty="No roles.">
          {(items) => (
            <Table label="Roles" columns={["Role", "Policies"]} actions>
              {items.map((r) => (
                <tr key={r.id}>
                  <td>
                    {r.name} {r.builtin ? <Badge>built-in</Badge> : null}
                    {r.description ? <div className="muted small">{r.description}</div> : null}
                  </td>
                  <td>{r.policies.join(", ") || <span className="muted">—</span>}</td>
                  <td>
                    {r.builtin ? null : (
                      <>
                        <RoleAttach role={r} policies={policies.data ?? []} onChange={roles.reload} />
                        <button type="button" className="btn-link danger" onClick={() => void removeRole(r)} aria-label={`Delete role ${r.name}`}>
                          Delete
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </Table>
          )}
        </Listed>
        <button type="button" className="btn" onClick={() => setNewRole(true)}>
          Create role
        </button>
      </section>
      {editing ? (
        <PolicyEditor
          policy={editing === "new" ? undefined : editing}
          onClose={(done) => {
            setEditing(undefined);
            if (done) policies.reload();
          }}
        />
      ) : null}
      {deleting ? (
        <ConfirmDelete title={`Delete policy ${deleting.name}`} confirm="Delete policy" onCancel={() => setDeleting(undefined)} onConfirm={() => void remove(deleting)}>
          <p>The policy is detached from every user, service account and role.</p>
        </ConfirmDelete>
      ) : null}
      {newRole ? (
        <CreateRole
          onClose={(done) => {
            setNewRole(false);
            if (done) roles.reload();
          }}
        />
      ) : null}
      {showActions ? <ActionCatalog onClose={() => setShowActions(false)} /> : null}
    </div>
  );
}

function summarize(doc: unknown): string {
  const st = (doc as { Statement?: unknown })?.Statement;
  const list = Array.isArray(st) ? st : st ? [st] : [];
  const effects = list.map((x) => (x as { Effect?: string }).Effect);
  return `${list.length} statement${list.length === 1 ? "" : "s"} (${effects.filter((x) => x === "Allow").length} allow, ${effects.filter((x) => x === "Deny").length} deny)`;
}

function PolicyEditor({ policy, onClose }: { policy: Policy | undefined; onClose: (done: boolean) => void }) {
  const s = useSession();
  const toast = useToast();
  const [name, setName] = useState(policy?.name ?? "");
  const [description, setDescription] = useState(policy?.description ?? "");
  const [text, setText] = useState(policy ? JSON.stringify(policy.document, null, 2) : TEMPLATE);
  const [e, setE] = useState<Errors>({});
  const readOnly = policy?.builtin ?? false;
  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const errs: Errors = {};
    if (!policy && !/^[A-Za-z0-9_.+=@-]{1,128}$/.test(name)) errs.name = "A policy name is 1-128 letters, digits and _ . + = @ -.";
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (x) {
      errs.document = `Not valid JSON: ${(x as Error).message}`;
    }
    setE(errs);
    if (hasErrors(errs)) return;
    try {
      if (policy) await s.api.put(`/v1/policies/${enc(policy.id)}`, { description, document: doc }, { scoped: false });
      else await s.api.post("/v1/policies", { name, description: description || undefined, document: doc }, { scoped: false });
      toast("ok", `Policy ${name} saved.`);
      onClose(true);
    } catch (x) {
      setE({ [fieldOfError(x, { name: [/policy name/i], description: [/description/i], document: [/statement/i, /document/i, /action/i, /resource/i, /condition/i, /principal/i] }) ?? "form"]: describeError(x) });
    }
  }
  return (
    <Modal title={policy ? `${readOnly ? "Policy" : "Edit policy"} ${policy.name}` : "Create policy"} onClose={() => onClose(false)} wide>
      <form onSubmit={submit} noValidate>
        {policy ? null : <TextField label="Name" name="policy-name" value={name} onChange={setName} error={e.name} required />}
        <TextField label="Description" name="policy-description" value={description} onChange={setDescription} error={e.description} disabled={readOnly} />
        <TextArea label="Document (JSON)" name="policy-document" rows={14} mono value={text} onChange={setText} error={e.document} hint="Version, Statement[{Sid?, Effect, Action | NotAction, Resource | NotResource, Condition?}]; at most 32 KB. Errors name the place, e.g. Statement[0].Action[1]." />
        <FormError error={e.form} />
        <div className="form-actions">
          <button type="button" className="btn" onClick={() => onClose(false)}>
            {readOnly ? "Close" : "Cancel"}
          </button>
          {readOnly ? null : (
            <button type="submit" className="btn-primary">
              Save policy
            </button>
          )}
        </div>
      </form>
    </Modal>
  );
}

function CreateRole({ onClose }: { onClose: (done: boolean) => void }) {
  const s = useSession();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [e, setE] = useState<Errors>({});
  async function submit(ev: FormEvent) {
    ev.preventDefault();
    if (!/^[a-z0-9_.-]{1,64}$/.test(name)) return setE({ name: "A role name is 1-64 lowercase letters, digits and _ . -." });
    try {
      await s.api.post("/v1/roles", { name, description: description || undefined }, { scoped: false });
      onClose(true);
    } catch (x) {
      setE({ [fieldOfError(x, { name: [/name/i] }) ?? "form"]: describeError(x) });
    }
  }
  return (
    <Modal title="Create role" onClose={() => onClose(false)}>
      <form onSubmit={submit} noValidate>
        <TextField label="Name" name="role-name" value={name} onChange={setName} error={e.name} required />
        <TextField label="Description" name="role-description" value={description} onChange={setDescription} />
        <FormError error={e.form} />
        <FormActions onCancel={() => onClose(false)} submit="Create role" />
      </form>
    </Modal>
  );
}

function RoleAttach({ role, policies, onChange }: { role: Role; policies: Policy[]; onChange: () => void }) {
  const s = useSession();
  const toast = useToast();
  const [open, setOpen] = useState(false);
  const [pick, setPick] = useState("");
  async function attach(ev: FormEvent) {
    ev.preventDefault();
    if (!pick) return;
    try {
      await s.api.post(`/v1/roles/${enc(role.id)}/policies`, { policy: pick }, { scoped: false });
      setOpen(false);
      onChange();
    } catch (x) {
      toast("error", describeError(x));
    }
  }
  if (!open)
    return (
      <button type="button" className="btn-link" onClick={() => setOpen(true)}>
        Attach policy
      </button>
    );
  return (
    <form onSubmit={attach} className="inline-form">
      <select aria-label={`Policy to attach to ${role.name}`} value={pick} onChange={(e) => setPick(e.target.value)} autoFocus>
        <option value="">Choose…</option>
        {policies
          .filter((p) => !p.builtin && !role.policies.includes(p.name))
          .map((p) => (
            <option key={p.id} value={p.id}>
              {p.name}
            </option>
          ))}
      </select>
      <button type="submit" className="btn-small">
        Attach
      </button>
    </form>
  );
}

function ActionCatalog({ onClose }: { onClose: () => void }) {
  const [q, setQ] = useState("");
  const rows = useMemo(
    () =>
      Object.entries(ACTION_CATALOG).flatMap(([service, ops]) =>
        Object.entries(ops as Record<string, { resource: string; access: string }>).map(([op, info]) => ({ action: `${service}:${op}`, ...info })),
      ),
    [],
  );
  const shown = rows.filter((r) => !q || r.action.toLowerCase().includes(q.toLowerCase()));
  return (
    <Modal title="Action catalog" onClose={onClose} wide>
      <TextField label="Filter" name="action-filter" value={q} onChange={setQ} placeholder="secrets:Get" />
      <div className="scroll">
        <div className="table-wrap">
          <table className="table" aria-label="Actions">
            <thead>
              <tr>
                <th scope="col">Action</th>
                <th scope="col">Resource</th>
                <th scope="col">Access</th>
              </tr>
            </thead>
            <tbody>
              {shown.map((r) => (
                <tr key={r.action}>
                  <td>
                    <code>{r.action}</code>
                  </td>
                  <td>
                    <code>{r.resource}</code>
                  </td>
                  <td>{r.access}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </div>
    </Modal>
  );
}
