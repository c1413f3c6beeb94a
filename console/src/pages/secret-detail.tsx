import { useEffect, useRef, useState, type FormEvent } from "react";
import { ApiError, enc } from "../api.ts";
import { Link, useRouter } from "../router.tsx";
import { fmtInterval, intervalBounds, managedConfigOf, toSeconds, typeLabel, type IntervalUnit } from "../secret-types.ts";
import { useSession } from "../session.tsx";
import type { RotationStatus, Secret, SecretValue, SecretVersion, Tag } from "../types.ts";
import { Badge, Checkbox, FormActions, FormError, LoadError, Loading, Modal, PageHead, PairsEditor, Progress, Select, TextArea, TextField, copyText, fmtTime, useLoad, useToast } from "../ui.tsx";
import { MSG, checkIntRange, checkTags, checkValue, checkVersionId, cleanTags, describeError, fieldOfError, hasErrors, type Errors } from "../validation.ts";

/** One secret: metadata, versions and stages, reveal on click, new version, rotation, deletion. */
export function SecretDetailPage({ name }: { name: string }) {
  const s = useSession();
  const path = `/v1/secrets/${enc(name)}`;
  const secret = useLoad(() => s.api.get<Secret>(path), [s.scopeKey, name]);
  const versions = useLoad(() => s.api.get<{ versions: SecretVersion[] }>(`${path}/versions`, { includeDeprecated: true }), [s.scopeKey, name]);
  const reload = () => {
    secret.reload();
    versions.reload();
  };
  const x = secret.data;
  const deleted = Boolean(x?.plannedDeleteTime || x?.deletedAt);

  return (
    <div>
      <PageHead title={name} intro={<Link to="/secrets">← Secrets</Link>}>{x ? <DeleteRestore secret={x} onChange={reload} /> : null}</PageHead>
      {secret.loading && !x ? <Loading what="the secret" /> : null}
      {secret.error ? <LoadError error={secret.error} retry={secret.reload} /> : null}
      {x ? (
        <>
          {deleted ? (
            <div className="notice notice-warn" role="status">
              This secret is deleted and will be purged at {fmtTime(x.plannedDeleteTime)}. Restore it to use it again.
            </div>
          ) : null}
          <section className="card" aria-labelledby="sec-meta">
            <h2 id="sec-meta">Details</h2>
            <dl className="props">
              <dt>Type</dt>
              <dd>{typeLabel(x)}</dd>
              <dt>ARN</dt>
              <dd>
                <code>{x.arn}</code>
              </dd>
              <dt>KMS key</dt>
              <dd>
                <Link to={`/keys/${enc(x.keyId)}`}>{x.keyId}</Link>
              </dd>
              <dt>Created</dt>
              <dd>{fmtTime(x.createdAt)}</dd>
              <dt>Updated</dt>
              <dd>{fmtTime(x.updatedAt)}</dd>
              <dt>Last accessed</dt>
              <dd>{fmtTime(x.lastAccessedAt as string | null)}</dd>
            </dl>
            <Description secret={x} path={path} onChange={secret.reload} disabled={deleted} />
            <Tags secret={x} path={path} onChange={secret.reload} disabled={deleted} />
          </section>
          <Versions name={name} path={path} versions={versions.data?.versions} error={versions.error} loading={versions.loading} onChange={reload} disabled={deleted} />
          {deleted || ownTypeOnly(x) ? null : <PutVersion secret={x} path={path} onDone={reload} />}
          <RotationSection secret={x} path={path} onChange={reload} disabled={deleted} />
          <PolicySection path={path} />
        </>
      ) : null}
    </div>
  );
}

