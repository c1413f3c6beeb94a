import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { ApiError, enc } from "../api.ts";
import { useSession } from "../session.tsx";
import { Badge, ConfirmDelete, Empty, FormActions, FormError, Listed, Modal, PageHead, TextField, fmtTime, useLoad, useToast } from "../ui.tsx";
import { describeError, fieldOfError, type Errors } from "../validation.ts";
import type { DraftDeployment, DraftValidation, DraftView, ReferenceCheck } from "../../../src/contract/sql-drafts.ts";

/** What `/v1/sql/drafts` and `/v1/sql/resolve` answer: the server's own shapes (src/contract imports nothing). */
type RefCheck = ReferenceCheck;
type Validation = DraftValidation;
type Deployment = DraftDeployment;
type Draft = DraftView;

const DRAFT_NAME = /^[A-Za-z]([A-Za-z0-9_-]{0,62}[A-Za-z0-9])?$/;
const TEMPLATE = "CREATE TEMPORARY TABLE datagen_source (\n  name VARCHAR\n) WITH (\n  'connector' = 'datagen'\n);\n\nCREATE TEMPORARY TABLE print_sink (\n  name VARCHAR\n) WITH (\n  'connector' = 'print'\n);\n\nINSERT INTO print_sink SELECT name FROM datagen_source;\n";
const PHASE_KIND: Record<Deployment["phase"], "ok" | "warn" | "bad" | "info"> = { RUNNING: "ok", PENDING: "warn", COMPLETED: "info", STOPPED: "info", FAILED: "bad" };

/** What a reference's mark says: fine, unknown name, refused place, malformed. */
function refState(r: RefCheck): { kind: "ok" | "unknown" | "refused"; label: string } {
  if (r.problem === undefined) return { kind: "ok", label: "secret value" };
  if (r.name === null) return { kind: "refused", label: "malformed" };
  if (!r.allowed) return { kind: "refused", label: "not allowed here" };
  return { kind: "unknown", label: "unknown secret value" };
}

/** Each reference's place in the text (its line, then its text there), for marking it inline. */
function locate(text: string, refs: readonly RefCheck[]): { start: number; end: number; ref: RefCheck }[] {
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") lineStarts.push(i + 1);
  const out: { start: number; end: number; ref: RefCheck }[] = [];
  let after = 0;
  for (const r of refs) {
    const lineStart = lineStarts[r.line - 1];
    if (lineStart === undefined || !r.reference || r.reference.endsWith("…")) continue;
    const at = text.indexOf(r.reference, Math.max(lineStart, after));
    if (at < 0) continue;
    out.push({ start: at, end: at + r.reference.length, ref: r });
    after = at + r.reference.length;
  }
  return out;
}

/**
 * The Flink seed's SQL Editor: Drafts (stored on the server per environment and region),
 * an editor that marks each `${secret_values.…}` reference with the server's validation
 * (its line, an unknown name, a place where references are refused), and deploy / stop.
 * No value ever reaches the console: validation is redacted, values are resolved only
 * into what the Flink SQL Gateway receives.
 */
