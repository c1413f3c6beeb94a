import { useState, type FormEvent } from "react";
import { useSession } from "../session.tsx";
import type { AuditRecord } from "../types.ts";
import { Badge, Empty, LoadError, Loading, PageHead, TextField, fmtTime, useLoad, useToast } from "../ui.tsx";
import { describeError, hasErrors, type Errors } from "../validation.ts";

interface Filters {
  principal: string;
  action: string;
  resource: string;
  since: string;
  until: string;
}

const MAX_PAGES = 4;
/** A `datetime-local` value (local time, minutes) for a time. */
const localInput = (ms: number): string => new Date(ms - new Date(ms).getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
const EMPTY: Filters = { principal: "", action: "", resource: "", since: "", until: "" };
const lastDay = (): Filters => ({ ...EMPTY, since: localInput(Date.now() - 86_400_000) });

/** `datetime-local` (the browser's time zone) → ISO 8601 with zone, as the API wants. */
function toIso(local: string): string | undefined {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** The audit log: filter by principal, action, resource and time; verify the hash chain. */
export function AuditPage() {
  const s = useSession();
  const toast = useToast();
  const [draft, setDraft] = useState<Filters>(lastDay);
  const [filters, setFilters] = useState<Filters>(draft);
  const [next, setNext] = useState<string | null>(null);
  const [e, setE] = useState<Errors>({});
  const [tick, setTick] = useState(0);
  const [verify, setVerify] = useState<{ valid: boolean; records: number; firstBadSeq?: number; reason?: string }>();

  const q = (after?: string) => ({ limit: 500, order: "asc", after, principal: filters.principal || undefined, action: filters.action || undefined, resource: filters.resource || undefined, since: toIso(filters.since), until: toIso(filters.until) });
  // The API pages oldest first; the console reads up to MAX_PAGES pages and shows the newest first.
  const first = useLoad(async () => {
    const out: AuditRecord[] = [];
    let after: string | undefined;
    for (let i = 0; i < MAX_PAGES; i++) {
      const r = await s.api.get<{ records: AuditRecord[]; nextToken: string | null }>("/v1/audit", q(after), { scoped: false });
      out.push(...r.records);
      after = r.nextToken ?? undefined;
      if (!after) break;
    }
    setNext(after ?? null);
    return out.reverse();
  }, [filters, tick]);

  function search(ev: FormEvent) {
    ev.preventDefault();
    const errs: Errors = {
      since: draft.since && !toIso(draft.since) ? "Not a valid time." : undefined,
      until: draft.until && !toIso(draft.until) ? "Not a valid time." : draft.since && draft.until && toIso(draft.until)! < toIso(draft.since)! ? "Until is before since." : undefined,
    };
    setE(errs);
    if (hasErrors(errs)) return;
    setFilters(draft);
    setTick((t) => t + 1);
  }

  async function runVerify() {
    try {
      setVerify(await s.api.post("/v1/audit/verify", {}, { scoped: false }));
    } catch (x) {
      toast("error", describeError(x));
    }
  }

  const rows = first.data ?? [];
  return (
    <div>
      <PageHead title="Audit log" intro="One record per API call, allowed or refused, HMAC-chained (append-only). Values never appear here.">
        <button type="button" className="btn" onClick={() => void runVerify()}>
          Verify chain
        </button>
      </PageHead>
      {verify ? (
        <div className={`notice${verify.valid ? "" : " notice-warn"}`} role="status">
          {verify.valid ? `The chain is intact: ${verify.records} records verified.` : `The chain is broken at record ${verify.firstBadSeq}: ${verify.reason}`}
        </div>
      ) : null}
      <form className="filters" onSubmit={search} aria-label="Filter the audit log">
        <TextField label="Principal" name="a-principal" value={draft.principal} onChange={(v) => setDraft({ ...draft, principal: v })} placeholder="u-… / sa-… / root" />
        <TextField label="Action" name="a-action" value={draft.action} onChange={(v) => setDraft({ ...draft, action: v })} placeholder="secrets:GetSecretValue" />
        <TextField label="Resource" name="a-resource" value={draft.resource} onChange={(v) => setDraft({ ...draft, resource: v })} placeholder="crn:coffer:…:secret/app/db" />
        <TextField label="Since" name="a-since" type="datetime-local" value={draft.since} onChange={(v) => setDraft({ ...draft, since: v })} error={e.since} />
        <TextField label="Until" name="a-until" type="datetime-local" value={draft.until} onChange={(v) => setDraft({ ...draft, until: v })} error={e.until} />
        <div className="filter-actions">
          <button type="submit" className="btn">
            Filter
          </button>
          <button
            type="button"
            className="btn-link"
            onClick={() => {
              setDraft(lastDay());
              setFilters(lastDay());
              setTick((t) => t + 1);
            }}
          >
            Clear
          </button>
        </div>
      </form>
      {first.loading && !first.data ? <Loading what="audit records" /> : null}
      {first.error ? <LoadError error={first.error} retry={() => setTick((t) => t + 1)} /> : null}
      {!first.loading && !first.error && rows.length === 0 ? <Empty>No records match.</Empty> : null}
      {next ? (
        <div className="notice notice-warn" role="status">
          More than {rows.length} records match: showing the oldest {rows.length}, newest first. Narrow the time range or the filters to see later ones.
        </div>
      ) : null}
      {rows.length > 0 ? (
        <table className="table table-compact" aria-label="Audit records">
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Principal</th>
              <th scope="col">Action</th>
              <th scope="col">Resource</th>
              <th scope="col">Outcome</th>
              <th scope="col">Source</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={String(r.seq)}>
                <td className="nowrap">{fmtTime(r.time)}</td>
                <td>
                  <button type="button" className="btn-link" title="Filter by this principal" onClick={() => setFilterOf("principal", r.principal)}>
                    {r.principal}
                  </button>
                </td>
                <td>
                  <button type="button" className="btn-link" title="Filter by this action" onClick={() => setFilterOf("action", r.action)}>
                    {r.action}
                  </button>
                </td>
                <td className="break">{r.resource}</td>
                <td>
                  <Badge kind={r.outcome === "success" ? "ok" : r.outcome === "denied" ? "bad" : "warn"}>
                    {r.outcome} {r.status}
                  </Badge>
                  {r.errorCode ? <div className="muted small">{r.errorCode}</div> : null}
                </td>
                <td className="small">{r.source}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );

  function setFilterOf(k: "principal" | "action", v: string) {
    const f = { ...draft, [k]: v };
    setDraft(f);
    setFilters(f);
    setTick((t) => t + 1);
  }
}
