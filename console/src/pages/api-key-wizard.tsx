import { useEffect, useRef, useState, type FormEvent } from "react";
import { ApiError } from "../api.ts";
import { useSession } from "../session.tsx";
import type { ApiKey, NewApiKey, PrincipalView, RegionOffer } from "../types.ts";
import { FormError, Modal, Radios, Select, TextArea, TextField, arrowKeys, copyText, downloadText, fmtTime, useToast } from "../ui.tsx";
import { describeError, fieldOfError, hasErrors, type Errors } from "../validation.ts";

/**
 * Create API key, as Confluent's console walks it (seed 001): the account (My account, or a
 * service account: existing, or a new one made here) → the resource scope (environment,
 * cloud provider and region; or organization-wide) → name and description → create → the
 * secret shown once, with Download API key (a text file) → Complete.
 */
type Step = "account" | "scope" | "detail" | "download";
const STEPS: readonly (readonly [Step, string])[] = [
  ["account", "Account"],
  ["scope", "Resource scope"],
  ["detail", "API key detail"],
  ["download", "Download"],
];
const CLOUD_NAMES: Readonly<Record<string, string>> = { aws: "AWS", gcp: "Google Cloud", azure: "Azure", coffer: "Coffer" };
const cloudName = (c: string) => CLOUD_NAMES[c] ?? c;
const SA_NAME = /^[A-Za-z0-9][A-Za-z0-9 _.@+-]{0,63}$/;
const REGION = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** The Confluent resource id of a scoped key: `<env>.<cloud>.<region>`. */
export const resourceOf = (k: Pick<ApiKey, "environmentId" | "cloud" | "region">): string => (k.environmentId ? `${k.environmentId}.${k.cloud ?? "coffer"}.${k.region}` : "organization-wide");

/** The downloaded file: what Confluent's "Download API key" saves, a text file with the key and the secret. */
export function keyFileText(k: NewApiKey, o: { owner: string; resource: string; endpoint: string }): string {
  return [
    "Coffer API key",
    "",
    "API key:",
    k.id,
    "",
    "API secret:",
    k.secret,
    "",
    "Resource:",
    o.resource,
    "",
    "Owner:",
    o.owner,
    "",
    ...(k.displayName ? ["Name:", k.displayName, ""] : []),
    "Endpoint:",
    o.endpoint,
    "",
    "Created:",
    fmtTime(k.createdAt),
    "",
    "The secret cannot be retrieved later. Keep this file in a secure location.",
    "",
  ].join("\n");
}