function Description({ secret, path, onChange, disabled }: { secret: Secret; path: string; onChange: () => void; disabled: boolean }) {
  const s = useSession();
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState(secret.description);
  const [error, setError] = useState<string>();
  async function save(e: FormEvent) {
    e.preventDefault();
    try {
      await s.api.patch(path, { description: text });
      setEditing(false);
      onChange();
    } catch (err) {
      setError(describeError(err));
    }
  }
  if (!editing)
    return (
      <div className="inline-prop">
        <strong>Description</strong> <span>{secret.description || <span className="muted">none</span>}</span>{" "}
        {disabled ? null : (
          <button type="button" className="btn-link" onClick={() => setEditing(true)}>
            Edit
          </button>
        )}
      </div>
    );
  return (
    <form onSubmit={save} className="inline-edit">
      <TextArea label="Description" name="description" rows={2} value={text} onChange={setText} error={error} autoFocus />
      <button type="submit" className="btn-small">
        Save
      </button>{" "}
      <button type="button" className="btn-link" onClick={() => setEditing(false)}>
        Cancel
      </button>
    </form>
  );
}

function Tags({ secret, path, onChange, disabled }: { secret: Secret; path: string; onChange: () => void; disabled: boolean }) {
  const s = useSession();
  const toast = useToast();
  const [editing, setEditing] = useState(false);
  const [tags, setTags] = useState<Tag[]>(secret.tags);
  const [error, setError] = useState<string>();
  async function save(e: FormEvent) {
    e.preventDefault();
    const err = checkTags(tags);
    setError(err);
    if (err) return;
    const next = cleanTags(tags);
    const removed = secret.tags.filter((t) => !next.some((n) => n.key === t.key)).map((t) => t.key);
    try {
      if (removed.length) await s.api.delete(`${path}/tags`, { keys: removed.join(",") });
      if (next.length) await s.api.put(`${path}/tags`, { tags: next });
      setEditing(false);
      toast("ok", "Tags saved.");
      onChange();
    } catch (x) {
      setError(describeError(x));
    }
  }
  if (!editing)
    return (
      <div className="inline-prop">
        <strong>Tags</strong>{" "}
        {secret.tags.length ? (
          secret.tags.map((t) => (
            <span key={t.key} className="tag">
              {t.key}
              {t.value ? `=${t.value}` : ""}
            </span>
          ))
        ) : (
          <span className="muted">none</span>
        )}{" "}
        {disabled ? null : (
          <button
            type="button"
            className="btn-link"
            onClick={() => {
              setTags(secret.tags.length ? secret.tags : [{ key: "", value: "" }]);
              setEditing(true);
            }}
          >
            Edit tags
          </button>
        )}
      </div>
    );
  return (
    <form onSubmit={save} className="inline-edit">
      <PairsEditor legend="Tags" name="tags" pairs={tags} onChange={setTags} keyLabel="Tag key" valueLabel="Tag value" addLabel="Add tag" max={20} error={error} />
      <button type="submit" className="btn-small">
        Save tags
      </button>{" "}
      <button type="button" className="btn-link" onClick={() => setEditing(false)}>
        Cancel
      </button>
    </form>
  );
}

/* ------------------------------------------------------------------ versions */

