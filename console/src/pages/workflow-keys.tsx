import { useState, type FormEvent } from "react";
import { enc } from "../api.ts";
import { useSession } from "../session.tsx";
import type { WorkflowKey, WorkflowKeyType } from "../types.ts";
import { Badge, ConfirmDelete, Empty, FormActions, FormError, Listed, Modal, PageHead, PairsEditor, Select, Table, TextField, fmtTime, useLoad, useToast } from "../ui.tsx";
import { describeError, fieldOfError, hasErrors, type Errors } from "../validation.ts";

const TYPES: readonly (readonly [WorkflowKeyType, string])[] = [
  ["ImageRepository", "Image Repository Key"],
  ["ObjectStorage", "COS Storage Key (object storage)"],
  ["FunctionInvocation", "Function Invocation Key"],
  ["Custom", "Custom Key"],
];
const LABEL = Object.fromEntries(TYPES) as Record<WorkflowKeyType, string>;
const SERVICE = /^[A-Za-z0-9][A-Za-z0-9_-]{0,59}$/;
const KEY_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,59}$/;
const VALUE_NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/;

/** Keys of a workflow service (the serverless workflow seed's Key Management tab): four types. */
export function WorkflowKeysPage() {
  const s = useSession();
  const [draft, setDraft] = useState("");
  const [service, setService] = useState("");
  const [recent, setRecent] = useState<string[]>([]);
  const [error, setError] = useState<string>();
  // The services that already have keys; a new one is added by name (its first key creates it).
  const services = useLoad(() => s.api.get<{ services: { name: string; keys: number }[] }>("/v1/workflow-services").then((r) => r.services), [s.scopeKey, service]);

  function open(ev: FormEvent) {
    ev.preventDefault();
    if (!SERVICE.test(draft)) return setError("A workflow service name is 1-60 letters, digits, _ and -.");
    setError(undefined);
    setService(draft);
    setRecent((r) => [draft, ...r.filter((x) => x !== draft)].slice(0, 8));
  }

  return (
    <div>
      <PageHead title="Workflow keys" intro={`Credentials a workflow's YAML declares by name (image repositories, object storage, function invocation, custom), per workflow service in ${s.scope.environment} / ${s.scope.region}. Secret fields are never shown.`} />
      <section className="card" aria-labelledby="wf-services">
        <h2 id="wf-services">Workflow services</h2>
        <Listed list={services} items={services.data} what="workflow services" empty="No workflow service has keys yet: add one below.">
          {(list) => (
            <Table label="Workflow services" columns={["Service", "Keys"]} actions>
              {list.map((x) => (
                <tr key={x.name} aria-current={x.name === service ? "true" : undefined}>
                  <td>{x.name}</td>
                  <td>{x.keys}</td>
                  <td className="row-actions">
                    <button
                      type="button"
                      className="btn"
                      onClick={() => {
                        setDraft(x.name);
                        setService(x.name);
                      }}
                    >
                      Manage keys
                    </button>
                  </td>
                </tr>
              ))}
            </Table>
          )}
        </Listed>
      </section>
      <form className="filters" onSubmit={open} aria-label="Choose a workflow service">
        <TextField label="Workflow service" name="service" value={draft} onChange={setDraft} error={error} placeholder="orders-workflow" hint="Open a service above, or name a new one: its first key adds it." />
        <div className="filter-actions">
          <button type="submit" className="btn">
            Open
          </button>
        </div>
        {recent.length > 1 ? (
          <div className="recent">
            Recent:{" "}
            {recent.map((r) => (
              <button
                key={r}
                type="button"
                className="btn-link"
                onClick={() => {
                  setDraft(r);
                  setService(r);
                }}
              >
                {r}
              </button>
            ))}
          </div>
        ) : null}
      </form>
      {service ? <ServiceKeys key={`${service}|${s.scopeKey}`} service={service} onChanged={services.reload} /> : <Empty>Choose a workflow service, or name a new one, to see and add its keys.</Empty>}
    </div>
  );
}

