import { useMemo, useRef, useState, type FormEvent } from "react";
import { ApiError, enc } from "../api.ts";
import { Link, useRouter } from "../router.tsx";
import { TYPE_LABELS, typeLabel } from "../secret-types.ts";
import { useSession } from "../session.tsx";
import type { Secret } from "../types.ts";
import { Badge, Checkbox, Empty, FormActions, FormError, LoadError, Loading, Modal, PageHead, Progress, Select, TextArea, TextField, downloadText, fmtTime, useLoad, useToast } from "../ui.tsx";
import { checkSecretName, checkValue, describeError } from "../validation.ts";

interface Filters {
  name: string;
  tagKey: string;
  tagValue: string;
  type: string;
  includeDeleted: boolean;
}

const EMPTY: Filters = { name: "", tagKey: "", tagValue: "", type: "", includeDeleted: false };

/** Secrets: search by name (prefix), tag and type; create; bulk import with progress. */
/**
 * "Instance CA Certificate" (the KMS seeds): the PEM that SDK clients configure as `ca` to
 * verify this server, what `coffer operator ca` prints (`GET /v1/sys/ca`, public).
 */
function CaDownload() {
  const toast = useToast();
  async function download() {
    try {
      const res = await fetch("/v1/sys/ca");
      if (!res.ok) return toast("error", res.status === 404 ? "This server has no instance CA: it runs without TLS or with a certificate from elsewhere." : `The CA certificate could not be fetched (HTTP ${res.status}).`);
      downloadText("coffer-instance-ca.pem", await res.text(), "application/x-pem-file");
    } catch {
      toast("error", "The CA certificate could not be fetched.");
    }
  }
  return (
    <button type="button" className="btn" onClick={() => void download()}>
      Instance CA Certificate
    </button>
  );
}