function Versions(p: { name: string; path: string; versions: SecretVersion[] | undefined; error: string | undefined; loading: boolean; onChange: () => void; disabled: boolean }) {
  const [moving, setMoving] = useState<string>();
  return (
    <section className="card" aria-labelledby="sec-versions">
      <h2 id="sec-versions">Versions and stages</h2>
      {p.loading && !p.versions ? <Loading what="versions" /> : null}
      {p.error ? <LoadError error={p.error} /> : null}
      {p.versions ? (
        <div className="table-wrap">
          <table className="table" aria-label="Versions">
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Stages</th>
                <th scope="col">Created</th>
                <th scope="col">Value</th>
              </tr>
            </thead>
            <tbody>
              {p.versions.map((v) => (
                <tr key={v.versionId}>
                  <td>
                    <code>{v.versionId}</code>
                  </td>
                  <td>
                    {v.stages.length ? (
                      v.stages.map((st) => (
                        <Badge key={st} kind={st === "ACSCurrent" ? "ok" : st === "ACSPending" ? "warn" : "info"}>
                          {st}
                        </Badge>
                      ))
                    ) : (
                      <span className="muted">deprecated</span>
                    )}
                    {p.disabled ? null : (
                      <button type="button" className="btn-link" onClick={() => setMoving(v.versionId)} aria-label={`Move a stage to version ${v.versionId}`}>
                        Move stage here
                      </button>
                    )}
                  </td>
                  <td>{fmtTime(v.createdAt)}</td>
                  <td>{p.disabled ? <span className="muted">—</span> : <Reveal path={p.path} versionId={v.versionId} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {moving ? (
        <MoveStage
          path={p.path}
          versionId={moving}
          versions={p.versions ?? []}
          onClose={(changed) => {
            setMoving(undefined);
            if (changed) p.onChange();
          }}
        />
      ) : null}
    </section>
  );
}

/**
 * A value is fetched only when the button is pressed (GetSecretValue, audited) and kept
 * only in this component's state while shown; Hide (or leaving the page, or 60 s) drops it.
 */
function Reveal({ path, versionId }: { path: string; versionId: string }) {
  const s = useSession();
  const toast = useToast();
  const [value, setValue] = useState<SecretValue>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout>>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  const hide = () => {
    clearTimeout(timer.current);
    setValue(undefined);
  };
  async function reveal() {
    setBusy(true);
    setError(undefined);
    try {
      const v = await s.api.get<SecretValue>(`${path}/value`, { versionId });
      setValue(v);
      clearTimeout(timer.current);
      timer.current = setTimeout(() => setValue(undefined), 60_000);
    } catch (e) {
      setError(e instanceof ApiError && e.status === 403 ? `Not allowed to read this value (${e.message})` : describeError(e));
    } finally {
      setBusy(false);
    }
  }
  if (!value)
    return (
      <span>
        <button type="button" className="btn-small" onClick={() => void reveal()} disabled={busy} aria-label={`Reveal the value of version ${versionId}`}>
          {busy ? "Revealing…" : "Reveal"}
        </button>
        {error ? (
          <span className="error" role="alert">
            {" "}
            {error}
          </span>
        ) : null}
      </span>
    );
  const text = value.dataType === "text" ? (value.value ?? "") : (value.valueBinary ?? "");
  return (
    <div className="revealed">
      <pre className="value" aria-label={`Value of version ${versionId}`} data-revealed="">
        {text}
      </pre>
      <div className="muted small">{value.dataType === "binary" ? "Binary value, shown as base64. " : ""}Hidden again in 60 s.</div>
      <button type="button" className="btn-small" onClick={hide}>
        Hide
      </button>{" "}
      <button type="button" className="btn-small" onClick={() => void copyText(text).then((ok) => toast(ok ? "ok" : "error", ok ? "Copied." : "The browser refused the clipboard."))}>
        Copy
      </button>
    </div>
  );
}

function MoveStage({ path, versionId, versions, onClose }: { path: string; versionId: string; versions: SecretVersion[]; onClose: (changed: boolean) => void }) {
  const s = useSession();
  const [stage, setStage] = useState("ACSCurrent");
  const [e, setE] = useState<Errors>({});
  async function submit(ev: FormEvent) {
    ev.preventDefault();
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(stage)) return setE({ stage: "A stage is 1-64 letters, digits and _ . -." });
    const from = versions.find((v) => v.stages.includes(stage) && v.versionId !== versionId)?.versionId;
    try {
      await s.api.post(`${path}/stages`, { stage, moveToVersionId: versionId, removeFromVersionId: from });
      onClose(true);
    } catch (err) {
      setE({ [fieldOfError(err, { stage: [/stage/i] }) ?? "form"]: describeError(err) });
    }
  }
  return (
    <Modal title={`Move a stage to version ${versionId}`} onClose={() => onClose(false)}>
      <form onSubmit={submit} noValidate>
        <TextField label="Stage" name="stage" value={stage} onChange={setStage} error={e.stage} hint="ACSCurrent marks the current version (the one before becomes ACSPrevious); custom stages are allowed." />
        <FormError error={e.form} />
        <FormActions onCancel={() => onClose(false)} submit="Move stage" />
      </form>
    </Modal>
  );
}

/** SQL secret values and workflow keys are written only through their own APIs (the generic put is refused). */
const ownTypeOnly = (s: Secret): boolean => s.secretType === "SqlSecretValue" || s.secretType === "WorkflowKey";

function PutVersion({ secret, path, onDone }: { secret: Secret; path: string; onDone: () => void }) {
  const s = useSession();
  const toast = useToast();
  const [open, setOpen] = useState(false);
  const [value, setValue] = useState("");
  const [versionId, setVersionId] = useState("");
  const [stages, setStages] = useState("");
  const [e, setE] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const managed = managedConfigOf(secret);
  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const errs: Errors = { value: checkValue(value), versionId: checkVersionId(versionId) };
    const st = stages.split(/[\s,]+/).filter(Boolean);
    if (st.some((x) => !/^[A-Za-z0-9_.-]{1,64}$/.test(x))) errs.stages = "Stages are 1-64 letters, digits and _ . -, separated by commas.";
    setE(errs);
    if (hasErrors(errs)) return;
    setBusy(true);
    try {
      const r = await s.api.post<{ versionId: string; stages: string[] }>(`${path}/versions`, { value, versionId: versionId || undefined, stages: st.length ? st : undefined });
      setValue("");
      setVersionId("");
      setStages("");
      setOpen(false);
      toast("ok", `Version ${r.versionId} stored (${r.stages.join(", ") || "no stage"}).`);
      onDone();
    } catch (err) {
      const f = fieldOfError(err, { value: [/value/i], versionId: [/version/i], stages: [/stage/i] });
      setE({ [f ?? "form"]: describeError(err) });
    } finally {
      setBusy(false);
    }
  }
  return (
    <section className="card" aria-labelledby="sec-put">
      <h2 id="sec-put">New version</h2>
      {!open ? (
        <button type="button" className="btn" onClick={() => setOpen(true)}>
          Put a new version
        </button>
      ) : (
        <form onSubmit={submit} noValidate aria-label="Put a new version">
          {managed ? <p className="note">This is a managed secret: a hand-written value must keep its JSON shape, and rotation replaces it.</p> : null}
          <TextArea label="Secret value" name="new-value" rows={4} mono value={value} onChange={setValue} error={e.value} required autoFocus hint="The value cannot exceed 30,720 bytes in length, which is equivalent to 30 KB in size." />
          <div className="row">
            <TextField label="Version" name="new-versionId" value={versionId} onChange={setVersionId} error={e.versionId} hint="Optional; a generated id otherwise. The same id with the same value is a no-op." />
            <TextField label="Stages" name="new-stages" value={stages} onChange={setStages} error={e.stages} hint="Optional; default ACSCurrent (the current version becomes ACSPrevious)." />
          </div>
          <FormError error={e.form} />
          <FormActions onCancel={() => setOpen(false)} submit={busy ? "Storing…" : "Store version"} busy={busy} />
        </form>
      )}
    </section>
  );
}

/* ------------------------------------------------------------------ rotation */

const STEPS = ["create", "set", "test", "promote", "cleanup", "done"] as const;
const STEP_LABEL: Record<string, string> = { create: "Create pending value", set: "Set on target", test: "Test login", promote: "Promote to ACSCurrent", cleanup: "Clean up old credential", done: "Done", rollback: "Rolling back", cancelled: "Cancelled" };

function RotationSection({ secret, path, onChange, disabled }: { secret: Secret; path: string; onChange: () => void; disabled: boolean }) {
  const s = useSession();
  const toast = useToast();
  const [status, setStatus] = useState<RotationStatus>();
  const [error, setError] = useState<string>();
  const [polling, setPolling] = useState(false);
  const [editing, setEditing] = useState(false);
  const [busy, setBusy] = useState(false);
  const stopped = useRef(false);

  async function load(): Promise<RotationStatus | undefined> {
    try {
      const st = await s.api.get<RotationStatus>(`${path}/rotation`);
      setStatus(st);
      setError(undefined);
      return st;
    } catch (e) {
      setError(e instanceof ApiError && e.code === "RouteNotFound" ? "This server has no rotation API (GET /v1/secrets/{name}/rotation)." : describeError(e));
      return undefined;
    }
  }
  useEffect(() => {
    stopped.current = false;
    void load().then((st) => st?.inProgress && void poll());
    return () => {
      stopped.current = true;
    };
  }, [path, s.scopeKey]); // eslint-disable-line react-hooks/exhaustive-deps

  async function poll() {
    setPolling(true);
    const until = Date.now() + 10 * 60_000;
    while (!stopped.current && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 700));
      const st = await load();
      if (!st || !st.inProgress) break;
    }
    setPolling(false);
    onChange();
  }

  async function rotateNow() {
    setBusy(true);
    try {
      await s.api.post(`${path}/rotate`, {});
      toast("ok", "Rotation started.");
      await load();
      void poll();
    } catch (e) {
      setError(describeError(e));
    } finally {
      setBusy(false);
    }
  }

  async function cancel() {
    try {
      const r = await s.api.delete<{ cancelled: boolean; status: RotationStatus }>(`${path}/rotation`);
      setStatus(r.status);
      toast("ok", r.cancelled ? "The rotation under way was cancelled and automatic rotation is off." : "Automatic rotation is off.");
    } catch (e) {
      setError(describeError(e));
    }
  }

  const managed = managedConfigOf(secret);
  const kind = managed?.type ?? "generic";
  const run = status?.inProgress ?? (polling ? status?.latest : null);
  const stepIndex = run ? Math.max(0, STEPS.indexOf(run.step as (typeof STEPS)[number])) : 0;

  return (
    <section className="card" aria-labelledby="sec-rotation">
      <h2 id="sec-rotation">Rotation</h2>
      {error ? <FormError error={error} /> : null}
      {status ? (
        <>
          <dl className="props">
            <dt>Automatic rotation</dt>
            <dd>{status.enabled ? <Badge kind="ok">enabled, every {fmtInterval(status.intervalSeconds)}</Badge> : <Badge>disabled</Badge>}</dd>
            <dt>Rotator</dt>
            <dd>{status.rotator ?? (status.managed ? "—" : "webhook (set a target) or none")}</dd>
            <dt>Next rotation</dt>
            <dd>{fmtTime(status.nextRotationAt)}</dd>
            <dt>Last rotation</dt>
            <dd>{fmtTime(status.lastRotationAt)}</dd>
            <dt>Latest</dt>
            <dd>
              {status.latest ? (
                <>
                  {STEP_LABEL[status.latest.step] ?? status.latest.step} · version <code>{status.latest.versionId}</code> · started {fmtTime(status.latest.startedAt)}
                  {status.latest.failures ? ` · ${status.latest.failures} failed attempt(s)` : ""}
                </>
              ) : (
                <span className="muted">never rotated</span>
              )}
            </dd>
          </dl>
          {status.latest?.lastError ? (
            <div className="form-error" role="alert">
              Last error ({fmtTime(status.latest.lastError.at)}): {status.latest.lastError.code}: {status.latest.lastError.message}
              {status.latest.nextAttemptAt ? ` — retried at ${fmtTime(status.latest.nextAttemptAt)}` : ""}
            </div>
          ) : null}
          {run ? (
            <div className="rotation-progress">
              <Progress label={`Rotation: ${STEP_LABEL[run.step] ?? run.step}`} value={run.step === "done" ? STEPS.length - 1 : stepIndex} max={STEPS.length - 1} detail={`Version ${run.versionId}, attempt ${run.attempt}`} />
              <ol className="steps">
                {STEPS.map((st, i) => (
                  <li key={st} className={i < stepIndex || run.step === "done" ? "done" : i === stepIndex ? "current" : ""}>
                    {STEP_LABEL[st]}
                  </li>
                ))}
              </ol>
            </div>
          ) : null}
          {disabled ? null : (
            <div className="form-actions left">
              <button type="button" className="btn" onClick={() => void rotateNow()} disabled={busy || Boolean(status.inProgress) || (!status.managed && !status.rotator)}>
                Rotate now
              </button>
              <button type="button" className="btn" onClick={() => setEditing(true)}>
                Rotation settings
              </button>
              {status.enabled || status.inProgress ? (
                <button type="button" className="btn" onClick={() => void cancel()}>
                  {status.inProgress ? "Cancel rotation" : "Turn off"}
                </button>
              ) : null}
            </div>
          )}
        </>
      ) : !error ? (
        <Loading what="rotation status" />
      ) : null}
      {editing && status ? (
        <RotationSettings
          path={path}
          status={status}
          kind={kind}
          onClose={(st) => {
            setEditing(false);
            if (st) {
              setStatus(st);
              onChange();
            }
          }}
        />
      ) : null}
    </section>
  );
}

function RotationSettings({ path, status, kind, onClose }: { path: string; status: RotationStatus; kind: "database" | "server" | "access-key" | "generic"; onClose: (s?: RotationStatus) => void }) {
  const s = useSession();
  const secs = status.intervalSeconds ?? (kind === "access-key" ? 30 * 86_400 : 7 * 86_400);
  const [enabled, setEnabled] = useState(true);
  const [every, setEvery] = useState(String(secs % 86_400 === 0 ? secs / 86_400 : secs / 3600));
  const [unit, setUnit] = useState<IntervalUnit>(secs % 86_400 === 0 ? "days" : "hours");
  const [target, setTarget] = useState("");
  const [e, setE] = useState<Errors>({});
  const b = intervalBounds(kind);
  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const n = Number(every);
    const seconds = toSeconds(n, kind === "access-key" ? "days" : unit);
    const errs: Errors = {};
    if (enabled && (!/^\d+$/.test(every) || seconds < b.min || seconds > b.max)) errs.every = b.text;
    if (target && !/^https?:\/\/\S+$/.test(target)) errs.target = "A webhook URL (http:// or https://).";
    setE(errs);
    if (hasErrors(errs)) return;
    try {
      const st = await s.api.post<RotationStatus>(`${path}/rotation`, { enabled, intervalSeconds: enabled ? seconds : undefined, target: target || undefined });
      onClose(st);
    } catch (err) {
      setE({ [fieldOfError(err, { every: [/interval/i], target: [/target/i, /webhook/i, /url/i] }) ?? "form"]: describeError(err) });
    }
  }
  return (
    <Modal title="Rotation settings" onClose={() => onClose()}>
      <form onSubmit={submit} noValidate>
        <Checkbox label="Enable automatic rotation" name="rot-enabled" checked={enabled} onChange={setEnabled} />
        <div className="row">
          <TextField label={kind === "access-key" ? "Days (7 Days to 365 Days)" : "Rotation period"} name="rot-every" value={every} onChange={setEvery} inputMode="numeric" error={e.every} hint={b.text} />
          {kind === "access-key" ? null : (
            <Select
              label="Unit"
              name="rot-unit"
              value={unit}
              onChange={setUnit}
              options={[
                ["hours", "hours"],
                ["days", "days"],
              ]}
            />
          )}
        </div>
        {kind === "generic" ? <TextField label="Rotation webhook URL" name="rot-target" value={target} onChange={setTarget} error={e.target} hint="Generic secrets rotate through a webhook that creates, sets, tests and finishes the new value (docs/rotation.md). Leave empty to keep the current one." /> : null}
        <FormError error={e.form} />
        <FormActions onCancel={() => onClose()} submit="Save" />
      </form>
    </Modal>
  );
}

/* ------------------------------------------------------------------ deletion, policy */

function DeleteRestore({ secret, onChange }: { secret: Secret; onChange: () => void }) {
  const s = useSession();
  const toast = useToast();
  const { navigate } = useRouter();
  const [open, setOpen] = useState(false);
  const [days, setDays] = useState("30");
  const [force, setForce] = useState(false);
  const [confirm, setConfirm] = useState("");
  const [e, setE] = useState<Errors>({});
  const path = `/v1/secrets/${enc(secret.name)}`;
  const deleted = Boolean(secret.plannedDeleteTime || secret.deletedAt);

  async function restore() {
    try {
      await s.api.post(`${path}/restore`, {});
      toast("ok", `Secret ${secret.name} restored.`);
      onChange();
    } catch (err) {
      toast("error", describeError(err));
    }
  }
  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const errs: Errors = force ? { confirm: confirm === secret.name ? undefined : "Type the secret's name to delete it at once, without recovery." } : { days: checkIntRange(days, 7, 30, MSG.recovery) };
    setE(errs);
    if (hasErrors(errs)) return;
    try {
      const r = await s.api.delete<{ plannedDeleteTime: string | null }>(path, force ? { force: true } : { recoveryWindowDays: Number(days) });
      setOpen(false);
      if (force) {
        toast("ok", `Secret ${secret.name} deleted.`);
        navigate("/secrets");
      } else {
        toast("ok", `Secret ${secret.name} scheduled for deletion at ${fmtTime(r.plannedDeleteTime)}.`);
        onChange();
      }
    } catch (err) {
      setE({ [fieldOfError(err, { days: [/recovery/i] }) ?? "form"]: describeError(err) });
    }
  }
  if (deleted)
    return (
      <button type="button" className="btn-primary" onClick={() => void restore()}>
        Restore
      </button>
    );
  return (
    <>
      <button type="button" className="btn-danger" onClick={() => setOpen(true)}>
        Delete
      </button>
      {open ? (
        <Modal title={`Delete ${secret.name}`} onClose={() => setOpen(false)}>
          <form onSubmit={submit} noValidate>
            <p>A deleted secret can be restored within its recovery window; after it the secret and all its versions are purged.</p>
            {!force ? <TextField label="Recovery window (days)" name="recoveryWindowDays" value={days} onChange={setDays} inputMode="numeric" error={e.days} hint="7 to 30 days; default 30." /> : null}
            <Checkbox label="Delete at once, without a recovery window" name="force" checked={force} onChange={setForce} />
            {force ? <TextField label={`Type ${secret.name} to confirm`} name="confirm" value={confirm} onChange={setConfirm} error={e.confirm} /> : null}
            <FormError error={e.form} />
            <FormActions onCancel={() => setOpen(false)} submit={force ? "Delete now" : "Schedule deletion"} danger />
          </form>
        </Modal>
      ) : null}
    </>
  );
}

