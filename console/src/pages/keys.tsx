import { useState, type FormEvent } from "react";
import { enc } from "../api.ts";
import { Link, useRouter } from "../router.tsx";
import { useSession } from "../session.tsx";
import type { Alias, Key, KeyVersion, Tag } from "../types.ts";
import { Badge, Checkbox, FormActions, FormError, Listed, LoadError, Loading, Modal, PageHead, PairsEditor, Table, TextArea, TextField, fmtTime, useLoad, useToast } from "../ui.tsx";
import { MSG, checkIntRange, checkTags, cleanTags, describeError, fieldOfError, hasErrors, type Errors } from "../validation.ts";

const stateBadge = (k: Key) => <Badge kind={k.keyState === "Enabled" ? "ok" : k.keyState === "Disabled" ? "warn" : "bad"}>{k.keyState}</Badge>;
const ALIAS = /^alias\/[A-Za-z0-9:/_-]{1,249}$/;
const ALIAS_MSG = "An alias is alias/ followed by 1-249 letters, digits and : / _ -.";

/** KMS keys: list and create. */
export function KeysPage() {
  const s = useSession();
  const { navigate } = useRouter();
  const [creating, setCreating] = useState(false);
  const keys = useLoad(() => s.api.get<{ keys: Key[]; nextToken: string | null }>("/v1/keys", { limit: 100 }), [s.scopeKey]);
  return (
    <div>
      <PageHead title="KMS keys" intro="Customer master keys (AES-256) that encrypt secrets by envelope encryption.">
        <button type="button" className="btn-primary" onClick={() => setCreating(true)}>
          Create key
        </button>
      </PageHead>
      <Listed list={keys} items={keys.data?.keys} what="keys" empty="No keys in this scope yet (the default key is created with the first secret).">
        {(items) => (
          <Table label="Keys" columns={["Key", "Aliases", "State", "Rotation", "Created"]}>
            {items.map((k) => (
              <tr key={k.keyId}>
                <td>
                  <Link to={`/keys/${enc(k.keyId)}`}>
                    <code>{k.keyId}</code>
                  </Link>
                  {k.isDefault ? <Badge>default</Badge> : null}
                  {k.description ? <div className="muted small">{k.description}</div> : null}
                </td>
                <td>{k.aliases.join(", ") || <span className="muted">—</span>}</td>
                <td>
                  {stateBadge(k)}
                  {k.deleteDate ? <div className="muted small">deleted at {fmtTime(k.deleteDate)}</div> : null}
                </td>
                <td>{k.automaticRotation === "Enabled" ? `every ${Math.round((k.rotationIntervalSeconds ?? 0) / 86_400)} days` : <span className="muted">manual</span>}</td>
                <td className="nowrap">{fmtTime(k.createdAt)}</td>
              </tr>
            ))}
          </Table>
        )}
      </Listed>
      {creating ? (
        <CreateKey
          onClose={(id) => {
            setCreating(false);
            if (id) navigate(`/keys/${enc(id)}`);
          }}
        />
      ) : null}
    </div>
  );
}