export function ApiKeyWizard({ principals, onCreated, onClose }: { principals: PrincipalView[]; onCreated: () => void; onClose: () => void }) {
  const s = useSession();
  const toast = useToast();
  const me = s.whoami?.principalId;
  const myName = principals.find((p) => p.id === me)?.name;
  /** A service account made by this wizard (before the list reloads). */
  const [made, setMade] = useState<PrincipalView[]>([]);
  const serviceAccounts = [...principals, ...made.filter((m) => !principals.some((p) => p.id === m.id))].filter((p) => p.kind === "service-account");
  const [step, setStep] = useState<Step>("account");
  const [who, setWho] = useState<"me" | "service-account">("me");
  const [saMode, setSaMode] = useState<"existing" | "new">("existing");
  const [saId, setSaId] = useState("");
  const [saName, setSaName] = useState("");
  const [saDescription, setSaDescription] = useState("");
  const [scoped, setScoped] = useState<"scoped" | "org">("scoped");
  const envs = s.environments;
  const [environment, setEnvironment] = useState(envs?.find((x) => x.id === s.scope.environment || x.name === s.scope.environment)?.id ?? s.scope.environment);
  const env = envs?.find((x) => x.id === environment || x.name === environment);
  const offers: RegionOffer[] = env?.offers ?? [];
  const clouds = [...new Set(offers.map((o) => o.cloud))].filter(Boolean);
  const initial = offers.find((o) => o.region === s.scope.region) ?? offers[0];
  const [cloud, setCloud] = useState(initial?.cloud ?? "");
  const [region, setRegion] = useState(initial?.region ?? s.scope.region);
  const [displayName, setDisplayName] = useState("");
  const [description, setDescription] = useState("");
  const [e, setE] = useState<Errors>({});
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<NewApiKey>();
  const [saved, setSaved] = useState(false);
  const [warned, setWarned] = useState(false);
  /** Escape or ✕: once the secret is shown and neither downloaded nor copied, the first attempt only warns (it cannot be shown again). */
  function dismiss() {
    if (created && !saved && !warned) {
      setWarned(true);
      toast("error", "The secret is not saved yet and cannot be shown again: download or copy it, or close again to leave without it.");
      return;
    }
    onClose();
  }
  const body = useRef<HTMLDivElement>(null);

  // Each step takes the focus (its first field, else its heading), as the dialog did on opening.
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const el = body.current;
    (el?.querySelector<HTMLElement>("[role=radio][aria-checked=true], input:not([disabled]), select, textarea") ?? el?.querySelector<HTMLElement>("h3"))?.focus();
  }, [step]);

  function pickEnvironment(id: string) {
    setEnvironment(id);
    const o = envs?.find((x) => x.id === id)?.offers ?? [];
    const keep = o.find((x) => x.cloud === cloud) ?? o[0];
    setCloud(keep?.cloud ?? "");
    setRegion(keep?.region ?? "");
  }
  function pickCloud(c: string) {
    setCloud(c);
    setRegion(offers.find((o) => o.cloud === c)?.region ?? "");
  }

  const ownerLabel = who === "me" ? `${myName ?? me ?? "you"} (my account)` : saMode === "new" ? `${saName} (new service account)` : `${serviceAccounts.find((p) => p.id === saId)?.name ?? saId} (service account)`;
  const picked = offers.find((o) => o.region === region && o.cloud === cloud);
  const scopeLabel = scoped === "org" ? "Organization-wide (every environment and region)" : `${env ? `${env.name} (${env.id})` : environment} · ${picked ? `${cloudName(picked.cloud)} · ${picked.displayName}` : region}`;

  function next(ev: FormEvent) {
    ev.preventDefault();
    if (step === "account") {
      const errs: Errors = who === "me" ? { who: me ? undefined : "Your account is not known yet; try again in a moment." }
        : saMode === "existing" ? { saId: saId ? undefined : serviceAccounts.length ? "Choose the service account that owns the key." : "No service account exists yet: choose New account." }
        : { saName: SA_NAME.test(saName) ? undefined : "A service account name is 1-64 letters, digits, spaces and _ . @ + - (starting with a letter or digit).", saDescription: saDescription.length > 1024 ? "The description is at most 1024 characters." : undefined };
      setE(errs);
      if (!hasErrors(errs)) setStep("scope");
    } else if (step === "scope") {
      const errs: Errors = scoped === "org" ? {} : {
        environment: environment ? undefined : "Choose the environment.",
        cloud: clouds.length && !cloud ? "Choose the cloud provider." : undefined,
        region: REGION.test(region) ? undefined : "Choose the region the key is scoped to.",
      };
      setE(errs);
      if (!hasErrors(errs)) setStep("detail");
    }
  }

  async function create(ev: FormEvent) {
    ev.preventDefault();
    const errs: Errors = { displayName: displayName.length > 128 ? "The name is at most 128 characters." : undefined, description: description.length > 1024 ? "The description is at most 1024 characters." : undefined };
    setE(errs);
    if (hasErrors(errs)) return;
    setBusy(true);
    let owner = who === "me" ? me! : saId;
    try {
      if (who === "service-account" && saMode === "new") {
        try {
          const sa = await s.api.post<PrincipalView>("/v1/service-accounts", { name: saName, description: saDescription || undefined }, { scoped: false });
          owner = sa.id;
          // Made once: a retry after a failed key uses it as an existing account.
          setMade([sa]);
          setSaId(sa.id);
          setSaMode("existing");
          toast("ok", `Service account ${sa.name} (${sa.id}) created.`);
        } catch (x) {
          setE({ saName: describeError(x) });
          setStep("account");
          return;
        }
      }
      const k = await s.api.post<NewApiKey>(
        "/v1/api-keys",
        {
          owner,
          ...(scoped === "scoped" ? { environment, region, ...(cloud ? { cloud } : {}) } : {}),
          displayName: displayName || undefined,
          description: description || undefined,
        },
        { scoped: false },
      );
      setCreated(k);
      setStep("download");
      onCreated();
    } catch (x) {
      const f = fieldOfError(x, { cloud: [/\bcloud\b/i], region: [/region/i], environment: [/environment/i], displayName: [/display/i], description: [/description/i] });
      if (f === "cloud" || f === "region" || f === "environment" || (x instanceof ApiError && x.code === "RegionNotOffered")) {
        setE({ [f ?? "region"]: describeError(x) });
        setStep("scope");
      } else setE({ [f ?? "form"]: describeError(x) });
    } finally {
      setBusy(false);
    }
  }

  function download(k: NewApiKey) {
    const owner = who === "me" ? `${myName ?? k.ownerId} (${k.ownerId}, user)` : `${serviceAccounts.find((p) => p.id === k.ownerId)?.name ?? k.ownerId} (${k.ownerId}, service account)`;
    const resource = k.environmentId ? `${resourceOf(k)} (environment ${env?.name ?? k.environmentId}, ${picked ? `${cloudName(picked.cloud)}, ${picked.displayName}` : `${k.cloud} ${k.region}`})` : "organization-wide";
    downloadText(`coffer-api-key-${k.id}.txt`, keyFileText(k, { owner, resource, endpoint: window.location.origin }), "text/plain");
    setSaved(true);
  }

  const index = STEPS.findIndex(([x]) => x === step);
  const back = (to: Step) => (
    <button type="button" className="btn" onClick={() => { setE({}); setStep(to); }}>
      Back
    </button>
  );

  return (
    <Modal title="Create API key" onClose={dismiss} wide>
      <ol className="steps" aria-label="Steps">
        {STEPS.map(([k, label], i) => (
          <li key={k} className={i < index ? "done" : i === index ? "current" : ""} aria-current={i === index ? "step" : undefined}>
            {label}
          </li>
        ))}
      </ol>
      <div ref={body}>
        {step === "account" ? (
          <form onSubmit={next} noValidate>
            <div className="type-tabs key-owner" role="radiogroup" aria-label="Account" onKeyDown={arrowKeys}>
              {([["me", "My account", "interactive queries and short-lived statements, as you"], ["service-account", "Service account", "long-running statements (recommended in production)"]] as const).map(([k, label, hint]) => (
                <button key={k} type="button" role="radio" aria-checked={who === k} tabIndex={who === k ? 0 : -1} className={`type-tab${who === k ? " selected" : ""}`} onClick={() => setWho(k)}>
                  <strong>{label}</strong>
                  <span>{hint}</span>
                </button>
              ))}
            </div>
            {e.who ? <FormError error={e.who} /> : null}
            {who === "me" ? (
              <p className="muted">The key acts as you ({myName ?? me ?? "…"}), with your permissions.</p>
            ) : (
              <>
                <Radios
                  legend="Service account"
                  name="sa-mode"
                  value={saMode}
                  onChange={(v) => { setSaMode(v); setE({}); }}
                  options={[
                    ["existing", "Existing account"],
                    ["new", "New account", "created when you create the key"],
                  ]}
                />
                {saMode === "existing" ? (
                  <Select label="Existing service account" name="sa-id" value={saId} onChange={setSaId} error={e.saId} options={[["", serviceAccounts.length ? "Choose…" : "None exist yet"], ...serviceAccounts.map((p) => [p.id, `${p.name} (${p.id})`] as const)]} />
                ) : (
                  <>
                    <TextField label="Service account name" name="sa-name" value={saName} onChange={setSaName} error={e.saName} hint="1-64 letters, digits, spaces and _ . @ + -." />
                    <TextArea label="Service account description" name="sa-description" rows={2} value={saDescription} onChange={setSaDescription} error={e.saDescription} />
                  </>
                )}
              </>
            )}
            <div className="form-actions">
              <button type="button" className="btn" onClick={onClose}>
                Cancel
              </button>
              <button type="submit" className="btn-primary">
                Next
              </button>
            </div>
          </form>
        ) : step === "scope" ? (
          <form onSubmit={next} noValidate>
            <Radios
              legend="Resource scope"
              name="scope"
              value={scoped}
              onChange={setScoped}
              options={[
                ["scoped", "An environment, cloud provider and region", "the key works only there (resource id environment.cloud.region); choose where your statements run"],
                ["org", "Organization-wide", "every environment and region, and the organization APIs"],
              ]}
            />
            {scoped === "scoped" ? (
              envs ? (
                <>
                  <Select label="Environment" name="key-environment" value={env?.id ?? environment} onChange={pickEnvironment} error={e.environment} options={envs.map((x) => [x.id, `${x.name} (${x.id})`] as const)} />
                  {offers.length ? (
                    <div className="row">
                      <Select label="Cloud provider" name="key-cloud" value={cloud} onChange={pickCloud} error={e.cloud} options={clouds.map((c) => [c, cloudName(c)] as const)} />
                      <Select label="Region" name="key-region" value={region} onChange={setRegion} error={e.region} options={offers.filter((o) => o.cloud === cloud).map((o) => [o.region, o.displayName] as const)} />
                    </div>
                  ) : (
                    <TextField label="Region" name="key-region" value={region} onChange={setRegion} error={e.region ?? e.cloud} hint="This environment offers no region yet; in dev mode the first use adds it. Its cloud follows from its name." />
                  )}
                </>
              ) : (
                <div className="row">
                  <TextField label="Environment" name="key-environment" value={environment} onChange={setEnvironment} error={e.environment} />
                  <TextField label="Region" name="key-region" value={region} onChange={setRegion} error={e.region ?? e.cloud} hint="Its cloud follows from its name (aws, gcp, azure, else coffer)." />
                </div>
              )
            ) : null}
            <div className="form-actions">
              {back("account")}
              <button type="submit" className="btn-primary">
                Next
              </button>
            </div>
          </form>
        ) : step === "detail" ? (
          <form onSubmit={create} noValidate>
            <dl className="props">
              <dt>Owner</dt>
              <dd>{ownerLabel}</dd>
              <dt>Resource scope</dt>
              <dd>{scopeLabel}</dd>
            </dl>
            <TextField label="Name" name="key-name" value={displayName} onChange={setDisplayName} error={e.displayName} hint="Optional." />
            <TextArea label="Description" name="key-description" rows={2} value={description} onChange={setDescription} error={e.description} hint="Optional." />
            <FormError error={e.form} />
            <div className="form-actions">
              {back("scope")}
              <button type="submit" className="btn-primary" disabled={busy}>
                Create API key
              </button>
            </div>
          </form>
        ) : created ? (
          <SecretOnce k={created} saved={saved} onDownload={() => download(created)} onCopied={() => setSaved(true)} onComplete={onClose} ownerLabel={ownerLabel} toast={toast} />
        ) : null}
      </div>
    </Modal>
  );
}