export function SecretsPage() {
  const s = useSession();
  const { navigate } = useRouter();
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [pages, setPages] = useState<Secret[][]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [importing, setImporting] = useState(false);

  const first = useLoad(async () => {
    const r = await s.api.get<{ secrets: Secret[]; nextToken: string | null }>("/v1/secrets", query(filters, undefined));
    setPages([r.secrets]);
    setNext(r.nextToken);
    return true;
  }, [s.scopeKey, filters]);

  async function more() {
    if (!next) return;
    const r = await s.api.get<{ secrets: Secret[]; nextToken: string | null }>("/v1/secrets", query(filters, next));
    setPages((p) => [...p, r.secrets]);
    setNext(r.nextToken);
  }

  const rows = useMemo(
    () => pages.flat().filter((x) => !x.name.startsWith(".coffer/") && (!filters.type || (filters.type === "Generic" ? x.secretType === "Generic" : x.secretType === filters.type))),
    [pages, filters.type],
  );

  function search(e: FormEvent) {
    e.preventDefault();
    setFilters(draft);
  }

  return (
    <div>
      <PageHead title="Secrets" intro="Values are encrypted under a KMS key and never shown here unless you reveal one (each reveal is audited).">
        <CaDownload />
        <button type="button" className="btn" onClick={() => setImporting(true)}>
          Bulk import
        </button>
        <button type="button" className="btn-primary" onClick={() => navigate("/secrets/new")}>
          Create secret
        </button>
      </PageHead>
      <form className="filters" onSubmit={search} aria-label="Search secrets">
        <TextField label="Name starts with" name="q-name" value={draft.name} onChange={(v) => setDraft({ ...draft, name: v })} placeholder="app/" />
        <TextField label="Tag key" name="q-tag-key" value={draft.tagKey} onChange={(v) => setDraft({ ...draft, tagKey: v })} />
        <TextField label="Tag value" name="q-tag-value" value={draft.tagValue} onChange={(v) => setDraft({ ...draft, tagValue: v })} />
        <Select
          label="Type"
          name="q-type"
          value={draft.type}
          onChange={(v) => setDraft({ ...draft, type: v })}
          options={[["", "Any type"], ...Object.entries(TYPE_LABELS).map(([k, v]) => [k, v] as const)]}
        />
        <Checkbox label="Include deleted" name="q-deleted" checked={draft.includeDeleted} onChange={(v) => setDraft({ ...draft, includeDeleted: v })} />
        <div className="filter-actions">
          <button type="submit" className="btn">
            Search
          </button>
          <button
            type="button"
            className="btn-link"
            onClick={() => {
              setDraft(EMPTY);
              setFilters(EMPTY);
            }}
          >
            Clear
          </button>
        </div>
      </form>
      {first.loading && pages.length === 0 ? <Loading what="secrets" /> : null}
      {first.error ? <LoadError error={first.error} retry={first.reload} /> : null}
      {!first.loading && !first.error && rows.length === 0 ? <Empty>No secrets match in {s.scope.environment} / {s.scope.region}.</Empty> : null}
      {rows.length > 0 ? (
        <div className="table-wrap">
          <table className="table" aria-label="Secrets">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Type</th>
                <th scope="col">Tags</th>
                <th scope="col">Rotation</th>
                <th scope="col">Updated</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((x) => (
                <tr key={x.name}>
                  <td>
                    <Link to={`/secrets/${enc(x.name)}`}>{x.name}</Link>
                    {x.description ? <div className="muted small">{x.description}</div> : null}
                  </td>
                  <td>{typeLabel(x)}</td>
                  <td>
                    {x.tags.map((t) => (
                      <span key={t.key} className="tag">
                        {t.key}
                        {t.value ? `=${t.value}` : ""}
                      </span>
                    ))}
                  </td>
                  <td>{(x.rotation as { enabled?: boolean } | undefined)?.enabled ? <Badge kind="ok">on</Badge> : <span className="muted">off</span>}</td>
                  <td>{fmtTime(x.updatedAt)}</td>
                  <td>{x.plannedDeleteTime || x.deletedAt ? <Badge kind="bad">deleted · purge {fmtTime(x.plannedDeleteTime)}</Badge> : <Badge kind="ok">active</Badge>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {next ? (
        <button type="button" className="btn" onClick={() => void more()}>
          Load more
        </button>
      ) : null}
      {importing ? (
        <BulkImport
          onClose={(changed) => {
            setImporting(false);
            if (changed) first.reload();
          }}
        />
      ) : null}
    </div>
  );
}

function query(f: Filters, after: string | undefined) {
  return { namePrefix: f.name || undefined, tagKey: f.tagKey || undefined, tagValue: f.tagValue || undefined, includeDeleted: f.includeDeleted || undefined, limit: 100, after };
}

type Item = { name: string; value: string };

/** `{"name": "value", …}` (values that are objects become their JSON), or `NAME=value` lines (.env). */
export function parseImport(text: string): { items: Item[]; error?: string } {
  const t = text.trim();
  if (!t) return { items: [], error: "Paste JSON or NAME=value lines, or choose a file." };
  if (t.startsWith("{")) {
    let o: unknown;
    try {
      o = JSON.parse(t);
    } catch (e) {
      return { items: [], error: `Not valid JSON: ${(e as Error).message}` };
    }
    if (!o || typeof o !== "object" || Array.isArray(o)) return { items: [], error: "The JSON must be an object of name → value." };
    return { items: Object.entries(o as Record<string, unknown>).map(([name, v]) => ({ name, value: typeof v === "string" ? v : JSON.stringify(v) })) };
  }
  const items: Item[] = [];
  for (const [i, line] of t.split(/\r?\n/).entries()) {
    const l = line.trim();
    if (!l || l.startsWith("#")) continue;
    const eq = l.indexOf("=");
    if (eq <= 0) return { items: [], error: `Line ${i + 1}: expected NAME=value.` };
    let v = l.slice(eq + 1).trim();
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    items.push({ name: l.slice(0, eq).trim(), value: v });
  }
  return { items };
}

/** A long operation with progress: one CreateSecret per item, stoppable, with a result per item. */
function BulkImport({ onClose }: { onClose: (changed: boolean) => void }) {
  const s = useSession();
  const toast = useToast();
  const [text, setText] = useState("");
  const [prefix, setPrefix] = useState("");
  const [error, setError] = useState<string>();
  const [state, setState] = useState<{ done: number; total: number; failed: { name: string; error: string }[]; running: boolean }>();
  const stop = useRef(false);

  async function onFile(f: File | undefined) {
    if (!f) return;
    if (f.size > 4 * 1024 * 1024) return setError("The file is larger than 4 MB.");
    setText(await f.text());
  }

  async function run(e: FormEvent) {
    e.preventDefault();
    const { items, error: pe } = parseImport(text);
    if (pe) return setError(pe);
    const bad = items.map((it) => ({ it, err: checkSecretName(prefix + it.name) ?? checkValue(it.value) })).find((x) => x.err);
    if (bad) return setError(`${prefix + bad.it.name}: ${bad.err}`);
    if (items.length === 0) return setError("Nothing to import.");
    setError(undefined);
    stop.current = false;
    const failed: { name: string; error: string }[] = [];
    setState({ done: 0, total: items.length, failed, running: true });
    let done = 0;
    for (const it of items) {
      if (stop.current) break;
      try {
        await s.api.post("/v1/secrets", { name: prefix + it.name, value: it.value });
      } catch (err) {
        failed.push({ name: prefix + it.name, error: err instanceof ApiError ? `${err.code}: ${err.message}` : describeError(err) });
      }
      done++;
      setState({ done, total: items.length, failed: [...failed], running: true });
    }
    setText("");
    setState({ done, total: items.length, failed: [...failed], running: false });
    toast(failed.length ? "error" : "ok", `Imported ${done - failed.length} of ${items.length} secrets${failed.length ? `, ${failed.length} failed` : ""}.`);
  }

  const parsed = text ? parseImport(text) : undefined;
  return (
    <Modal title="Bulk import secrets" onClose={() => (state?.running ? undefined : onClose(Boolean(state)))} wide>
      {state ? (
        <div>
          <Progress label={state.running ? "Importing" : "Import finished"} value={state.done} max={state.total} detail={`${state.failed.length} failed`} />
          {state.failed.length > 0 ? (
            <ul className="errors-list" aria-label="Failed imports">
              {state.failed.map((f) => (
                <li key={f.name}>
                  <code>{f.name}</code>: {f.error}
                </li>
              ))}
            </ul>
          ) : null}
          <div className="form-actions">
            {state.running ? (
              <button type="button" className="btn" onClick={() => (stop.current = true)}>
                Stop
              </button>
            ) : (
              <button type="button" className="btn-primary" onClick={() => onClose(true)}>
                Done
              </button>
            )}
          </div>
        </div>
      ) : (
        <form onSubmit={run} noValidate>
          <p className="muted">Creates one Generic secret per entry in {s.scope.environment} / {s.scope.region}, encrypted under the default key. The pasted text is cleared when the import ends.</p>
          <TextArea
            label="Secrets to import"
            name="import-text"
            rows={8}
            mono
            value={text}
            onChange={setText}
            placeholder={'{"app/db-password": "…", "app/api-key": "…"}\n\nor\n\nDB_PASSWORD=…\nAPI_KEY=…'}
            error={error}
            hint={parsed && !parsed.error ? `${parsed.items.length} secret${parsed.items.length === 1 ? "" : "s"} to create.` : "JSON object of name → value, or NAME=value lines (.env)."}
          />
          <div className="field">
            <label htmlFor="import-file">Or choose a file (.json or .env)</label>
            <input id="import-file" type="file" accept=".json,.env,.txt,application/json,text/plain" onChange={(e) => void onFile(e.target.files?.[0])} />
          </div>
          <TextField label="Name prefix" name="import-prefix" value={prefix} onChange={setPrefix} placeholder="app/" hint="Put before every name, e.g. app/ (optional)." />
          <FormError error={undefined} />
          <FormActions onCancel={() => onClose(false)} submit="Import" />
        </form>
      )}
    </Modal>
  );
}
