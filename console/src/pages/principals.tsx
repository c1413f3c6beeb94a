import { useState, type FormEvent } from "react";
import { enc } from "../api.ts";
import { Link } from "../router.tsx";
import { useSession } from "../session.tsx";
import type { Policy, PrincipalView, Role } from "../types.ts";
import { Badge, ConfirmDelete, FormActions, FormError, Listed, LoadError, Loading, Modal, PageHead, Select, Table, TextArea, TextField, arrowKeys, fmtTime, useLoad, useToast } from "../ui.tsx";
import { describeError, fieldOfError, hasErrors, type Errors } from "../validation.ts";

type Kind = "user" | "service-account";
const PATH: Record<Kind, string> = { user: "/v1/users", "service-account": "/v1/service-accounts" };

/** Users (log in with a password) and service accounts (API keys only): create, enable/disable, roles and policies, delete. */
export function PrincipalsPage() {
  const [tab, setTab] = useState<Kind>("user");
  return (
    <div>
      <PageHead title="Users and service accounts" intro="Users log in to the console and CLI with a password; service accounts are for workloads and use API keys only." />
      <div className="tabs" role="tablist" aria-label="Principal kind" onKeyDown={arrowKeys}>
        {(["user", "service-account"] as const).map((k) => (
          <button key={k} type="button" role="tab" aria-selected={tab === k} tabIndex={tab === k ? 0 : -1} className={`tab${tab === k ? " selected" : ""}`} onClick={() => setTab(k)}>
            {k === "user" ? "Users" : "Service accounts"}
          </button>
        ))}
      </div>
      <PrincipalList key={tab} kind={tab} />
    </div>
  );
}