function CreateKey({ onClose }: { onClose: (keyId?: string) => void }) {
  const s = useSession();
  const toast = useToast();
  const [description, setDescription] = useState("");
  const [alias, setAlias] = useState("");
  const [tags, setTags] = useState<Tag[]>([]);
  const [rotate, setRotate] = useState(false);
  const [days, setDays] = useState("365");
  const [e, setE] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const errs: Errors = { tags: checkTags(tags), aliasName: alias && !ALIAS.test(alias) ? ALIAS_MSG : undefined, days: rotate ? checkIntRange(days, 7, 365, "The rotation interval is 7 to 365 days.") : undefined };
    setE(errs);
    if (hasErrors(errs)) return;
    setBusy(true);
    try {
      const k = await s.api.post<Key>("/v1/keys", { description: description || undefined, tags: cleanTags(tags).length ? cleanTags(tags) : undefined, rotationIntervalSeconds: rotate ? Number(days) * 86_400 : undefined });
      if (alias) {
        try {
          await s.api.post("/v1/aliases", { aliasName: alias, keyId: k.keyId });
        } catch (err) {
          toast("error", `Key created, but the alias was refused: ${describeError(err)}`);
        }
      }
      toast("ok", `Key ${k.keyId} created.`);
      onClose(k.keyId);
    } catch (err) {
      setE({ [fieldOfError(err, { description: [/description/i], tags: [/tag/i], days: [/rotation/i] }) ?? "form"]: describeError(err) });
    } finally {
      setBusy(false);
    }
  }
  return (
    <Modal title="Create key" onClose={() => onClose()}>
      <form onSubmit={submit} noValidate>
        <TextArea label="Description" name="key-description" rows={2} value={description} onChange={setDescription} error={e.description} autoFocus />
        <TextField label="Alias" name="key-alias" value={alias} onChange={setAlias} error={e.aliasName} placeholder="alias/payments" hint="Optional. " />
        <PairsEditor legend="Tags" name="key-tags" pairs={tags} onChange={setTags} keyLabel="Tag key" valueLabel="Tag value" addLabel="Add tag" max={20} error={e.tags} />
        <Checkbox label="Automatic rotation" name="key-rotate" checked={rotate} onChange={setRotate} />
        {rotate ? <TextField label="Rotation interval (days)" name="key-rotate-days" value={days} onChange={setDays} inputMode="numeric" error={e.days} hint="7 to 365 days." /> : null}
        <FormError error={e.form} />
        <FormActions onCancel={() => onClose()} submit="Create key" busy={busy} />
      </form>
    </Modal>
  );
}

