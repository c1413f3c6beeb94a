import { useEffect, useState, type FormEvent, type ReactNode } from "react";
import { DATABASE_ENGINE_INFO, DATABASE_ENGINES, type DatabaseEngine } from "../../../src/contract/rotation-targets.ts";
import { enc } from "../api.ts";
import { Link, useRouter } from "../router.tsx";
import { intervalBounds, toSeconds, type IntervalUnit } from "../secret-types.ts";
import { useSession } from "../session.tsx";
import type { Key, PrincipalView, Secret, Tag } from "../types.ts";
import { Checkbox, FormActions, FormError, PageHead, PairsEditor, Radios, Select, TextArea, TextField, arrowKeys, useToast } from "../ui.tsx";
import { BulkResults, BulkRowsEditor, checkBulkRows, createInBulk, newBulkRow, type BulkResult, type BulkRow } from "./redis-bulk.tsx";
import { MSG, checkSecretName, checkTags, checkValue, checkVersionId, cleanTags, describeError, fieldOfError, hasErrors, type Errors } from "../validation.ts";

type Kind = "generic" | "database" | "access-key" | "server";

const KINDS: readonly (readonly [Kind, string, string])[] = [
  ["generic", "Generic secret", "Any sensitive value: an API key, a token, a certificate, or key/value pairs."],
  ["database", "Database secret", "PostgreSQL, MySQL/MariaDB or Redis accounts that Coffer creates or imports and rotates."],
  ["access-key", "Access key secret", "The API key pair of a Coffer service account, rotated with a grace period."],
  ["server", "Server login secret", "A user on an SSH host: a password or an SSH key pair, rotated on the host."],
];

/** Fields every type shares (the seeds' CMK, Tag, Description and Policy Settings rows). */
interface Common {
  name: string;
  keyId: string;
  tags: Tag[];
  description: string;
  policy: string;
}

interface Rotation {
  enabled: boolean;
  every: string;
  unit: IntervalUnit;
}

const newCommon = (): Common => ({ name: "", keyId: "", tags: [], description: "", policy: "" });

/** Create a secret: one form per type, mirroring the KMS seeds' parameter tables. */
export function SecretCreatePage() {
  const { search } = useRouter();
  const initial = (search.get("type") as Kind | null) ?? "generic";
  const [kind, setKind] = useState<Kind>(KINDS.some(([k]) => k === initial) ? initial : "generic");
  return (
    <div>
      <PageHead title="Create secret" intro={<Link to="/secrets">← Secrets</Link>} />
      <div className="type-tabs" role="radiogroup" aria-label="Secret type" onKeyDown={arrowKeys}>
        {KINDS.map(([k, label, hint]) => (
          <button key={k} type="button" role="radio" aria-checked={kind === k} tabIndex={kind === k ? 0 : -1} className={`type-tab${kind === k ? " selected" : ""}`} onClick={() => setKind(k)}>
            <strong>{label}</strong>
            <span>{hint}</span>
          </button>
        ))}
      </div>
      {kind === "generic" ? <GenericForm /> : <ManagedForm key={kind} kind={kind} />}
    </div>
  );
}

/* ------------------------------------------------------------------ shared parts */

function useKeys(): Key[] | undefined {
  const s = useSession();
  const [keys, setKeys] = useState<Key[]>();
  useEffect(() => {
    s.api.get<{ keys: Key[] }>("/v1/keys", { limit: 100 }).then(
      (r) => setKeys(r.keys.filter((k) => k.keyState === "Enabled")),
      () => setKeys([]),
    );
  }, [s.scopeKey]); // eslint-disable-line react-hooks/exhaustive-deps
  return keys;
}

function CommonTop({ c, set, e, nameHint, nameLabel }: { c: Common; set: (c: Common) => void; e: Errors; nameHint?: ReactNode; nameLabel?: string }) {
  return (
    <TextField
      label={nameLabel ?? "Secret name"}
      name="name"
      value={c.name}
      onChange={(v) => set({ ...c, name: v })}
      error={e.name}
      required
      autoFocus
      hint={nameHint ?? "The name of the secret. The secret name is unique within the current region (and environment). 1-192 letters, digits and / _ + = . @ -."}
    />
  );
}

