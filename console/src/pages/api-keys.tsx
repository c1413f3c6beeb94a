import { useEffect, useState, type FormEvent } from "react";
import { enc } from "../api.ts";
import { useSession } from "../session.tsx";
import type { ApiKey, PrincipalView } from "../types.ts";
import { Badge, ConfirmDelete, FormActions, FormError, Listed, Modal, PageHead, Radios, Select, Table, TextArea, TextField, copyText, downloadText, fmtTime, useLoad, useToast } from "../ui.tsx";
import { describeError, fieldOfError, hasErrors, type Errors } from "../validation.ts";

/** API keys of users and service accounts; a new key's secret is shown once, with copy and download. */
export function ApiKeysPage() {
  const s = useSession();
  const toast = useToast();
  const [owner, setOwner] = useState("");
  const keys = useLoad(() => s.api.get<{ apiKeys: ApiKey[] }>("/v1/api-keys", { limit: 100, owner: owner || undefined }, { scoped: false }), [owner]);
  const principals = usePrincipals();
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<ApiKey>();
  const [deleting, setDeleting] = useState<ApiKey>();

  async function remove(k: ApiKey) {
    try {
      await s.api.delete(`/v1/api-keys/${enc(k.id)}`, undefined, { scoped: false });
      toast("ok", `API key ${k.id} deleted; it stopped working.`);
      setDeleting(undefined);
      keys.reload();
    } catch (e) {
      toast("error", describeError(e));
    }
  }
  const nameOf = (id: string) => principals.find((p) => p.id === id)?.name;

  return (
    <div>
      <PageHead title="API keys" intro="Keys authenticate programs (HTTP Basic: key id and secret). A key scoped to an environment and region works only there.">
        <button type="button" className="btn-primary" onClick={() => setCreating(true)}>
          Create API key
        </button>
      </PageHead>
      {created ? (
        <SecretOnce
          k={created}
          ownerName={nameOf(created.ownerId)}
          onDone={() => {
            setCreated(undefined);
            keys.reload();
          }}
        />
      ) : null}
      <div className="filters">
        <Select label="Owner" name="filter-owner" value={owner} onChange={setOwner} options={[["", "All owners"], ...principals.map((p) => [p.id, `${p.name} (${p.id})`] as const)]} />
      </div>
      <Listed list={keys} items={keys.data?.apiKeys} what="API keys" empty="No API keys.">
        {(apiKeys) => (
          <Table label="API keys" columns={["Key id", "Owner", "Scope", "Name", "State", "Created"]} actions>
            {apiKeys.map((k) => (
              <tr key={k.id}>
                <td>
                  <code>{k.id}</code>
                </td>
                <td>
                  {nameOf(k.ownerId) ?? k.ownerId} <span className="muted small">{k.ownerKind}</span>
                </td>
                <td>{k.environmentId ? `${k.environmentId} / ${k.region}` : <Badge>organization-wide</Badge>}</td>
                <td>{k.displayName || <span className="muted">—</span>}</td>
                <td>
                  <Badge kind={k.state === "active" ? "ok" : "warn"}>{k.state}</Badge>
                </td>
                <td>{fmtTime(k.createdAt)}</td>
                <td>
                  {k.ownerKind === "root" ? null : (
                    <button type="button" className="btn-link" onClick={() => setDeleting(k)} aria-label={`Delete API key ${k.id}`}>
                      Delete
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </Table>
        )}
      </Listed>
      {creating ? (
        <CreateApiKey
          principals={principals}
          onClose={(k) => {
            setCreating(false);
            if (k) {
              setCreated(k);
              keys.reload(); // the new key is listed below its one-time panel at once
            }
          }}
        />
      ) : null}
      {deleting ? (
        <ConfirmDelete title={`Delete API key ${deleting.id}`} confirm="Delete key" onCancel={() => setDeleting(undefined)} onConfirm={() => void remove(deleting)}>
          <p>Programs using this key fail at once. This cannot be undone.</p>
        </ConfirmDelete>
      ) : null}
    </div>
  );
}

function usePrincipals(): PrincipalView[] {
  const s = useSession();
  const [list, setList] = useState<PrincipalView[]>([]);
  useEffect(() => {
    void Promise.all([
      s.api.get<{ users: PrincipalView[] }>("/v1/users", { limit: 100 }, { scoped: false }).then((r) => r.users, () => []),
      s.api.get<{ serviceAccounts: PrincipalView[] }>("/v1/service-accounts", { limit: 100 }, { scoped: false }).then((r) => r.serviceAccounts, () => []),
    ]).then(([u, sa]) => setList([...u, ...sa]));
  }, [s.api]);
  return list;
}

function CreateApiKey({ principals, onClose }: { principals: PrincipalView[]; onClose: (k?: ApiKey) => void }) {
  const s = useSession();
  const [ownerKind, setOwnerKind] = useState<"user" | "service-account">(principals.some((p) => p.kind === "service-account") ? "service-account" : "user");
  const me = s.whoami?.principalId;
  const choices = principals.filter((p) => p.kind === ownerKind);
  const [owner, setOwner] = useState(ownerKind === "user" && me ? me : (choices[0]?.id ?? ""));
  const [scoped, setScoped] = useState<"scoped" | "org">("scoped");
  const [environment, setEnvironment] = useState(s.scope.environment);
  const [region, setRegion] = useState(s.scope.region);
  const [displayName, setDisplayName] = useState("");
  const [description, setDescription] = useState("");
  const [e, setE] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const env = s.environments?.find((x) => x.id === environment || x.name === environment);
  // The owner list may arrive after the dialog opened: pick the first one then.
  useEffect(() => {
    if (!owner && choices[0]) setOwner(ownerKind === "user" && me ? me : choices[0].id);
  }, [choices.length]); // eslint-disable-line react-hooks/exhaustive-deps

  function pickKind(k: "user" | "service-account") {
    setOwnerKind(k);
    const first = principals.find((p) => p.kind === k);
    setOwner(k === "user" && me ? me : (first?.id ?? ""));
  }

  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const errs: Errors = {
      owner: owner ? undefined : ownerKind === "user" ? "Choose the user that owns the key." : "Choose the service account that owns the key (create one first).",
      region: scoped === "scoped" && !/^[a-z0-9][a-z0-9-]{0,62}$/i.test(region) ? "Choose the region the key is scoped to." : undefined,
      displayName: displayName.length > 128 ? "The name is at most 128 characters." : undefined,
    };
    setE(errs);
    if (hasErrors(errs)) return;
    setBusy(true);
    try {
      const k = await s.api.post<ApiKey>(
        "/v1/api-keys",
        { owner, environment: scoped === "scoped" ? environment : undefined, region: scoped === "scoped" ? region : undefined, displayName: displayName || undefined, description: description || undefined },
        { scoped: false },
      );
      onClose(k);
    } catch (x) {
      setE({ [fieldOfError(x, { owner: [/owner/i], environment: [/environment/i], region: [/region/i], displayName: [/display/i] }) ?? "form"]: describeError(x) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <Modal title="Create API key" onClose={() => onClose()} wide>
      <form onSubmit={submit} noValidate>
        <Radios
          legend="Owner"
          name="owner-kind"
          value={ownerKind}
          onChange={pickKind}
          options={[
            ["user", "My account or another user", "for interactive work and short-lived jobs"],
            ["service-account", "Service account", "for long-running workloads (recommended in production)"],
          ]}
        />
        <Select
          label={ownerKind === "user" ? "User" : "Service account"}
          name="owner"
          value={owner}
          onChange={setOwner}
          error={e.owner}
          options={[["", choices.length ? "Choose…" : "None exist yet"], ...choices.map((p) => [p.id, `${p.name} (${p.id})${p.id === me ? " — you" : ""}`] as const)]}
        />
        <Radios
          legend="Resource scope"
          name="scope"
          value={scoped}
          onChange={setScoped}
          options={[
            ["scoped", "An environment and region", "the key works only there (resource id env.cloud.region)"],
            ["org", "Organization-wide", "every environment and region, and the organization APIs"],
          ]}
        />
        {scoped === "scoped" ? (
          <div className="row">
            {s.environments ? (
              <Select label="Environment" name="key-environment" value={env?.id ?? environment} onChange={(v) => { setEnvironment(v); setRegion(s.environments?.find((x) => x.id === v)?.regions[0] ?? region); }} error={e.environment} options={s.environments.map((x) => [x.id, `${x.name} (${x.id})`] as const)} />
            ) : (
              <TextField label="Environment" name="key-environment" value={environment} onChange={setEnvironment} error={e.environment} />
            )}
            <TextField label="Region" name="key-region" value={region} onChange={setRegion} error={e.region} hint={env ? `Offered: ${env.regions.join(", ") || "none yet"}` : undefined} />
          </div>
        ) : null}
        <TextField label="Name" name="key-name" value={displayName} onChange={setDisplayName} error={e.displayName} hint="Optional." />
        <TextArea label="Description" name="key-description" rows={2} value={description} onChange={setDescription} />
        <FormError error={e.form} />
        <FormActions onCancel={() => onClose()} submit="Create API key" busy={busy} />
      </form>
    </Modal>
  );
}

/**
 * The only place a secret is ever shown: in this component's state until "Done". It is
 * not kept anywhere else; the list never has it.
 */
function SecretOnce({ k, ownerName, onDone }: { k: ApiKey; ownerName: string | undefined; onDone: () => void }) {
  const toast = useToast();
  const [saved, setSaved] = useState(false);
  const secret = k.secret ?? "";
  const file = {
    keyId: k.id,
    secret,
    owner: k.ownerId,
    ownerName: ownerName ?? null,
    environmentId: k.environmentId,
    region: k.region,
    cloud: k.cloud,
    endpoint: window.location.origin,
    createdAt: k.createdAt,
  };
  return (
    <section className="card secret-once" aria-labelledby="once-title" role="region">
      <h2 id="once-title">Save this API key now</h2>
      <p>The secret is shown only this once. Coffer cannot show it again; if you lose it, delete the key and create another.</p>
      <dl className="props">
        <dt>Key id</dt>
        <dd>
          <code data-testid="new-key-id">{k.id}</code>
        </dd>
        <dt>Secret</dt>
        <dd>
          <code className="secret" data-testid="new-key-secret">
            {secret}
          </code>
        </dd>
        <dt>Scope</dt>
        <dd>{k.environmentId ? `${k.environmentId} / ${k.region}` : "organization-wide"}</dd>
      </dl>
      <div className="form-actions left">
        <button
          type="button"
          className="btn"
          onClick={() =>
            void copyText(`${k.id}:${secret}`).then((ok) => {
              toast(ok ? "ok" : "error", ok ? "Key id and secret copied (id:secret)." : "The browser refused the clipboard; use Download.");
              if (ok) setSaved(true);
            })
          }
        >
          Copy
        </button>
        <button
          type="button"
          className="btn"
          onClick={() => {
            downloadText(`coffer-api-key-${k.id}.json`, `${JSON.stringify(file, null, 2)}\n`);
            setSaved(true);
          }}
        >
          Download
        </button>
        <button type="button" className="btn-primary" onClick={onDone}>
          {saved ? "Done" : "Done (I saved it)"}
        </button>
      </div>
    </section>
  );
}
