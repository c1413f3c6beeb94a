import { useEffect, useState, type FormEvent } from "react";
import { Api, ApiError, health, login, sealStatus, unseal, type Scope } from "../api.ts";
import type { Environment } from "../types.ts";
import { FormError, Progress, TextField } from "../ui.tsx";

type Health = Awaited<ReturnType<typeof health>>;

/** Log in as a user (`POST /v1/auth/login`); a sealed server offers its unseal form instead. */
export function LoginPage(p: { notice: string | undefined; onLoggedIn: (a: { token: string; username: string; expiresAt: string; scope: Scope }) => void }) {
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [errors, setErrors] = useState<{ username?: string; password?: string; form?: string }>({});
  const [busy, setBusy] = useState(false);
  const [h, setH] = useState<Health>();
  const [healthError, setHealthError] = useState<string>();

  const refresh = () =>
    health().then(
      (x) => {
        setH(x);
        setHealthError(undefined);
      },
      (e: Error) => setHealthError(e.message),
    );
  useEffect(() => {
    void refresh();
  }, []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    const errs: typeof errors = {};
    if (!username) errs.username = "Enter your user name.";
    if (!password) errs.password = "Enter your password.";
    setErrors(errs);
    if (errs.username || errs.password) return;
    setBusy(true);
    try {
      const r = await login(username, password);
      // The first scope: the default environment and its first region.
      let scope: Scope = { environment: "env-default", region: "local" };
      try {
        const envs = await new Api(r.token, () => scope, () => undefined).get<{ environments: Environment[] }>("/v1/environments", { limit: 100 }, { scoped: false });
        const def = envs.environments.find((x) => x.id === "env-default") ?? envs.environments[0];
        if (def) scope = { environment: def.id, region: def.regions[0] ?? "local" };
      } catch {
        /* no iam:ListEnvironments: the picker offers free text */
      }
      setPassword("");
      p.onLoggedIn({ token: r.token, username, expiresAt: r.expiresAt, scope });
    } catch (err) {
      if (err instanceof ApiError && err.code === "Unauthenticated") setErrors({ password: err.message });
      else if (err instanceof ApiError && err.code === "Sealed") {
        setErrors({ form: err.message });
        void refresh();
      } else setErrors({ form: err instanceof Error ? err.message : String(err) });
    } finally {
      setBusy(false);
    }
  }

  return (
    <main className="login">
      <div className="login-card">
        <div className="brand brand-large">
          <span className="logo" aria-hidden="true">
            ◆
          </span>{" "}
          Coffer
        </div>
        <p className="muted">Secrets manager and key management service</p>
        {p.notice ? (
          <div className="notice" role="status">
            {p.notice}
          </div>
        ) : null}
        {healthError ? <FormError error={`The server does not answer: ${healthError}`} /> : null}
        {h?.sealed ? <UnsealForm onChange={() => void refresh()} /> : null}
        <form onSubmit={submit} noValidate aria-label="Log in">
          <h1>Log in</h1>
          <TextField label="User name" name="username" value={username} onChange={setUsername} autoFocus autoComplete="username" error={errors.username} required />
          <TextField label="Password" name="password" type="password" value={password} onChange={setPassword} autoComplete="current-password" error={errors.password} required />
          <FormError error={errors.form} />
          <button type="submit" className="btn-primary" disabled={busy}>
            {busy ? "Logging in…" : "Log in"}
          </button>
        </form>
        <p className="hint">
          The session lives in this tab's memory only: reloading the page or closing the tab logs you out. Sessions last one hour.
          {h ? ` Server ${h.version}, ${h.storage}${h.devMode ? ", dev mode" : ""}.` : ""}
        </p>
      </div>
    </main>
  );
}

function UnsealForm({ onChange }: { onChange: () => void }) {
  const [share, setShare] = useState("");
  const [status, setStatus] = useState<Awaited<ReturnType<typeof sealStatus>>>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    sealStatus().then(setStatus, () => undefined);
  }, []);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setError(undefined);
    try {
      const s = await unseal(share.trim());
      setShare("");
      setStatus({ ...s, initialized: true });
      if (!s.sealed) onChange();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  }
  return (
    <form className="unseal" onSubmit={submit} aria-label="Unseal">
      <h2>The server is sealed</h2>
      <p className="muted">Enter unseal key shares (`coffer operator init` printed them) until the threshold is reached.</p>
      {status ? <Progress label="Unseal progress" value={status.progress} max={status.threshold} /> : null}
      <TextField label="Unseal key share" name="share" type="password" value={share} onChange={setShare} error={error} />
      <button type="submit" className="btn-primary" disabled={!share}>
        Submit share
      </button>
    </form>
  );
}