function PrincipalList({ kind }: { kind: Kind }) {
  const s = useSession();
  const toast = useToast();
  const list = useLoad(() => s.api.get<Record<string, PrincipalView[]>>(PATH[kind], { limit: 100 }, { scoped: false }).then((r) => r[kind === "user" ? "users" : "serviceAccounts"] ?? []), [kind]);
  const [creating, setCreating] = useState(false);
  const [access, setAccess] = useState<PrincipalView>();
  const [deleting, setDeleting] = useState<PrincipalView>();
  const label = kind === "user" ? "user" : "service account";

  async function setState(p: PrincipalView, verb: "enable" | "disable") {
    try {
      await s.api.post(`${PATH[kind]}/${enc(p.id)}/${verb}`, {}, { scoped: false });
      toast("ok", `${p.name} ${verb}d.`);
      list.reload();
    } catch (e) {
      toast("error", describeError(e));
    }
  }
  async function remove(p: PrincipalView) {
    try {
      await s.api.delete(`${PATH[kind]}/${enc(p.id)}`, undefined, { scoped: false });
      toast("ok", `${p.name} deleted, with its API keys.`);
      setDeleting(undefined);
      list.reload();
    } catch (e) {
      toast("error", describeError(e));
    }
  }

  return (
    <div role="tabpanel">
      <div className="page-subhead">
        <button type="button" className="btn-primary" onClick={() => setCreating(true)}>
          Create {label}
        </button>
      </div>
      <Listed list={list} items={list.data} what={`${label}s`} empty={`No ${label}s yet.`}>
        {(items) => (
          <Table label={kind === "user" ? "Users" : "Service accounts"} columns={["Name", "Id", "State", "Created"]} actions>
            {items.map((p) => (
              <tr key={p.id}>
                <td>
                  {p.name}
                  {p.displayName && p.displayName !== p.name ? <div className="muted small">{p.displayName}</div> : null}
                  {p.description ? <div className="muted small">{p.description}</div> : null}
                </td>
                <td>
                  <code>{p.id}</code>
                  {p.id === s.whoami?.principalId ? <Badge>you</Badge> : null}
                </td>
                <td>
                  <Badge kind={p.state === "active" ? "ok" : "warn"}>{p.state}</Badge>
                </td>
                <td>{fmtTime(p.createdAt)}</td>
                <td className="row-actions">
                  <button type="button" className="btn-link" onClick={() => setAccess(p)} aria-label={`Roles and policies of ${p.name}`}>
                    Roles &amp; policies
                  </button>
                  <button type="button" className="btn-link" onClick={() => void setState(p, p.state === "active" ? "disable" : "enable")} aria-label={`${p.state === "active" ? "Disable" : "Enable"} ${p.name}`}>
                    {p.state === "active" ? "Disable" : "Enable"}
                  </button>
                  <button type="button" className="btn-link danger" onClick={() => setDeleting(p)} aria-label={`Delete ${p.name}`}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </Table>
        )}
      </Listed>
      {kind === "service-account" ? (
        <p className="muted">
          Give a service account an API key on the <Link to="/api-keys">API keys</Link> page.
        </p>
      ) : null}
      {creating ? (
        <CreatePrincipal
          kind={kind}
          onClose={(done) => {
            setCreating(false);
            if (done) list.reload();
          }}
        />
      ) : null}
      {access ? <AccessDialog p={access} onClose={() => setAccess(undefined)} /> : null}
      {deleting ? (
        <ConfirmDelete title={`Delete ${deleting.name}`} confirm={`Delete ${label}`} onCancel={() => setDeleting(undefined)} onConfirm={() => void remove(deleting)}>
          <p>Deleting a {label} deletes its API keys and ends its sessions at once.</p>
        </ConfirmDelete>
      ) : null}
    </div>
  );
}

function CreatePrincipal({ kind, onClose }: { kind: Kind; onClose: (done: boolean) => void }) {
  const s = useSession();
  const toast = useToast();
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [password2, setPassword2] = useState("");
  const [displayName, setDisplayName] = useState("");
  const [description, setDescription] = useState("");
  const [role, setRole] = useState("");
  const [e, setE] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const roles = useLoad(() => s.api.get<{ roles: Role[] }>("/v1/roles", undefined, { scoped: false }).then((r) => r.roles), []);
  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const errs: Errors =
      kind === "user"
        ? {
            name: /^[A-Za-z0-9_.@+-]{1,128}$/.test(name) ? undefined : "A user name is 1-128 letters, digits and _ . @ + -.",
            password: password.length >= 12 && password.length <= 1024 ? undefined : "A password is 12-1024 characters.",
            password2: password2 === password ? undefined : "The passwords differ.",
          }
        : { name: /^[A-Za-z0-9 _.@+-]{1,64}$/.test(name) ? undefined : "A service account name is 1-64 letters, digits, spaces and _ . @ + -." };
    setE(errs);
    if (hasErrors(errs)) return;
    setBusy(true);
    try {
      const p = await s.api.post<PrincipalView>(PATH[kind], { name, ...(kind === "user" ? { password } : {}), displayName: displayName || undefined, description: description || undefined }, { scoped: false });
      setPassword("");
      setPassword2("");
      if (role) {
        try {
          await s.api.post(`/v1/principals/${enc(p.id)}/roles`, { role }, { scoped: false });
        } catch (x) {
          toast("error", `Created, but the role was refused: ${describeError(x)}`);
        }
      }
      toast("ok", `${kind === "user" ? "User" : "Service account"} ${p.name} created (${p.id}).`);
      onClose(true);
    } catch (x) {
      setE({ [fieldOfError(x, { name: [/name/i], password: [/password/i], displayName: [/display/i], description: [/description/i] }) ?? "form"]: describeError(x) });
    } finally {
      setBusy(false);
    }
  }
  return (
    <Modal title={`Create ${kind === "user" ? "user" : "service account"}`} onClose={() => onClose(false)}>
      <form onSubmit={submit} noValidate>
        <TextField label="Name" name="principal-name" value={name} onChange={setName} error={e.name} required />
        {kind === "user" ? (
          <>
            <TextField label="Password" name="principal-password" type="password" autoComplete="new-password" value={password} onChange={setPassword} error={e.password} required hint="At least 12 characters." />
            <TextField label="Repeat the password" name="principal-password2" type="password" autoComplete="new-password" value={password2} onChange={setPassword2} error={e.password2} required />
          </>
        ) : null}
        <TextField label="Display name" name="principal-display" value={displayName} onChange={setDisplayName} error={e.displayName} />
        <TextArea label="Description" name="principal-description" rows={2} value={description} onChange={setDescription} error={e.description} />
        <Select label="Role" name="principal-role" value={role} onChange={setRole} options={[["", "No role (grant one later)"], ...(roles.data ?? []).map((r) => [r.name, `${r.name}${r.description ? ` — ${r.description}` : ""}`] as const)]} />
        <FormError error={e.form} />
        <FormActions onCancel={() => onClose(false)} submit="Create" busy={busy} />
      </form>
    </Modal>
  );
}

function AccessDialog({ p, onClose }: { p: PrincipalView; onClose: () => void }) {
  const s = useSession();
  const access = useLoad(() => s.api.get<{ policies: Policy[]; roles: string[] }>(`/v1/principals/${enc(p.id)}/policies`, undefined, { scoped: false }), [p.id]);
  const roles = useLoad(() => s.api.get<{ roles: Role[] }>("/v1/roles", undefined, { scoped: false }).then((r) => r.roles), []);
  const policies = useLoad(() => s.api.get<{ policies: Policy[] }>("/v1/policies", { limit: 100 }, { scoped: false }).then((r) => r.policies), []);
  const [role, setRole] = useState("");
  const [policy, setPolicy] = useState("");
  const [e, setE] = useState<Errors>({});
  const base = `/v1/principals/${enc(p.id)}`;
  async function run(field: string, fn: () => Promise<unknown>) {
    setE({});
    try {
      await fn();
      access.reload();
    } catch (x) {
      setE({ [field]: describeError(x) });
    }
  }
  return (
    <Modal title={`Roles and policies of ${p.name}`} onClose={onClose} wide>
      {access.error ? <LoadError error={access.error} /> : null}
      {access.data ? (
        <div className="two-col">
          <div>
            <h3>Roles</h3>
            {access.data.roles.length ? (
              <ul className="plain">
                {access.data.roles.map((r) => (
                  <li key={r}>
                    <Badge>{r}</Badge>{" "}
                    <button type="button" className="btn-link" onClick={() => void run("role", () => s.api.delete(`${base}/roles/${enc(r)}`, undefined, { scoped: false }))} aria-label={`Revoke role ${r}`}>
                      Revoke
                    </button>
                  </li>
                ))}
              </ul>
            ) : (
              <p className="muted">No roles.</p>
            )}
            <form
              className="inline-form-row"
              onSubmit={(ev) => {
                ev.preventDefault();
                if (role) void run("role", () => s.api.post(`${base}/roles`, { role }, { scoped: false }));
              }}
            >
              <Select label="Grant role" name="grant-role" value={role} onChange={setRole} error={e.role} options={[["", "Choose a role…"], ...(roles.data ?? []).filter((r) => !access.data?.roles.includes(r.name)).map((r) => [r.name, r.name] as const)]} />
              <button type="submit" className="btn">
                Grant
              </button>
            </form>
          </div>
          <div>
            <h3>Attached policies</h3>
            {access.data.policies.length ? (
              <ul className="plain">
                {access.data.policies.map((x) => (
                  <li key={x.id}>
                    {x.name}{" "}
                    <button type="button" className="btn-link" onClick={() => void run("policy", () => s.api.delete(`${base}/policies/${enc(x.id)}`, undefined, { scoped: false }))} aria-label={`Detach policy ${x.name}`}>
                      Detach
                    </button>
                  </li>
                ))}
              </ul>
            ) : (
              <p className="muted">No policies attached directly.</p>
            )}
            <form
              className="inline-form-row"
              onSubmit={(ev) => {
                ev.preventDefault();
                if (policy) void run("policy", () => s.api.post(`${base}/policies`, { policy }, { scoped: false }));
              }}
            >
              <Select
                label="Attach policy"
                name="attach-policy"
                value={policy}
                onChange={setPolicy}
                error={e.policy}
                options={[["", "Choose a policy…"], ...(policies.data ?? []).filter((x) => !x.builtin && !access.data?.policies.some((a) => a.id === x.id)).map((x) => [x.id, x.name] as const)]}
              />
              <button type="submit" className="btn">
                Attach
              </button>
            </form>
          </div>
        </div>
      ) : (
        <Loading what="access" />
      )}
      <div className="form-actions">
        <button type="button" className="btn-primary" onClick={onClose}>
          Close
        </button>
      </div>
    </Modal>
  );
}