function CommonBottom({ c, set, e, keys }: { c: Common; set: (c: Common) => void; e: Errors; keys: Key[] | undefined }) {
  const s = useSession();
  return (
    <>
      <Select
        label="CMK"
        name="keyId"
        value={c.keyId}
        onChange={(v) => set({ ...c, keyId: v })}
        error={e.keyId}
        options={[["", "Default key of this environment and region"], ...(keys ?? []).filter((k) => !k.isDefault).map((k) => [k.keyId, `${k.aliases[0] ?? k.keyId}${k.description ? ` — ${k.description}` : ""}`] as const)]}
        hint={`The key that is used to encrypt the current value of the secret. Your key and secret must belong to the same environment and region (${s.scope.environment} / ${s.scope.region}). Writing a value needs kms:GenerateDataKey on it.`}
      />
      <PairsEditor
        legend="Tags"
        name="tags"
        pairs={c.tags}
        onChange={(tags) => set({ ...c, tags })}
        keyLabel="Tag key"
        valueLabel="Tag value"
        addLabel="Add tag"
        max={20}
        error={e.tags}
        hint="A tag key or a tag value can be up to 128 characters. Tag keys starting with aliyun or acs: are reserved (the Alibaba Cloud KMS API that Coffer also serves keeps them for its own tags), so they are refused. You can configure up to 20 key-value pairs for each secret."
      />
      <TextArea label="Description" name="description" rows={2} value={c.description} onChange={(v) => set({ ...c, description: v })} error={e.description} />
      <details className="advanced">
        <summary>Advanced settings: policy settings</summary>
        <TextArea
          label="Resource policy (JSON)"
          name="policy"
          rows={6}
          mono
          value={c.policy}
          onChange={(v) => set({ ...c, policy: v })}
          error={e.policy}
          placeholder='{"Version":"1","Statement":[{"Effect":"Allow","Principal":{"Coffer":"sa-…"},"Action":"secrets:GetSecretValue","Resource":"*"}]}'
          hint="Optional. Empty: the default policy applies (identity policies decide); you can change the policy after you create the secret."
        />
      </details>
    </>
  );
}

function checkCommon(c: Common): Errors {
  const e: Errors = { name: checkSecretName(c.name), tags: checkTags(c.tags) };
  if (c.description.length > 8192) e.description = "The description is at most 8,192 characters.";
  if (c.policy.trim()) {
    try {
      const d = JSON.parse(c.policy);
      if (!d || typeof d !== "object" || Array.isArray(d)) e.policy = "The policy must be a JSON object.";
    } catch (x) {
      e.policy = `Not valid JSON: ${(x as Error).message}`;
    }
  }
  return e;
}

const COMMON_FIELDS: Record<string, (string | RegExp)[]> = {
  name: [/secret name/i, /\bname\b/i],
  keyId: [/\bkey\b.*(disabled|pending|not exist|generatedatakey)/i, /kms:GenerateDataKey/],
  tags: [/\btag/i],
  description: [/description/i],
};

function RotationFields({ r, set, kind, e }: { r: Rotation; set: (r: Rotation) => void; kind: "database" | "server" | "access-key"; e: Errors }) {
  const b = intervalBounds(kind);
  return (
    <fieldset className="field group">
      <legend>Automatic rotation</legend>
      <Checkbox label="Enable automatic rotation" name="rotation-enabled" checked={r.enabled} onChange={(v) => set({ ...r, enabled: v })} hint="Coffer periodically updates the secret based on the rotation period." />
      {r.enabled ? (
        <div className="row">
          <TextField label={kind === "access-key" ? "Days (7 Days to 365 Days)" : "Rotation period"} name="rotation-every" value={r.every} inputMode="numeric" onChange={(v) => set({ ...r, every: v })} error={e.rotation} hint={b.text} />
          {kind === "access-key" ? null : (
            <Select
              label="Unit"
              name="rotation-unit"
              value={r.unit}
              onChange={(v) => set({ ...r, unit: v })}
              options={[
                ["hours", "hours"],
                ["days", "days"],
              ]}
            />
          )}
        </div>
      ) : null}
    </fieldset>
  );
}

function checkRotation(r: Rotation, kind: "database" | "server" | "access-key"): string | undefined {
  if (!r.enabled) return undefined;
  const b = intervalBounds(kind);
  if (!/^\d+$/.test(r.every.trim())) return `The rotation period is a whole number. ${b.text}`;
  const secs = toSeconds(Number(r.every), kind === "access-key" ? "days" : r.unit);
  if (secs < b.min || secs > b.max) return `This setting is required only when you enable automatic rotation. ${b.text}`;
  return undefined;
}

async function applyPolicy(api: ReturnType<typeof useSession>["api"], name: string, policy: string): Promise<string | undefined> {
  if (!policy.trim()) return undefined;
  try {
    await api.put(`/v1/secrets/${enc(name)}/policy`, { document: JSON.parse(policy) });
    return undefined;
  } catch (e) {
    return describeError(e);
  }
}

function Actions({ busy, label }: { busy: boolean; label?: string }) {
  const { navigate } = useRouter();
  return (
    <FormActions onCancel={() => navigate("/secrets")} submit={busy ? "Creating…" : (label ?? "OK")} busy={busy} />
  );
}

/* ------------------------------------------------------------------ generic */

