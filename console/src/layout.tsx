import { useEffect, useId, useState, type FormEvent } from "react";
import { ApiKeysPage } from "./pages/api-keys.tsx";
import { AuditPage } from "./pages/audit.tsx";
import { KeyDetailPage, KeysPage } from "./pages/keys.tsx";
import { PoliciesPage } from "./pages/policies.tsx";
import { PrincipalsPage } from "./pages/principals.tsx";
import { SecretCreatePage } from "./pages/secret-create.tsx";
import { SecretDetailPage } from "./pages/secret-detail.tsx";
import { SecretsPage } from "./pages/secrets.tsx";
import { SecretValuesPage } from "./pages/secret-values.tsx";
import { SqlEditorPage } from "./pages/sql-editor.tsx";
import { WorkflowKeysPage } from "./pages/workflow-keys.tsx";
import { Link, match, useRouter } from "./router.tsx";
import { useSession } from "./session.tsx";

const NAV: { to: string; label: string; section?: string }[] = [
  { to: "/secrets", label: "Secrets", section: "Secrets" },
  { to: "/keys", label: "KMS keys" },
  { to: "/secret-values", label: "Secret values" },
  { to: "/sql-editor", label: "SQL editor" },
  { to: "/workflow-keys", label: "Workflow keys" },
  { to: "/api-keys", label: "API keys", section: "Access" },
  { to: "/principals", label: "Users & service accounts" },
  { to: "/policies", label: "Policies & roles" },
  { to: "/audit", label: "Audit log", section: "Audit" },
];

function Page() {
  const { path, navigate } = useRouter();
  useEffect(() => {
    if (path === "/" || path === "") navigate("/secrets", { replace: true });
  }, [path]); // eslint-disable-line react-hooks/exhaustive-deps
  let m: Record<string, string> | undefined;
  if (path === "/secrets") return <SecretsPage />;
  if (path === "/secrets/new") return <SecretCreatePage />;
  if ((m = match("/secrets/:name", path))) return <SecretDetailPage name={m.name!} />;
  if (path === "/keys") return <KeysPage />;
  if ((m = match("/keys/:keyId", path))) return <KeyDetailPage keyId={m.keyId!} />;
  if (path === "/api-keys") return <ApiKeysPage />;
  if (path === "/principals") return <PrincipalsPage />;
  if (path === "/policies") return <PoliciesPage />;
  if (path === "/secret-values") return <SecretValuesPage />;
  if (path === "/sql-editor") return <SqlEditorPage />;
  if (path === "/workflow-keys") return <WorkflowKeysPage />;
  if (path === "/audit") return <AuditPage />;
  if (path === "/" || path === "") return null;
  return (
    <div>
      <h1>Not found</h1>
      <p>
        No console page at <code>{path}</code>. <Link to="/secrets">Go to secrets</Link>.
      </p>
    </div>
  );
}

/** The environment and region every scoped call goes to: always visible in the header. */
function ScopePicker() {
  const s = useSession();
  const envId = useId();
  const regionId = useId();
  const [otherRegion, setOtherRegion] = useState("");
  const [typing, setTyping] = useState(false);
  const envs = s.environments;
  const current = envs?.find((e) => e.id === s.scope.environment || e.name === s.scope.environment);
  const regions = current ? [...new Set([...current.regions, s.scope.region])] : [s.scope.region];

  function pickEnv(id: string) {
    const e = envs?.find((x) => x.id === id);
    s.setScope({ environment: id, region: e?.regions[0] ?? s.scope.region });
  }
  function submitOther(ev: FormEvent) {
    ev.preventDefault();
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/i.test(otherRegion)) return;
    s.setScope({ ...s.scope, region: otherRegion });
    setTyping(false);
    setOtherRegion("");
  }

  return (
    <div className="scope" aria-label="Scope: environment and region" role="group">
      <label htmlFor={envId}>Environment</label>
      {envs ? (
        <select id={envId} name="environment" value={current?.id ?? s.scope.environment} onChange={(e) => pickEnv(e.target.value)}>
          {envs.map((e) => (
            <option key={e.id} value={e.id}>
              {e.name} ({e.id})
            </option>
          ))}
          {current ? null : <option value={s.scope.environment}>{s.scope.environment}</option>}
        </select>
      ) : (
        <input id={envId} name="environment" value={s.scope.environment} onChange={(e) => s.setScope({ ...s.scope, environment: e.target.value })} title={s.environmentsError} />
      )}
      <label htmlFor={regionId}>Region</label>
      {typing ? (
        <form onSubmit={submitOther} className="inline-form">
          <input id={regionId} name="region-other" value={otherRegion} autoFocus placeholder="e.g. us-east-1" onChange={(e) => setOtherRegion(e.target.value)} onKeyDown={(e) => e.key === "Escape" && setTyping(false)} />
          <button type="submit" className="btn-small">
            Use
          </button>
        </form>
      ) : (
        <select
          id={regionId}
          name="region"
          value={s.scope.region}
          onChange={(e) => (e.target.value === "\u0000other" ? setTyping(true) : s.setScope({ ...s.scope, region: e.target.value }))}
        >
          {regions.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
          <option value={"\u0000other"}>Other region…</option>
        </select>
      )}
    </div>
  );
}

export function Layout() {
  const s = useSession();
  const { path } = useRouter();
  async function logout() {
    await s.api.post("/v1/auth/logout", {}, { scoped: false }).catch(() => undefined);
    s.logout("You are logged out.");
  }
  return (
    <div className="shell">
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="top">
        <div className="brand">
          <span className="logo" aria-hidden="true">
            ◆
          </span>{" "}
          Coffer
        </div>
        <ScopePicker />
        <div className="who">
          <span title={s.whoami ? `${s.whoami.principalId} (${s.whoami.kind})` : undefined}>
            {s.username}
            {s.whoami ? <span className="muted"> · {s.whoami.principalId}</span> : null}
          </span>
          <button type="button" className="btn-small" onClick={() => void logout()}>
            Log out
          </button>
        </div>
      </header>
      <nav className="side" aria-label="Pages">
        <ul>
          {NAV.map((n) => (
            <li key={n.to}>
              {n.section ? <div className="nav-section">{n.section}</div> : null}
              <Link to={n.to} className={path === n.to || path.startsWith(`${n.to}/`) ? "active" : undefined} aria-current={path === n.to || path.startsWith(`${n.to}/`) ? "page" : undefined}>
                {n.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" className="content" tabIndex={-1}>
        <Page />
      </main>
    </div>
  );
}