/** One key: enable/disable, rotate (new version), rotation policy, aliases, scheduled deletion. */
export function KeyDetailPage({ keyId }: { keyId: string }) {
  const s = useSession();
  const toast = useToast();
  const path = `/v1/keys/${enc(keyId)}`;
  const key = useLoad(() => s.api.get<Key>(path), [s.scopeKey, keyId]);
  const versions = useLoad(() => s.api.get<{ versions: KeyVersion[] }>(`${path}/versions`, { limit: 100 }), [s.scopeKey, keyId]);
  const [dialog, setDialog] = useState<"delete" | "alias" | "rotation">();
  const [error, setError] = useState<string>();
  const k = key.data;
  const reload = () => {
    key.reload();
    versions.reload();
  };
  async function act(what: string, fn: () => Promise<unknown>) {
    setError(undefined);
    try {
      await fn();
      toast("ok", what);
      reload();
    } catch (err) {
      setError(describeError(err));
    }
  }
  return (
    <div>
      <PageHead title={k?.aliases[0] ?? "Key"} intro={<Link to="/keys">← KMS keys</Link>}>
        {k ? (
          <>
            {k.keyState === "Enabled" ? (
              <button type="button" className="btn" onClick={() => void act("Key disabled.", () => s.api.post(`${path}/disable`))}>
                Disable
              </button>
            ) : null}
            {k.keyState === "Disabled" ? (
              <button type="button" className="btn" onClick={() => void act("Key enabled.", () => s.api.post(`${path}/enable`))}>
                Enable
              </button>
            ) : null}
            {k.keyState !== "PendingDeletion" ? (
              <button type="button" className="btn" onClick={() => void act("New key version created; it is now primary.", () => s.api.post(`${path}/versions`))}>
                Rotate now
              </button>
            ) : null}
            {k.keyState === "PendingDeletion" ? (
              <button type="button" className="btn-primary" onClick={() => void act("Deletion cancelled; the key is enabled.", () => s.api.post(`${path}/cancel-deletion`))}>
                Cancel deletion
              </button>
            ) : (
              <button type="button" className="btn-danger" onClick={() => setDialog("delete")}>
                Schedule deletion
              </button>
            )}
          </>
        ) : null}
      </PageHead>
      <FormError error={error} />
      {key.loading && !k ? <Loading what="the key" /> : null}
      {key.error ? <LoadError error={key.error} retry={key.reload} /> : null}
      {k ? (
        <>
          <section className="card" aria-labelledby="key-meta">
            <h2 id="key-meta">Details</h2>
            <dl className="props">
              <dt>Key id</dt>
              <dd>
                <code>{k.keyId}</code>
              </dd>
              <dt>ARN</dt>
              <dd>
                <code>{k.arn}</code>
              </dd>
              <dt>State</dt>
              <dd>
                {stateBadge(k)} {k.deleteDate ? `deleted at ${fmtTime(k.deleteDate)} (${k.pendingWindowDays} days)` : ""}
              </dd>
              <dt>Spec / usage</dt>
              <dd>
                {k.keySpec} · {k.keyUsage} · {k.origin}
              </dd>
              <dt>Description</dt>
              <dd>{k.description || <span className="muted">none</span>}</dd>
              <dt>Tags</dt>
              <dd>
                {k.tags.length
                  ? k.tags.map((t) => (
                      <span className="tag" key={t.key}>
                        {t.key}
                        {t.value ? `=${t.value}` : ""}
                      </span>
                    ))
                  : "—"}
              </dd>
              <dt>Created</dt>
              <dd>{fmtTime(k.createdAt)}</dd>
            </dl>
          </section>
          <section className="card" aria-labelledby="key-rotation">
            <h2 id="key-rotation">Rotation</h2>
            <dl className="props">
              <dt>Automatic rotation</dt>
              <dd>{k.automaticRotation === "Enabled" ? <Badge kind="ok">every {Math.round((k.rotationIntervalSeconds ?? 0) / 86_400)} days</Badge> : <Badge>disabled</Badge>}</dd>
              <dt>Next rotation</dt>
              <dd>{fmtTime(k.nextRotationAt)}</dd>
              <dt>Last rotation</dt>
              <dd>{fmtTime(k.lastRotationAt)}</dd>
              <dt>Primary version</dt>
              <dd>
                <code>{k.primaryKeyVersion}</code>
              </dd>
            </dl>
            <button type="button" className="btn" onClick={() => setDialog("rotation")} disabled={k.keyState === "PendingDeletion"}>
              Rotation policy
            </button>
            <h3>Versions</h3>
            {versions.data ? (
              <ul className="plain">
                {versions.data.versions.map((v) => (
                  <li key={v.keyVersionId}>
                    <code>{v.keyVersionId}</code> · {fmtTime(v.createdAt)} {v.keyVersionId === k.primaryKeyVersion ? <Badge kind="ok">primary</Badge> : null}
                  </li>
                ))}
              </ul>
            ) : null}
          </section>
          <Aliases keyId={k.keyId} onChange={key.reload} />
        </>
      ) : null}
      {dialog === "delete" && k ? (
        <ScheduleDeletion
          path={path}
          onClose={(done) => {
            setDialog(undefined);
            if (done) reload();
          }}
        />
      ) : null}
      {dialog === "rotation" && k ? (
        <RotationPolicy
          k={k}
          path={path}
          onClose={(done) => {
            setDialog(undefined);
            if (done) reload();
          }}
        />
      ) : null}
    </div>
  );
}

function ScheduleDeletion({ path, onClose }: { path: string; onClose: (done: boolean) => void }) {
  const s = useSession();
  const toast = useToast();
  const [days, setDays] = useState("30");
  const [e, setE] = useState<Errors>({});
  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const err = checkIntRange(days, 7, 366, MSG.keyDeletion);
    setE({ days: err });
    if (err) return;
    try {
      const k = await s.api.post<Key>(`${path}/schedule-deletion`, { pendingWindowDays: Number(days) });
      toast("ok", `Key scheduled for deletion at ${fmtTime(k.deleteDate)}.`);
      onClose(true);
    } catch (x) {
      setE({ [fieldOfError(x, { days: [/pending/i, /window/i, /days/i] }) ?? "form"]: describeError(x) });
    }
  }
  return (
    <Modal title="Schedule key deletion" onClose={() => onClose(false)}>
      <form onSubmit={submit} noValidate>
        <p>Every secret and ciphertext encrypted under this key becomes unreadable once the key is deleted. Until then the key is unusable but can be restored (cancel deletion).</p>
        <TextField label="Waiting period (days)" name="pendingWindowDays" value={days} onChange={setDays} inputMode="numeric" error={e.days} hint="7 to 366 days." />
        <FormError error={e.form} />
        <FormActions onCancel={() => onClose(false)} submit="Schedule deletion" danger />
      </form>
    </Modal>
  );
}