function GenericForm() {
  const s = useSession();
  const toast = useToast();
  const { navigate } = useRouter();
  const keys = useKeys();
  const [c, setC] = useState<Common>(newCommon);
  const [format, setFormat] = useState<"kv" | "text">("text");
  const [text, setText] = useState("");
  const [pairs, setPairs] = useState<{ key: string; value: string }[]>([{ key: "", value: "" }]);
  const [versionId, setVersionId] = useState("v1");
  const [e, setE] = useState<Errors>({});
  const [form, setForm] = useState<string>();
  const [busy, setBusy] = useState(false);

  function value(): string {
    if (format === "text") return text;
    const o: Record<string, string> = {};
    for (const p of pairs) if (p.key) o[p.key] = p.value;
    return JSON.stringify(o);
  }

  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const errs = checkCommon(c);
    if (format === "kv") {
      const keysUsed = pairs.filter((p) => p.key).map((p) => p.key);
      if (keysUsed.length === 0 || new Set(keysUsed).size !== keysUsed.length || pairs.some((p) => !p.key && p.value)) errs.value = MSG.kvJson;
    }
    errs.value ??= checkValue(value());
    errs.versionId = versionId ? checkVersionId(versionId) : undefined;
    setE(errs);
    setForm(undefined);
    if (hasErrors(errs)) return;
    setBusy(true);
    try {
      const r = await s.api.post<Secret>("/v1/secrets", {
        name: c.name,
        value: value(),
        versionId: versionId || undefined,
        keyId: c.keyId || undefined,
        description: c.description || undefined,
        tags: cleanTags(c.tags).length ? cleanTags(c.tags) : undefined,
      });
      setText("");
      setPairs([{ key: "", value: "" }]);
      const pe = await applyPolicy(s.api, r.name, c.policy);
      toast(pe ? "error" : "ok", pe ? `Secret created, but its policy was refused: ${pe}` : `Secret ${r.name} created.`);
      navigate(`/secrets/${enc(r.name)}`);
    } catch (err) {
      const f = fieldOfError(err, { ...COMMON_FIELDS, value: [/value/i, /bytes/i], versionId: [/version/i] });
      if (f) setE({ [f]: describeError(err) });
      else setForm(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="form" onSubmit={submit} noValidate aria-label="Create a generic secret">
      <p className="note">You cannot configure secret rotation when you create a generic secret; set a rotation webhook on the secret's page afterwards.</p>
      <CommonTop c={c} set={setC} e={e} />
      <Radios
        legend="Secret value"
        name="format"
        value={format}
        onChange={setFormat}
        options={[
          ["kv", "Secret Key/Value", "stored as a JSON object"],
          ["text", "Plain Text"],
        ]}
      />
      {format === "text" ? (
        <TextArea label="Value" name="value" rows={4} mono value={text} onChange={setText} error={e.value} required hint="The value cannot exceed 30,720 bytes in length, which is equivalent to 30 KB in size." />
      ) : (
        <PairsEditor legend="Key/value pairs" name="kv" pairs={pairs} onChange={setPairs} keyLabel="Key" valueLabel="Value" addLabel="Add key" secretValues error={e.value} hint="The value cannot exceed 30,720 bytes in length (as JSON)." />
      )}
      <TextField label="Initial version" name="versionId" value={versionId} onChange={setVersionId} error={e.versionId} hint="The initial version of the secret. Default value: v1. You can also specify a custom version number." />
      <CommonBottom c={c} set={setC} e={e} keys={keys} />
      <FormError error={form} />
      <Actions busy={busy} />
    </form>
  );
}

/* ------------------------------------------------------------------ managed */

interface Db {
  engine: DatabaseEngine;
  /** A PolarDB cluster (MySQL- or PostgreSQL-compatible), managed like RDS of its engine. */
  polardb?: boolean;
  host: string;
  port: string;
  tls: boolean;
  database: string;
  adminSecret: string;
  mode: "dual" | "single";
  account: "create" | "import";
  usernamePrefix: string;
  privileges: "readwrite" | "readonly";
  accountType: "standard" | "privileged";
  /** Import: the (first) account and its current password. */
  accountName: string;
  password: string;
  /** Dual import: the second account and its current password (one password per account, as the seeds' form). */
  secondAccountName: string;
  secondPassword: string;
  /** Import even when the target refuses a given password: the first rotation sets one (audited). */
  takeOver: boolean;
  /** Redis: Create Single Secret or Create Bulk Secrets. */
  bulk: boolean;
}

interface Srv {
  host: string;
  port: string;
  userName: string;
  credential: "password" | "ssh-key";
  password: string;
  privateKey: string;
  hostKeySha256: string;
  adminSecret: string;
  keyType: "ed25519" | "rsa3072";
}

interface Ak {
  serviceAccountId: string;
  value: "new" | "import";
  accessKeyId: string;
  accessKeySecret: string;
  keyScope: "secret" | "organization";
  graceHours: string;
}

const defaultPort = (e: DatabaseEngine) => String(DATABASE_ENGINE_INFO[e].defaultPort);

function ManagedForm({ kind }: { kind: Exclude<Kind, "generic"> }) {
  const s = useSession();
  const toast = useToast();
  const { navigate } = useRouter();
  const keys = useKeys();
  const [c, setC] = useState<Common>(newCommon);
  const [rot, setRot] = useState<Rotation>({ enabled: false, every: kind === "access-key" ? "30" : "7", unit: "days" });
  const [db, setDb] = useState<Db>({ engine: "postgres", host: "", port: defaultPort("postgres"), tls: false, database: "", adminSecret: "", mode: "dual", account: "create", usernamePrefix: "", privileges: "readwrite", accountType: "standard", accountName: "", password: "", secondAccountName: "", secondPassword: "", takeOver: false, bulk: false });
  const [rows, setRows] = useState<BulkRow[]>(() => [newBulkRow(), newBulkRow()]);
  const [bulkResults, setBulkResults] = useState<BulkResult[]>();
  const [srv, setSrv] = useState<Srv>({ host: "", port: "22", userName: "", credential: "password", password: "", privateKey: "", hostKeySha256: "", adminSecret: "", keyType: "ed25519" });
  const [ak, setAk] = useState<Ak>({ serviceAccountId: "", value: "new", accessKeyId: "", accessKeySecret: "", keyScope: "secret", graceHours: "24" });
  const [sas, setSas] = useState<PrincipalView[]>();
  const [secrets, setSecrets] = useState<Secret[]>();
  const [e, setE] = useState<Errors>({});
  const [form, setForm] = useState<string>();
  const [warnings, setWarnings] = useState<string[]>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    if (kind === "access-key")
      s.api.get<{ serviceAccounts: PrincipalView[] }>("/v1/service-accounts", { limit: 100 }, { scoped: false }).then(
        (r) => setSas(r.serviceAccounts),
        () => setSas([]),
      );
    else
      s.api.get<{ secrets: Secret[] }>("/v1/secrets", { limit: 100 }).then(
        (r) => setSecrets(r.secrets.filter((x) => !x.name.startsWith(".coffer/"))),
        () => setSecrets([]),
      );
  }, [s.scopeKey]); // eslint-disable-line react-hooks/exhaustive-deps

  const redis = kind === "database" && db.engine === "redis";
  const bulk = redis && db.bulk;
  /** The seeds' RAM secret name: generated from the service account's name. */
  const ramName = (saId: string) => {
    const sa = sas?.find((x) => x.id === saId);
    return sa ? `acs/ram/user/${sa.name}` : "";
  };

  function validate(): Errors {
    const errs = checkCommon(c);
    if (bulk) {
      errs.name = undefined;
      Object.assign(errs, checkBulkRows(rows));
    }
    errs.rotation = checkRotation(rot, kind);
    const port = (p: string) => (/^\d+$/.test(p) && Number(p) >= 1 && Number(p) <= 65535 ? undefined : "The port must be 1-65535.");
    const host = (h: string) => (/^[A-Za-z0-9][A-Za-z0-9._:-]{0,252}$/.test(h) ? undefined : "Enter the host name or address of the instance.");
    if (kind === "database") {
      errs.host = host(db.host);
      errs.port = port(db.port);
      if (!db.adminSecret) errs.adminSecret = "Choose the secret that holds the admin credential ({AccountName, AccountPassword}).";
      if (!redis && db.database && !/^[A-Za-z0-9_$*-]{1,63}$/.test(db.database)) errs.database = "The database name is 1-63 letters, digits and _ $ * -.";
      else if (db.engine === "mysql" && db.account === "create" && db.accountType === "standard" && !bulk && (!db.database || db.database.includes("*")))
        errs.database = "A standard account Coffer creates gets its permissions on one named database: enter it.";
      if (bulk) {
        // Checked per row above.
      } else if (db.account === "create" || redis) {
        if (!/^[A-Za-z][A-Za-z0-9_]{0,23}$/.test(db.usernamePrefix)) errs.usernamePrefix = "Enter a username prefix: 1-24 letters, digits and _, starting with a letter.";
      } else {
        const account = /^[A-Za-z_][A-Za-z0-9_.-]{0,62}$/;
        if (!account.test(db.accountName)) errs.accountName = "Select a username: letters, digits and _ . - (at most 63).";
        if (!db.password) errs.password = "Enter the current password of this username: Coffer checks it on the target.";
        if (db.mode === "dual") {
          if (!account.test(db.secondAccountName)) errs.secondAccountName = "Select the second username, with the same permissions as the first.";
          else if (db.secondAccountName === db.accountName) errs.secondAccountName = "The two usernames of dual accounts must differ.";
          if (!db.secondPassword) errs.secondPassword = "Enter the current password of the second username: each account is imported with its own password.";
        }
      }
    } else if (kind === "server") {
      errs.host = host(srv.host);
      errs.port = port(srv.port);
      if (!/^[a-z_][a-z0-9_.-]{0,31}\$?$/.test(srv.userName)) errs.userName = "The name of an existing user on the host, such as root.";
      if (srv.credential === "password" && !srv.password) errs.password = "Enter the user's current password: the value that is used to log on to the host.";
      if (srv.credential === "ssh-key" && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(srv.privateKey)) errs.privateKey = "Paste the user's current private key (OpenSSH or PEM, unencrypted).";
      if (srv.hostKeySha256 && !/^(SHA256:)?[A-Za-z0-9+/]{43}=?$/.test(srv.hostKeySha256)) errs.hostKeySha256 = "A SHA-256 host key fingerprint as ssh-keygen -lf prints it (SHA256:…).";
      errs.value = checkValue(srv.credential === "password" ? srv.password : srv.privateKey, false);
    } else {
      if (!ak.serviceAccountId) errs.serviceAccountId = "Select the service account whose API key the secret manages.";
      if (ak.value === "import" && (!ak.accessKeyId || !ak.accessKeySecret)) errs.accessKeySecret = "Enter the API key id and secret of the service account.";
      if (!/^\d+$/.test(ak.graceHours) || Number(ak.graceHours) > 720) errs.graceHours = "The grace period is 0-720 hours.";
    }
    return errs;
  }

  function body(): Record<string, unknown> {
    const common = {
      name: c.name,
      type: kind,
      keyId: c.keyId || undefined,
      description: c.description || undefined,
      tags: cleanTags(c.tags).length ? cleanTags(c.tags) : undefined,
      rotation: rot.enabled ? { enabled: true, intervalSeconds: toSeconds(Number(rot.every), kind === "access-key" ? "days" : rot.unit) } : undefined,
    };
    if (kind === "database") {
      const names = db.mode === "dual" ? [db.accountName, db.secondAccountName] : [db.accountName];
      return {
        ...common,
        engine: db.engine,
        ...(db.polardb && !redis ? { secretType: "PolarDB" } : {}),
        host: db.host,
        port: Number(db.port),
        tls: db.tls || undefined,
        database: redis || !db.database ? undefined : db.database,
        adminSecret: db.adminSecret,
        mode: redis ? "dual" : db.mode,
        privileges: db.privileges,
        accountType: db.mode === "single" && !redis ? db.accountType : undefined,
        account: db.account === "create" || redis ? { create: { usernamePrefix: db.usernamePrefix } } : { import: { accountNames: names, password: db.password, ...(db.mode === "dual" ? { secondPassword: db.secondPassword } : {}), ...(db.takeOver ? { takeOver: true } : {}) } },
      };
    }
    if (kind === "server")
      return {
        ...common,
        host: srv.host,
        port: Number(srv.port),
        userName: srv.userName,
        credential: srv.credential,
        keyType: srv.credential === "ssh-key" ? srv.keyType : undefined,
        hostKeySha256: srv.hostKeySha256 || undefined,
        adminSecret: srv.adminSecret || undefined,
        value: srv.credential === "password" ? { Password: srv.password } : { PrivateKey: srv.privateKey },
      };
    return {
      ...common,
      // The server names it acs/ram/user/<service account name> (shown in the form).
      name: "$Auto",
      serviceAccountId: ak.serviceAccountId,
      keyScope: ak.keyScope,
      graceSeconds: Number(ak.graceHours) * 3600,
      value: ak.value === "import" ? { AccessKeyId: ak.accessKeyId, AccessKeySecret: ak.accessKeySecret } : undefined,
    };
  }

  async function submit(ev: FormEvent) {
    ev.preventDefault();
    const errs = validate();
    setE(errs);
    setForm(undefined);
    if (hasErrors(errs)) return;
    setBusy(true);
    if (bulk) {
      try {
        // One POST /v1/managed-secrets per secret, in order; each is atomic on the server.
        const results = await createInBulk(rows, async (row) => {
          await s.api.post("/v1/managed-secrets", { ...body(), name: row.name, privileges: row.privileges, account: { create: { usernamePrefix: row.account } } });
          const pe = await applyPolicy(s.api, row.name, c.policy);
          if (pe) toast("error", `Secret ${row.name} created, but its policy was refused: ${pe}`);
        });
        setBulkResults(results);
        const failed = new Set(results.filter((r) => !r.ok).map((r) => r.name));
        // What was created leaves the list; what failed stays, to fix and submit again.
        setRows((rs) => (failed.size ? rs.filter((r) => failed.has(r.name)) : [newBulkRow()]));
        toast(failed.size ? "error" : "ok", `${results.length - failed.size} of ${results.length} secrets created.`);
      } finally {
        setBusy(false);
      }
      return;
    }
    try {
      const r = await s.api.post<Secret & { warnings: string[] }>("/v1/managed-secrets", body());
      setDb((d) => ({ ...d, password: "", secondPassword: "" }));
      setSrv((x) => ({ ...x, password: "", privateKey: "" }));
      setAk((x) => ({ ...x, accessKeySecret: "" }));
      const pe = await applyPolicy(s.api, c.name, c.policy);
      if (pe) toast("error", `Secret created, but its policy was refused: ${pe}`);
      if (r.warnings?.length) {
        setWarnings(r.warnings);
        toast("ok", `Secret ${r.name} created with warnings.`);
      } else {
        toast("ok", `Secret ${r.name} created.`);
        navigate(`/secrets/${enc(r.name)}`);
      }
    } catch (err) {
      // A message about one imported account belongs to that account's password field.
      const about = (name: string) => name !== "" && err instanceof Error && err.message.includes(`"${name}"`) && /password/i.test(err.message);
      const imported = kind === "database" && !redis && db.account === "import";
      const accountField = imported && db.mode === "dual" && about(db.secondAccountName) ? "secondPassword" : imported && about(db.accountName) ? "password" : undefined;
      const f = accountField ?? fieldOfError(err, {
        ...COMMON_FIELDS,
        name: [/secret name/i],
        rotation: [/rotation interval/i, /intervalSeconds/i],
        adminSecret: [/admin secret/i, /adminSecret/],
        hostKeySha256: [/host key/i, /hostKeySha256/],
        host: [/on the target/i, /could not be reached/i, /could not be checked/i, /\bhost\b/i],
        port: [/\bport\b/i],
        usernamePrefix: [/usernamePrefix/i, /prefix/i],
        secondAccountName: [/second account "/],
        secondPassword: [/secondPassword/],
        accountName: [/accounts must/i, /accountNames/, /does not exist/i, /administrative privileges/i, /managed by/i],
        password: [/password/i],
        privateKey: [/PrivateKey/],
        userName: [/user name/i, /userName/],
        database: [/database/i],
        serviceAccountId: [/service account/i],
        accessKeySecret: [/API key/i],
        graceHours: [/grace/i],
      });
      if (f) setE({ [f]: describeError(err) });
      else setForm(describeError(err));
    } finally {
      setBusy(false);
    }
  }

  const secretOptions = [["", "Choose a secret…"] as const, ...(secrets ?? []).map((x) => [x.name, x.name] as const)];

  if (warnings)
    return (
      <div className="form">
        <div className="notice notice-warn" role="status">
          <strong>Secret {c.name} created.</strong>
          <ul>
            {warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        </div>
        <button type="button" className="btn-primary" onClick={() => navigate(`/secrets/${enc(c.name)}`)}>
          Open the secret
        </button>
      </div>
    );

  return (
    <form className="form" onSubmit={submit} noValidate aria-label={`Create a ${kind} secret`}>
      {kind === "database" ? (
        <>
          <Radios
            legend="Database type"
            name="engine"
            value={db.engine}
            onChange={(v) => setDb({ ...db, engine: v, port: defaultPort(v), mode: v === "redis" ? "dual" : db.mode })}
            options={DATABASE_ENGINES.map((x) => [x, DATABASE_ENGINE_INFO[x].label] as const)}
          />
          {redis ? null : (
            <Checkbox
              label="PolarDB cluster"
              name="polardb"
              checked={Boolean(db.polardb)}
              onChange={(v) => setDb({ ...db, polardb: v })}
              hint={`A ${db.engine === "mysql" ? "MySQL" : "PostgreSQL"}-compatible PolarDB cluster: managed and rotated like RDS (6 hours to 365 days), stored as a PolarDB secret.`}
            />
          )}
          {redis ? (
            <Radios
              legend="Create"
              name="redis-create"
              value={db.bulk ? "bulk" : "single"}
              onChange={(v) => {
                setDb({ ...db, bulk: v === "bulk" });
                setBulkResults(undefined);
              }}
              options={[
                ["single", "Create Single Secret"],
                ["bulk", "Create Bulk Secrets", "several secrets for accounts of one instance, each with its own pair of accounts"],
              ]}
            />
          ) : null}
          {bulk ? null : <CommonTop c={c} set={setC} e={e} />}
          <fieldset className="field group">
            <legend>{redis ? "Redis instance" : db.polardb ? "PolarDB cluster" : "Database instance"}</legend>
            <div className="row">
              <TextField label="Host" name="host" value={db.host} onChange={(v) => setDb({ ...db, host: v })} error={e.host} required placeholder="db.internal" />
              <TextField label="Port" name="port" value={db.port} inputMode="numeric" onChange={(v) => setDb({ ...db, port: v })} error={e.port} required />
            </div>
            <Checkbox label="Use TLS (verify the server certificate)" name="tls" checked={db.tls} onChange={(v) => setDb({ ...db, tls: v })} />
            {redis ? null : (
              <TextField
                label="Database"
                name="database"
                value={db.database}
                onChange={(v) => setDb({ ...db, database: v })}
                error={e.database}
                placeholder={db.engine === "mysql" ? "* (all)" : "postgres"}
                hint="The database the accounts get their permissions on."
              />
            )}
            <Select
              label="Admin credential secret"
              name="adminSecret"
              value={db.adminSecret}
              onChange={(v) => setDb({ ...db, adminSecret: v })}
              options={secretOptions}
              error={e.adminSecret}
              required
              hint="Another secret of this scope holding {AccountName, AccountPassword} of an account that may create users and set passwords. Using it needs secrets:GetSecretValue on it."
            />
          </fieldset>
          {redis ? (
            <p className="note">Account management: only Manage Dual Accounts is supported. Only new accounts can be managed: Coffer creates the two accounts (prefix and prefix_clone).</p>
          ) : (
            <Radios
              legend="Account management"
              name="mode"
              value={db.mode}
              onChange={(v) => setDb({ ...db, mode: v })}
              options={[
                ["dual", "Manage Dual Accounts (recommended)", "two accounts with identical permissions; connections are not interrupted when the secret is rotated"],
                ["single", "Manage Single Account", "for a privileged or O&M account; the current version may be briefly unavailable while rotating"],
              ]}
            />
          )}
          {redis ? null : (
            <Radios
              legend="Accounts"
              name="account"
              value={db.account}
              onChange={(v) => setDb({ ...db, account: v })}
              options={[
                ["create", "Create Account", "Coffer creates the accounts when you confirm"],
                ["import", "Import Existing Accounts"],
              ]}
            />
          )}
          {bulk ? (
            <>
              {bulkResults ? <BulkResults results={bulkResults} /> : null}
              <BulkRowsEditor rows={rows} onChange={setRows} errors={e} />
            </>
          ) : db.account === "create" || redis ? (
            <div className="row">
              <TextField
                label={redis ? "Account name" : "Username prefix"}
                name="usernamePrefix"
                value={db.usernamePrefix}
                onChange={(v) => setDb({ ...db, usernamePrefix: v })}
                error={e.usernamePrefix}
                required
                hint={db.mode === "dual" || redis ? "For example, user creates user and user_clone." : "The account to create."}
              />
              <Select
                label="Permissions"
                name="privileges"
                value={db.privileges}
                onChange={(v) => setDb({ ...db, privileges: v })}
                options={[
                  ["readwrite", "Read/Write"],
                  ["readonly", "Read-Only"],
                ]}
              />
              {db.mode === "single" && !redis ? (
                <Select
                  label="Account type"
                  name="accountType"
                  value={db.accountType}
                  onChange={(v) => setDb({ ...db, accountType: v })}
                  options={[
                    ["standard", "Standard Account"],
                    ["privileged", "Privileged Account"],
                  ]}
                />
              ) : null}
            </div>
          ) : (
            <>
              <div className="row">
                <TextField label="Username" name="accountName" value={db.accountName} onChange={(v) => setDb({ ...db, accountName: v })} error={e.accountName} required placeholder="app" />
                <TextField
                  label="Password"
                  name="password"
                  type="password"
                  autoComplete="new-password"
                  value={db.password}
                  onChange={(v) => setDb({ ...db, password: v })}
                  error={e.password}
                  required
                  hint="The password the account has now: Coffer logs in with it before it stores anything."
                />
              </div>
              {db.mode === "dual" ? (
                <div className="row">
                  <TextField label="Second username" name="secondAccountName" value={db.secondAccountName} onChange={(v) => setDb({ ...db, secondAccountName: v })} error={e.secondAccountName} required placeholder="app_clone" hint="An account with the same permissions as the first." />
                  <TextField
                    label="Second account password"
                    name="secondPassword"
                    type="password"
                    autoComplete="new-password"
                    value={db.secondPassword}
                    onChange={(v) => setDb({ ...db, secondPassword: v })}
                    error={e.secondPassword}
                    required
                    hint="The current password of the second username."
                  />
                </div>
              ) : null}
              <Checkbox label="Take over" name="takeOver" checked={db.takeOver} onChange={(v) => setDb({ ...db, takeOver: v })} hint="Accept a password the target refuses: the first rotation replaces it with the admin credential. The takeover is audited." />
            </>
          )}
        </>
      ) : null}

      {kind === "server" ? (
        <>
          <CommonTop c={c} set={setC} e={e} />
          <fieldset className="field group">
            <legend>Managed instance</legend>
            <div className="row">
              <TextField label="Host" name="host" value={srv.host} onChange={(v) => setSrv({ ...srv, host: v })} error={e.host} required placeholder="10.0.0.5" />
              <TextField label="SSH port" name="port" value={srv.port} inputMode="numeric" onChange={(v) => setSrv({ ...srv, port: v })} error={e.port} required />
            </div>
            <TextField
              label="Host key fingerprint"
              name="hostKeySha256"
              value={srv.hostKeySha256}
              onChange={(v) => setSrv({ ...srv, hostKeySha256: v })}
              error={e.hostKeySha256}
              placeholder="SHA256:…"
              hint="Optional: without it Coffer connects once and pins the key it sees."
            />
          </fieldset>
          <TextField label="Managed user" name="userName" value={srv.userName} onChange={(v) => setSrv({ ...srv, userName: v })} error={e.userName} required hint="The name of an existing user on the host, such as root." />
          <Radios
            legend="Initial secret value"
            name="credential"
            value={srv.credential}
            onChange={(v) => setSrv({ ...srv, credential: v })}
            options={[
              ["password", "Password", "the password of the user that is used to log on"],
              ["ssh-key", "Key Pair", "the SSH key pair of the user that is used to log on"],
            ]}
            error={e.value}
          />
          {srv.credential === "password" ? (
            <TextField label="Password" name="password" type="password" autoComplete="new-password" value={srv.password} onChange={(v) => setSrv({ ...srv, password: v })} error={e.password} required />
          ) : (
            <>
              <TextArea
                label="Private key"
                name="privateKey"
                rows={5}
                mono
                value={srv.privateKey}
                onChange={(v) => setSrv({ ...srv, privateKey: v })}
                error={e.privateKey}
                required
                placeholder="-----BEGIN OPENSSH PRIVATE KEY-----"
                hint="For example from ssh-keygen -t ed25519 (or -t rsa -b 3072 -m PEM). The public key is derived from it."
              />
              <Select
                label="Key type for rotation"
                name="keyType"
                value={srv.keyType}
                onChange={(v) => setSrv({ ...srv, keyType: v })}
                options={[
                  ["ed25519", "Ed25519"],
                  ["rsa3072", "RSA 3072"],
                ]}
              />
            </>
          )}
          <p className="note">Enter a valid secret value. If you enter an invalid value, the password or key pair that you retrieve cannot be used to log on to the host before the first time the secret is rotated.</p>
          <Select label="Admin secret (optional)" name="adminSecret" value={srv.adminSecret} onChange={(v) => setSrv({ ...srv, adminSecret: v })} options={[["", "None"], ...secretOptions.slice(1)]} hint="A root or sudo login that can repair a credential the user's own no longer opens." />
        </>
      ) : null}

      {kind === "access-key" ? (
        <>
          <Select
            label="Select service account"
            name="serviceAccountId"
            value={ak.serviceAccountId}
            onChange={(v) => {
              setAk({ ...ak, serviceAccountId: v });
              setC({ ...c, name: ramName(v) });
            }}
            options={[["", sas ? (sas.length ? "Choose a service account…" : "No service accounts: create one first") : "Loading…"], ...(sas ?? []).map((x) => [x.id, `${x.name} (${x.id})`] as const)]}
            error={e.serviceAccountId}
            required
            hint="The service account whose API key pair the secret manages (the RAM user of Alibaba Cloud KMS). It must have a name that fits a secret name."
          />
          <TextField
            label="Secret name"
            name="name"
            value={c.name}
            onChange={() => undefined}
            readOnly
            error={e.name}
            hint="Generated from the service account's name: acs/ram/user/<name>, as KMS names RAM secrets. Unique within the current region."
          />
          <Radios
            legend="Secret value"
            name="ak-value"
            value={ak.value}
            onChange={(v) => setAk({ ...ak, value: v })}
            options={[
              ["new", "Issue a new API key", "Coffer creates the key and stores it"],
              ["import", "Import the service account's existing API key"],
            ]}
          />
          {ak.value === "import" ? (
            <div className="row">
              <TextField label="API key id" name="accessKeyId" value={ak.accessKeyId} onChange={(v) => setAk({ ...ak, accessKeyId: v })} />
              <TextField label="API key secret" name="accessKeySecret" type="password" autoComplete="new-password" value={ak.accessKeySecret} onChange={(v) => setAk({ ...ak, accessKeySecret: v })} error={e.accessKeySecret} />
            </div>
          ) : null}
          <div className="row">
            <Select
              label="Key scope"
              name="keyScope"
              value={ak.keyScope}
              onChange={(v) => setAk({ ...ak, keyScope: v })}
              options={[
                ["secret", `This environment and region (${s.scope.environment} / ${s.scope.region})`],
                ["organization", "Organization-wide"],
              ]}
            />
            <TextField label="Grace period (hours)" name="graceHours" value={ak.graceHours} inputMode="numeric" onChange={(v) => setAk({ ...ak, graceHours: v })} error={e.graceHours} hint="How long the previous key keeps working after a rotation." />
          </div>
        </>
      ) : null}

      <CommonBottom c={c} set={setC} e={e} keys={keys} />
      <RotationFields r={rot} set={setRot} kind={kind} e={e} />
      <FormError error={form} />
      <Actions busy={busy} />
    </form>
  );
}