export function SqlEditorPage() {
  const s = useSession();
  const drafts = useLoad(() => s.api.get<{ drafts: Draft[] }>("/v1/sql/drafts").then((r) => r.drafts), [s.scopeKey]);
  const [open, setOpen] = useState<string>();
  const [creating, setCreating] = useState(false);
  useEffect(() => setOpen(undefined), [s.scopeKey]);

  return (
    <div>
      <PageHead
        title="SQL editor"
        intro={
          <>
            Drafts of Flink SQL jobs in {s.scope.environment} / {s.scope.region}. Reference a secret value as <code>{"${secret_values.<name>}"}</code> inside a quoted option value of the WITH clause of CREATE TEMPORARY TABLE; it is resolved only in what the Flink SQL Gateway receives when you deploy.
          </>
        }
      >
        <button type="button" className="btn-primary" onClick={() => setCreating(true)}>
          New draft
        </button>
      </PageHead>
      <div className="sql-layout">
        <section className="card sql-drafts" aria-labelledby="sql-drafts-h">
          <h2 id="sql-drafts-h">Drafts</h2>
          <Listed list={drafts} items={drafts.data} what="drafts" empty="No drafts yet: create one.">
            {(items) => (
              <ul className="draft-list" aria-label="Drafts">
                {items.map((d) => (
                  <li key={d.name}>
                    <button type="button" className={`draft-item${d.name === open ? " selected" : ""}`} aria-current={d.name === open ? "true" : undefined} onClick={() => setOpen(d.name)} onDoubleClick={() => setOpen(d.name)}>
                      <span className="draft-name">{d.name}</span>
                      <span className="draft-state">
                        {d.deployment ? <Badge kind={PHASE_KIND[d.deployment.phase]}>{d.deployment.phase.toLowerCase()}</Badge> : <Badge>not deployed</Badge>}
                        {d.validation.valid ? null : <Badge kind="bad">cannot be published</Badge>}
                      </span>
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </Listed>
        </section>
        <section className="card sql-draft" aria-label={open ? `Draft ${open}` : "Draft"}>
          {open ? (
            <DraftEditor
              key={`${open}|${s.scopeKey}`}
              name={open}
              onChanged={drafts.reload}
              onDeleted={() => {
                setOpen(undefined);
                drafts.reload();
              }}
            />
          ) : (
            <Empty>Open a draft from the list, or create a new one.</Empty>
          )}
        </section>
      </div>
      {creating ? (
        <NewDraft
          onClose={(name) => {
            setCreating(false);
            if (name) {
              drafts.reload();
              setOpen(name);
            }
          }}
        />
      ) : null}
    </div>
  );
}

function NewDraft({ onClose }: { onClose: (created?: string) => void }) {
  const s = useSession();
  const toast = useToast();
  const [name, setName] = useState("");
  const [e, setE] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  async function submit(ev: FormEvent) {
    ev.preventDefault();
    if (!DRAFT_NAME.test(name)) return setE({ name: "A draft name is 1-64 letters, digits, _ and -, starting with a letter and ending with a letter or digit." });
    setBusy(true);
    try {
      await s.api.post("/v1/sql/drafts", { name, statement: TEMPLATE });
      toast("ok", `Draft ${name} created.`);
      onClose(name);
    } catch (x) {
      setE({ [fieldOfError(x, { name: [/name/i, /already exists/i] }) ?? "form"]: describeError(x) });
    } finally {
      setBusy(false);
    }
  }
  return (
    <Modal title="New Draft" onClose={() => onClose()}>
      <form onSubmit={submit} noValidate>
        <TextField label="Name" name="draft-name" value={name} onChange={setName} error={e.name} required hint="Unique in this environment and region. Deploying runs it as the statement of the same name in lowercase, with _ written -." />
        <FormError error={e.form} />
        <FormActions onCancel={() => onClose()} submit="Create" busy={busy} />
      </form>
    </Modal>
  );
}

function DraftEditor({ name, onChanged, onDeleted }: { name: string; onChanged: () => void; onDeleted: () => void }) {
  const s = useSession();
  const toast = useToast();
  const base = `/v1/sql/drafts/${enc(name)}`;
  const [draft, setDraft] = useState<Draft>();
  const [loadError, setLoadError] = useState<string>();
  const [text, setText] = useState("");
  // The validation shown is always the server's, for the exact text it was asked about.
  const [checked, setChecked] = useState<{ text: string; v: Validation }>();
  const [checkError, setCheckError] = useState<string>();
  const [failure, setFailure] = useState<string>();
  const [busy, setBusy] = useState<string>();
  const [deleting, setDeleting] = useState(false);

  function loaded(d: Draft) {
    setDraft(d);
    setText(d.statement);
    setChecked({ text: d.statement, v: d.validation });
  }
  /** Reads the draft again; unsaved text is kept (only the deployment and version are refreshed). */
  async function load(keepText = false) {
    try {
      const d = await s.api.get<Draft>(base);
      if (keepText) setDraft(d);
      else loaded(d);
      setLoadError(undefined);
    } catch (e) {
      setLoadError(describeError(e));
    }
  }
  useEffect(() => {
    void load();
  }, [base]); // eslint-disable-line react-hooks/exhaustive-deps

  // Validate the text being written (debounced) with the server's rules: lines, unknown names, refused places.
  useEffect(() => {
    if (!draft || checked?.text === text) return;
    const t = setTimeout(() => {
      s.api.post<Validation>("/v1/sql/resolve", { statement: text }).then(
        (v) => {
          setChecked({ text, v });
          setCheckError(undefined);
        },
        (e) => setCheckError(e instanceof ApiError && e.status === 400 ? e.message : describeError(e)),
      );
    }, 350);
    return () => clearTimeout(t);
  }, [text, draft]); // eslint-disable-line react-hooks/exhaustive-deps

  const dirty = draft !== undefined && text !== draft.statement;
  const current = checked?.text === text ? checked.v : undefined;
  const problems = current?.references.filter((r) => r.problem !== undefined) ?? [];

  async function save(): Promise<Draft | undefined> {
    if (!draft) return undefined;
    const d = await s.api.put<Draft>(base, { statement: text, resourceVersion: draft.resourceVersion });
    loaded(d);
    onChanged();
    return d;
  }
  async function act(what: string, fn: () => Promise<void>) {
    setBusy(what);
    setFailure(undefined);
    try {
      await fn();
    } catch (e) {
      setFailure(describeError(e));
    } finally {
      setBusy(undefined);
    }
  }
  const onSave = () =>
    act("save", async () => {
      await save();
      toast("ok", `Draft ${name} saved.`);
    });
  const onDeploy = () =>
    act("deploy", async () => {
      if (dirty) await save();
      const d = await s.api.post<Draft>(`${base}/deploy`);
      loaded(d);
      onChanged();
      toast(d.deployment?.phase === "FAILED" ? "error" : "ok", `Draft ${name} deployed as the statement ${d.deployment?.statement}: ${d.deployment?.phase.toLowerCase()}.`);
    });
  const onStop = () =>
    act("stop", async () => {
      const d = await s.api.post<Draft>(`${base}/stop`);
      setDraft(d);
      onChanged();
      toast("ok", `Deployment of ${name} stopped.`);
    });
  const onRefresh = () => act("refresh", () => load(dirty));
  async function remove() {
    setDeleting(false);
    await act("delete", async () => {
      await s.api.delete(base);
      toast("ok", `Draft ${name} deleted.`);
      onDeleted();
    });
  }

  if (loadError) return <FormError error={loadError} />;
  if (!draft) return <p className="muted" role="status">Loading draft…</p>;
  const dep = draft.deployment;
  const active = dep !== null && (dep.phase === "RUNNING" || dep.phase === "PENDING");

  return (
    <div>
      <div className="card-head">
        <h2>{draft.name}</h2>
        <span className="muted small">saved {fmtTime(draft.updatedAt)}{dirty ? " · unsaved changes" : ""}</span>
      </div>
      <div className="deployment" aria-label="Deployment" role="group">
        {dep ? (
          <>
            Deployment <code>{dep.statement}</code>: <Badge kind={PHASE_KIND[dep.phase]}>{dep.phase.toLowerCase()}</Badge>
            {dep.detail ? <span className="muted"> {dep.detail}</span> : null}
            {dep.outdated ? <span className="muted"> · runs an earlier text of this draft: deploy to publish the current one</span> : null}
          </>
        ) : (
          <span className="muted">Not deployed.</span>
        )}
      </div>
      {current && !current.valid ? (
        <div className="notice notice-bad" role="alert" aria-label="Cannot be published">
          <strong>This draft cannot be published{dirty ? " as written" : ""}:</strong>
          <ul>
            {problems.map((r, i) => (
              <li key={i}>
                line {r.line}: <code>{r.reference}</code> {r.problem}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      {checkError ? <FormError error={checkError} /> : null}
      <SqlText value={text} onChange={setText} validation={current} />
      <References validation={current} />
      {failure ? <FormError error={failure} /> : null}
      <div className="form-actions left">
        <button type="button" className="btn" onClick={() => void onSave()} disabled={busy !== undefined || !dirty}>
          Save
        </button>
        <button type="button" className="btn-primary" onClick={() => void onDeploy()} disabled={busy !== undefined}>
          {busy === "deploy" ? "Deploying…" : "Deploy"}
        </button>
        <button type="button" className="btn" onClick={() => void onStop()} disabled={busy !== undefined || !active}>
          Stop
        </button>
        <button type="button" className="btn" onClick={() => void onRefresh()} disabled={busy !== undefined}>
          Refresh
        </button>
        <button type="button" className="btn-danger" onClick={() => setDeleting(true)} disabled={busy !== undefined}>
          Delete draft
        </button>
      </div>
      {deleting ? (
        <ConfirmDelete title={`Delete draft ${draft.name}`} onCancel={() => setDeleting(false)} onConfirm={() => void remove()}>
          <p>{active ? "Its deployment is running: stop it first." : "The draft's text is deleted. A stopped deployment stays in the statements list."}</p>
        </ConfirmDelete>
      ) : null}
    </div>
  );
}

/**
 * A plain textarea over a mirror of its text in which each reference is marked (green:
 * a secret value; red: unknown, refused or malformed), with line numbers beside it and
 * the lines with a problem flagged. The mirror is hidden from assistive technology: the
 * References list below says the same in words.
 */
function SqlText({ value, onChange, validation }: { value: string; onChange: (v: string) => void; validation: Validation | undefined }) {
  const id = useId();
  const mirror = useRef<HTMLPreElement>(null);
  const lines = value.split("\n");
  const bad = new Set((validation?.references ?? []).filter((r) => r.problem !== undefined).map((r) => r.line));
  const marks = validation ? locate(value, validation.references) : [];
  const parts: (string | { text: string; ref: RefCheck })[] = [];
  let at = 0;
  for (const m of marks) {
    parts.push(value.slice(at, m.start), { text: value.slice(m.start, m.end), ref: m.ref });
    at = m.end;
  }
  parts.push(value.slice(at));
  return (
    <div className="field">
      <label htmlFor={id}>SQL</label>
      <div className="sql-text">
        <div className="sql-gutter" aria-hidden="true">
          {lines.map((_, i) => (
            <div key={i} className={bad.has(i + 1) ? "sql-line-bad" : undefined}>
              {i + 1}
            </div>
          ))}
        </div>
        <div className="sql-code">
          <pre className="sql-mirror" ref={mirror} aria-hidden="true">
            {parts.map((p, i) =>
              typeof p === "string" ? (
                p
              ) : (
                <mark key={i} className={`sql-ref sql-ref-${refState(p.ref).kind}`} data-line={p.ref.line} data-state={refState(p.ref).kind}>
                  {p.text}
                </mark>
              ),
            )}
            {"\n"}
          </pre>
          <textarea
            id={id}
            name="sql"
            className="sql-input"
            value={value}
            rows={lines.length + 1}
            wrap="off"
            spellCheck={false}
            autoComplete="off"
            aria-describedby={`${id}-refs`}
            onChange={(e) => onChange(e.target.value)}
            onScroll={(e) => {
              if (mirror.current) mirror.current.scrollLeft = e.currentTarget.scrollLeft;
            }}
          />
        </div>
      </div>
      <div className="hint" id={`${id}-refs`}>
        References are checked as you type; each problem is listed below with its line.
      </div>
    </div>
  );
}

function References({ validation }: { validation: Validation | undefined }) {
  if (!validation) return <p className="muted small">Checking references…</p>;
  if (validation.references.length === 0) return <p className="muted small">No secret value references.</p>;
  return (
    <ul className="sql-refs" aria-label="Secret value references">
      {validation.references.map((r, i) => {
        const st = refState(r);
        return (
          <li key={i} data-state={st.kind}>
            <span className="nowrap">line {r.line}</span> <code>{r.reference}</code> <Badge kind={st.kind === "ok" ? "ok" : "bad"}>{st.label}</Badge>
            {r.problem ? <span className="small"> {r.problem}</span> : null}
          </li>
        );
      })}
    </ul>
  );
}
