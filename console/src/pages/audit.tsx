import { useState, type FormEvent } from "react";
import { useSession } from "../session.tsx";
import type { AuditRecord } from "../types.ts";
import { Badge, Checkbox, Empty, LoadError, Loading, PageHead, Select, TextField, fmtTime, useLoad, useToast } from "../ui.tsx";
import { describeError, hasErrors, type Errors } from "../validation.ts";

interface Filters {
  principal: string;
  action: string;
  resource: string;
  outcome: "" | AuditRecord["outcome"];
  since: string;
  until: string;
}

const MAX_PAGES = 4;
/**
 * The console's own background reads, made for the page chrome (who is logged in, the
 * environment picker's list) rather than for anything the user asked for. They are
 * recorded like every call; the page hides them unless asked (or filtered by action).
 */
export const CHROME_ACTIONS: ReadonlySet<string> = new Set(["iam:WhoAmI", "iam:ListEnvironments"]);
/** The time inputs are in UTC, like every time the console shows: `YYYY-MM-DDTHH:MM` of a time. */
const utcInput = (ms: number): string => new Date(ms).toISOString().slice(0, 16);
const EMPTY: Filters = { principal: "", action: "", resource: "", outcome: "", since: "", until: "" };
const lastDay = (): Filters => ({ ...EMPTY, since: utcInput(Date.now() - 86_400_000) });

/** A `YYYY-MM-DDTHH:MM` input read as UTC → ISO 8601, as the API wants. */
function toIso(utc: string): string | undefined {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(utc)) return undefined;
  const d = new Date(`${utc}Z`);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** The audit log, newest first: filter by principal, action, resource, outcome and time (UTC); verify the hash chain. */
export function AuditPage() {
  const s = useSession();
  const toast = useToast();
  const [draft, setDraft] = useState<Filters>(lastDay);
  const [filters, setFilters] = useState<Filters>(draft);
  const [next, setNext] = useState<string | null>(null);
  const [e, setE] = useState<Errors>({});
  const [tick, setTick] = useState(0);
  const [showChrome, setShowChrome] = useState(false);
  const [verify, setVerify] = useState<{ valid: boolean; records: number; firstBadSeq?: number; reason?: string }>();

  const q = (after?: string) => ({
    limit: 500,
    after,
    order: "desc",
    principal: filters.principal || undefined,
    action: filters.action || undefined,
    resource: filters.resource || undefined,
    outcome: filters.outcome || undefined,
    since: toIso(filters.since),
    until: toIso(filters.until),
  });
  // The API pages newest first (order=desc); the console reads up to MAX_PAGES pages.
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
    return out;
  }, [filters, tick]);

  function search(ev: FormEvent) {
    ev.preventDefault();
    const errs: Errors = {
      since: draft.since && !toIso(draft.since) ? "Not a valid time (YYYY-MM-DDTHH:MM, UTC)." : undefined,
      until: draft.until && !toIso(draft.until) ? "Not a valid time (YYYY-MM-DDTHH:MM, UTC)." : draft.since && draft.until && toIso(draft.until)! < toIso(draft.since)! ? "Until is before since." : undefined,
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

  const all = first.data ?? [];
  // Filtering by a chrome action asks for those records: they are shown then.
  const hideChrome = !showChrome && !CHROME_ACTIONS.has(filters.action);
  const rows = hideChrome ? all.filter((r) => !CHROME_ACTIONS.has(r.action)) : all;
  const hidden = all.length - rows.length;
  return (
    <div>
      <PageHead title="Audit log" intro="One record per API call, allowed or refused, HMAC-chained (append-only), newest first. Values never appear here. Times are UTC.">
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
        <Select
          label="Outcome"
          name="a-outcome"
          value={draft.outcome}
          onChange={(v) => setDraft({ ...draft, outcome: v })}
          options={[
            ["", "Any"],
            ["success", "success"],
            ["failure", "failure"],
            ["denied", "denied"],
          ]}
        />
        <TextField label="Since (UTC)" name="a-since" value={draft.since} onChange={(v) => setDraft({ ...draft, since: v })} error={e.since} placeholder="YYYY-MM-DDTHH:MM" />
        <TextField label="Until (UTC)" name="a-until" value={draft.until} onChange={(v) => setDraft({ ...draft, until: v })} error={e.until} placeholder="YYYY-MM-DDTHH:MM" />
        <Checkbox label="Show the console's background reads" name="a-chrome" checked={showChrome} onChange={setShowChrome} />
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
      {hideChrome && hidden > 0 ? (
        <p className="muted small" data-testid="chrome-hidden">
          {hidden} of the console&apos;s background reads ({[...CHROME_ACTIONS].join(", ")}) hidden.
        </p>
      ) : null}
      {next ? (
        <div className="notice notice-warn" role="status">
          More than {all.length} records match: showing the newest {all.length}. Narrow the time range or the filters to see earlier ones.
        </div>
      ) : null}
      {rows.length > 0 ? (
        <div className="table-wrap">
          <table className="table table-compact" aria-label="Audit records">
            <thead>
              <tr>
                <th scope="col">Time (UTC)</th>
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
        </div>
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