function PolicySection({ path }: { path: string }) {
  const s = useSession();
  const pol = useLoad(() => s.api.get<{ document: unknown; isDefault: boolean }>(`${path}/policy`), [path, s.scopeKey]);
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState("");
  const [e, setE] = useState<Errors>({});
  async function save(ev: FormEvent) {
    ev.preventDefault();
    let doc: unknown;
    try {
      doc = JSON.parse(text);
    } catch (x) {
      return setE({ document: `Not valid JSON: ${(x as Error).message}` });
    }
    try {
      await s.api.put(`${path}/policy`, { document: doc });
      setEditing(false);
      setE({});
      pol.reload();
    } catch (x) {
      setE({ document: describeError(x) });
    }
  }
  async function reset() {
    try {
      await s.api.delete(`${path}/policy`);
      pol.reload();
    } catch (x) {
      setE({ document: describeError(x) });
    }
  }
  return (
    <section className="card" aria-labelledby="sec-policy">
      <h2 id="sec-policy">Resource policy</h2>
      {pol.error ? <LoadError error={pol.error} /> : null}
      {pol.data && !editing ? (
        <>
          <p className="muted">{pol.data.isDefault ? "The default policy applies: identity policies decide." : "This secret carries its own policy."}</p>
          {pol.data.document ? <pre className="code">{JSON.stringify(pol.data.document, null, 2)}</pre> : null}
          <div className="form-actions left">
            <button
              type="button"
              className="btn"
              onClick={() => {
                setText(JSON.stringify(pol.data?.document ?? { Version: "1", Statement: [] }, null, 2));
                setEditing(true);
              }}
            >
              Edit policy
            </button>
            {!pol.data.isDefault ? (
              <button type="button" className="btn" onClick={() => void reset()}>
                Back to the default
              </button>
            ) : null}
          </div>
        </>
      ) : null}
      {editing ? (
        <form onSubmit={save} noValidate>
          <TextArea label="Policy document (JSON)" name="policy-document" rows={12} mono value={text} onChange={setText} error={e.document} hint="Statements need a Principal; see docs/policies.md." />
          <div className="form-actions left">
            <button type="submit" className="btn-primary">
              Save policy
            </button>
            <button type="button" className="btn" onClick={() => setEditing(false)}>
              Cancel
            </button>
          </div>
        </form>
      ) : null}
    </section>
  );
}