function RotationPolicy({ k, path, onClose }: { k: Key; path: string; onClose: (done: boolean) => void }) {
  const s = useSession();
  const [enabled, setEnabled] = useState(k.automaticRotation === "Enabled");
  const [days, setDays] = useState(String(k.rotationIntervalSeconds ? Math.round(k.rotationIntervalSeconds / 86_400) : 365));
  const [e, setE] = useState<Errors>({});
  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const err = enabled ? checkIntRange(days, 7, 365, "The rotation interval is 7 to 365 days.") : undefined;
    setE({ days: err });
    if (err) return;
    try {
      await s.api.put(`${path}/rotation`, { enabled, rotationIntervalSeconds: enabled ? Number(days) * 86_400 : undefined });
      onClose(true);
    } catch (x) {
      setE({ [fieldOfError(x, { days: [/interval/i] }) ?? "form"]: describeError(x) });
    }
  }
  return (
    <Modal title="Key rotation policy" onClose={() => onClose(false)}>
      <form onSubmit={submit} noValidate>
        <Checkbox label="Rotate automatically" name="kr-enabled" checked={enabled} onChange={setEnabled} />
        {enabled ? <TextField label="Interval (days)" name="kr-days" value={days} onChange={setDays} inputMode="numeric" error={e.days} hint="7 to 365 days." /> : null}
        <FormError error={e.form} />
        <FormActions onCancel={() => onClose(false)} submit="Save" />
      </form>
    </Modal>
  );
}

function Aliases({ keyId, onChange }: { keyId: string; onChange: () => void }) {
  const s = useSession();
  const toast = useToast();
  const aliases = useLoad(() => s.api.get<{ aliases: Alias[] }>("/v1/aliases", { keyId, limit: 100 }), [keyId, s.scopeKey]);
  const [name, setName] = useState("");
  const [e, setE] = useState<Errors>({});
  async function add(ev: FormEvent) {
    ev.preventDefault();
    const err = ALIAS.test(name) ? undefined : ALIAS_MSG;
    setE({ aliasName: err });
    if (err) return;
    try {
      await s.api.post("/v1/aliases", { aliasName: name, keyId });
      setName("");
      toast("ok", `Alias ${name} created.`);
      aliases.reload();
      onChange();
    } catch (x) {
      setE({ [fieldOfError(x, { aliasName: [/alias/i] }) ?? "form"]: describeError(x) });
    }
  }
  async function remove(a: string) {
    try {
      await s.api.delete(`/v1/aliases/${enc(a)}`);
      toast("ok", `Alias ${a} deleted.`);
      aliases.reload();
      onChange();
    } catch (x) {
      setE({ form: describeError(x) });
    }
  }
  return (
    <section className="card" aria-labelledby="key-aliases">
      <h2 id="key-aliases">Aliases</h2>
      {aliases.error ? <LoadError error={aliases.error} /> : null}
      {aliases.data ? (
        aliases.data.aliases.length ? (
          <ul className="plain">
            {aliases.data.aliases.map((a) => (
              <li key={a.aliasName}>
                <code>{a.aliasName}</code>{" "}
                <button type="button" className="btn-link" onClick={() => void remove(a.aliasName)} aria-label={`Delete alias ${a.aliasName}`}>
                  Delete
                </button>
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">No aliases.</p>
        )
      ) : null}
      <form onSubmit={add} noValidate className="inline-form-row" aria-label="Add an alias">
        <TextField label="New alias" name="aliasName" value={name} onChange={setName} error={e.aliasName} placeholder="alias/payments" />
        <button type="submit" className="btn">
          Add alias
        </button>
      </form>
      <FormError error={e.form} />
    </section>
  );
}