/**
 * The only place a secret is ever shown: the wizard's last step, until Complete (or the
 * dialog closes). It is kept nowhere else; the list never has it, nothing logs it, and the
 * download's object URL is revoked once the browser has it.
 */
function SecretOnce(p: { k: NewApiKey; saved: boolean; ownerLabel: string; onDownload: () => void; onCopied: () => void; onComplete: () => void; toast: ReturnType<typeof useToast> }) {
  const { k } = p;
  return (
    <section className="secret-once-step" aria-labelledby="once-title">
      <h3 id="once-title" tabIndex={-1}>
        Download API key
      </h3>
      <p>The secret is shown only this once: download it (or copy it) and keep it in a secure location. Coffer cannot show it again; if you lose it, delete the key and create another.</p>
      <dl className="props secret-once">
        <dt>Key</dt>
        <dd>
          <code data-testid="new-key-id">{k.id}</code>
        </dd>
        <dt>Secret</dt>
        <dd>
          <code className="secret" data-testid="new-key-secret">
            {k.secret}
          </code>
        </dd>
        <dt>Resource</dt>
        <dd>
          <code>{resourceOf(k)}</code>
        </dd>
        <dt>Owner</dt>
        <dd>{p.ownerLabel}</dd>
      </dl>
      <div className="form-actions">
        <button
          type="button"
          className="btn"
          onClick={() =>
            void copyText(`${k.id}:${k.secret}`).then((ok) => {
              p.toast(ok ? "ok" : "error", ok ? "Key and secret copied (key:secret)." : "The browser refused the clipboard; use Download API key.");
              if (ok) p.onCopied();
            })
          }
        >
          Copy
        </button>
        <button type="button" className={p.saved ? "btn" : "btn-primary"} onClick={p.onDownload}>
          Download API key
        </button>
        <button type="button" className={p.saved ? "btn-primary" : "btn"} onClick={p.onComplete}>
          Complete
        </button>
      </div>
    </section>
  );
}