function ServiceKeys({ service, onChanged }: { service: string; onChanged: () => void }) {
  const s = useSession();
  const toast = useToast();
  const base = `/v1/workflow-services/${enc(service)}/keys`;
  // The list names keys and types; describe adds the non-secret fields (registry domain, SecretId, …).
  const list = useLoad(async () => {
    const keys = (await s.api.get<{ keys: WorkflowKey[] }>(base)).keys;
    return Promise.all(keys.map((k) => (k.info || k.valueNames ? k : s.api.get<WorkflowKey>(`${base}/${enc(k.name)}`).catch(() => k))));
  }, [base, s.scopeKey]);
  const [adding, setAdding] = useState(false);
  const [deleting, setDeleting] = useState<WorkflowKey>();
  async function remove(k: WorkflowKey) {
    try {
      await s.api.delete(`${base}/${enc(k.name)}`);
      toast("ok", `Key ${k.name} deleted.`);
      setDeleting(undefined);
      list.reload();
      onChanged();
    } catch (e) {
      toast("error", describeError(e));
    }
  }
  return (
    <section className="card" aria-labelledby="wf-keys">
      <div className="card-head">
        <h2 id="wf-keys">Keys of {service}</h2>
        <button type="button" className="btn-primary" onClick={() => setAdding(true)}>
          Add key
        </button>
      </div>
      <Listed list={list} items={list.data} what="keys" empty="This service has no keys yet.">
        {(keys) => (
          <Table label="Workflow keys" columns={["Name", "Type", "Details", "Updated"]} actions>
            {keys.map((k) => (
              <tr key={k.name}>
                <td>{k.name}</td>
                <td>
                  <Badge>{LABEL[k.type] ?? k.type}</Badge>
                </td>
                <td className="small">
                  {k.info ? Object.entries(k.info).map(([f, v]) => <div key={f}>{f}: {v}</div>) : null}
                  {k.valueNames ? <div>variables: {k.valueNames.join(", ")}</div> : null}
                  <div className="muted">secret fields hidden</div>
                </td>
                <td>{fmtTime(k.updatedAt)}</td>
                <td>
                  <button type="button" className="btn-link danger" onClick={() => setDeleting(k)} aria-label={`Delete workflow key ${k.name}`}>
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </Table>
        )}
      </Listed>
      {adding ? (
        <AddKey
          base={base}
          service={service}
          onClose={(done) => {
            setAdding(false);
            if (done) {
              list.reload();
              onChanged();
            }
          }}
        />
      ) : null}
      {deleting ? (
        <ConfirmDelete title={`Delete key ${deleting.name}`} confirm="Delete key" onCancel={() => setDeleting(undefined)} onConfirm={() => void remove(deleting)}>
          <p>Workflows that declare this key fail to resolve until a key of that name exists again.</p>
        </ConfirmDelete>
      ) : null}
    </section>
  );
}

function AddKey({ base, service, onClose }: { base: string; service: string; onClose: (done: boolean) => void }) {
  const s = useSession();
  const toast = useToast();
  const [type, setType] = useState<WorkflowKeyType>("ImageRepository");
  const [f, setF] = useState({ name: "", registryDomain: "", username: "", password: "", secretId: "", secretKey: "", tenantName: "", tenantId: "", tenantKey: "" });
  const [pairs, setPairs] = useState<{ key: string; value: string }[]>([{ key: "", value: "" }]);
  const [e, setE] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const set = (k: keyof typeof f) => (v: string) => setF({ ...f, [k]: v });
  const need = (v: string, msg: string) => (v ? undefined : msg);

  function validate(): Errors {
    const nameErr = (n: string) => (KEY_NAME.test(n) ? undefined : "Enter a key name: 1-60 letters, digits, _ and -. It must be unique within the workflow service.");
    if (type === "ImageRepository")
      return { name: nameErr(f.name), registryDomain: need(f.registryDomain, "Enter the domain name of the target image repository."), username: need(f.username, "Enter the username of the image's permanent access credential."), password: need(f.password, "Enter the password (key) of the permanent access credential.") };
    if (type === "ObjectStorage") return { name: nameErr(f.name), secretId: need(f.secretId, "Enter the API SecretId."), secretKey: need(f.secretKey, "Enter the API SecretKey.") };
    if (type === "FunctionInvocation") return { tenantName: nameErr(f.tenantName), tenantId: need(f.tenantId, "Enter the TenantId (SecretId)."), tenantKey: need(f.tenantKey, "Enter the TenantKey (SecretKey).") };
    const real = pairs.filter((p) => p.key || p.value);
    const names = real.map((p) => p.key);
    return {
      name: nameErr(f.name),
      values:
        real.length === 0
          ? "Enter content as Key - Value pairs (at least one)."
          : real.length > 50
            ? "A custom key has at most 50 pairs."
            : names.some((n) => !VALUE_NAME.test(n))
              ? "A variable name is a letter or _, then up to 63 letters, digits, _ . -."
              : new Set(names).size !== names.length
                ? "Variable names must be unique."
                : real.some((p) => !p.value)
                  ? "Every variable needs a value."
                  : undefined,
    };
  }

  function body(): Record<string, unknown> {
    if (type === "ImageRepository") return { type, name: f.name, registryDomain: f.registryDomain, username: f.username, password: f.password };
    if (type === "ObjectStorage") return { type, name: f.name, secretId: f.secretId, secretKey: f.secretKey };
    if (type === "FunctionInvocation") return { type, tenantName: f.tenantName, tenantId: f.tenantId, tenantKey: f.tenantKey };
    return { type, name: f.name, values: Object.fromEntries(pairs.filter((p) => p.key).map((p) => [p.key, p.value])) };
  }

  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const errs = validate();
    setE(errs);
    if (hasErrors(errs)) return;
    setBusy(true);
    try {
      const k = await s.api.post<WorkflowKey>(base, body());
      setF((x) => ({ ...x, password: "", secretKey: "", tenantKey: "" }));
      setPairs([]);
      toast("ok", `${LABEL[type]} ${k.name} added to ${service}.`);
      onClose(true);
    } catch (x) {
      const field = fieldOfError(x, {
        name: [/key name/i, /already has a key/i],
        tenantName: [/tenantName/i],
        registryDomain: [/registryDomain/],
        username: [/username/],
        password: [/password/],
        secretId: [/secretId/],
        secretKey: [/secretKey/],
        tenantId: [/tenantId/],
        tenantKey: [/tenantKey/],
        values: [/value/i],
      });
      setE({ [field === "name" && type === "FunctionInvocation" ? "tenantName" : (field ?? "form")]: describeError(x) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal title="Add Key" onClose={() => onClose(false)} wide>
      <form onSubmit={submit} noValidate>
        <Select label="Key type" name="wf-type" value={type} onChange={(v) => { setType(v); setE({}); }} options={TYPES} />
        {type === "ImageRepository" ? (
          <>
            <TextField label="Key name" name="wf-name" value={f.name} onChange={set("name")} error={e.name} required hint="A custom key name, unique within the same workflow service." />
            <TextField label="Image repository domain" name="wf-registryDomain" value={f.registryDomain} onChange={set("registryDomain")} error={e.registryDomain} required placeholder="registry.example.com" />
            <TextField label="Username" name="wf-username" value={f.username} onChange={set("username")} error={e.username} required />
            <TextField label="Key" name="wf-password" type="password" autoComplete="new-password" value={f.password} onChange={set("password")} error={e.password} required hint="The password of the permanent access credential." />
          </>
        ) : null}
        {type === "ObjectStorage" ? (
          <>
            <TextField label="Key name" name="wf-name" value={f.name} onChange={set("name")} error={e.name} required hint="A custom key name, unique within the same workflow service." />
            <TextField label="SecretId" name="wf-secretId" value={f.secretId} onChange={set("secretId")} error={e.secretId} required />
            <TextField label="SecretKey" name="wf-secretKey" type="password" autoComplete="new-password" value={f.secretKey} onChange={set("secretKey")} error={e.secretKey} required />
          </>
        ) : null}
        {type === "FunctionInvocation" ? (
          <>
            <TextField label="TenantName" name="wf-tenantName" value={f.tenantName} onChange={set("tenantName")} error={e.tenantName} required hint="The key's name: the Tenant parameter for invoking functions in the YAML file." />
            <TextField label="TenantId" name="wf-tenantId" value={f.tenantId} onChange={set("tenantId")} error={e.tenantId} required hint="SecretId." />
            <TextField label="TenantKey" name="wf-tenantKey" type="password" autoComplete="new-password" value={f.tenantKey} onChange={set("tenantKey")} error={e.tenantKey} required hint="SecretKey." />
          </>
        ) : null}
        {type === "Custom" ? (
          <>
            <TextField label="Key name" name="wf-name" value={f.name} onChange={set("name")} error={e.name} required hint="A custom key name, unique within the same workflow service." />
            <PairsEditor legend="Key content" name="wf-values" pairs={pairs} onChange={setPairs} keyLabel="Variable name" valueLabel="Variable value" addLabel="Add variable" secretValues max={50} error={e.values} hint="Variable name - Variable value pairs, e.g. MYSQL_HOST / MYSQL_PASSWORD." />
          </>
        ) : null}
        <FormError error={e.form} />
        <FormActions onCancel={() => onClose(false)} submit="OK" busy={busy} />
      </form>
    </Modal>
  );
}
