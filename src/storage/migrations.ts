/**
 * Schema migrations, one entry per step, with the SQL of each engine side by side.
 * Applied in order inside a transaction; `schema_migrations` records what ran.
 * Never edit a released step: add a new one.
 */
export interface Migration {
  id: number;
  name: string;
  sqlite: string;
  postgres: string;
}

const T = (engine: "sqlite" | "postgres") => ({
  text: engine === "sqlite" ? "TEXT" : 'TEXT COLLATE "C"',
  blob: engine === "sqlite" ? "BLOB" : "BYTEA",
  int: engine === "sqlite" ? "INTEGER" : "BIGINT",
  serial: engine === "sqlite" ? "INTEGER PRIMARY KEY AUTOINCREMENT" : "BIGSERIAL PRIMARY KEY",
});

function initial(engine: "sqlite" | "postgres"): string {
  const { text, blob, int, serial } = T(engine);
  return `
CREATE TABLE meta (
  name ${text} PRIMARY KEY,
  value ${blob} NOT NULL
);
CREATE TABLE environments (
  id ${text} PRIMARY KEY,
  name ${text} NOT NULL UNIQUE,
  description ${text} NOT NULL DEFAULT '',
  created_at ${int} NOT NULL
);
CREATE TABLE api_keys (
  id ${text} PRIMARY KEY,
  owner_id ${text} NOT NULL,
  owner_kind ${text} NOT NULL,
  environment_id ${text},
  region ${text},
  display_name ${text} NOT NULL DEFAULT '',
  description ${text} NOT NULL DEFAULT '',
  secret_enc ${blob} NOT NULL,
  state ${text} NOT NULL,
  created_at ${int} NOT NULL,
  updated_at ${int} NOT NULL
);
CREATE TABLE kms_keys (
  id ${text} PRIMARY KEY,
  environment_id ${text} NOT NULL,
  region ${text} NOT NULL,
  description ${text} NOT NULL DEFAULT '',
  key_spec ${text} NOT NULL,
  key_usage ${text} NOT NULL,
  origin ${text} NOT NULL,
  state ${text} NOT NULL,
  primary_version_id ${text} NOT NULL,
  rotation_interval_seconds ${int},
  next_rotation_at ${int},
  last_rotation_at ${int},
  deletion_at ${int},
  pending_window_days ${int},
  deletion_protection ${text},
  is_default ${int} NOT NULL DEFAULT 0,
  created_at ${int} NOT NULL,
  updated_at ${int} NOT NULL
);
CREATE INDEX kms_keys_scope ON kms_keys (environment_id, region, id);
CREATE UNIQUE INDEX kms_keys_default ON kms_keys (environment_id, region) WHERE is_default = 1;
CREATE TABLE kms_key_versions (
  key_id ${text} NOT NULL REFERENCES kms_keys(id) ON DELETE CASCADE,
  version_id ${text} NOT NULL,
  material_enc ${blob} NOT NULL,
  created_at ${int} NOT NULL,
  PRIMARY KEY (key_id, version_id)
);
CREATE TABLE kms_aliases (
  environment_id ${text} NOT NULL,
  region ${text} NOT NULL,
  alias_name ${text} NOT NULL,
  key_id ${text} NOT NULL REFERENCES kms_keys(id) ON DELETE CASCADE,
  created_at ${int} NOT NULL,
  updated_at ${int} NOT NULL,
  PRIMARY KEY (environment_id, region, alias_name)
);
CREATE INDEX kms_aliases_key ON kms_aliases (key_id);
CREATE TABLE tags (
  resource_kind ${text} NOT NULL,
  resource_id ${text} NOT NULL,
  tag_key ${text} NOT NULL,
  tag_value ${text} NOT NULL,
  PRIMARY KEY (resource_kind, resource_id, tag_key)
);
CREATE INDEX tags_kv ON tags (resource_kind, tag_key, tag_value);
CREATE TABLE secrets (
  id ${text} PRIMARY KEY,
  environment_id ${text} NOT NULL,
  region ${text} NOT NULL,
  name ${text} NOT NULL,
  secret_type ${text} NOT NULL,
  description ${text} NOT NULL DEFAULT '',
  key_id ${text} NOT NULL,
  created_at ${int} NOT NULL,
  updated_at ${int} NOT NULL,
  deleted_at ${int},
  purge_at ${int},
  extended_config ${text},
  policy ${text}
);
CREATE UNIQUE INDEX secrets_name ON secrets (environment_id, region, name);
CREATE INDEX secrets_purge ON secrets (purge_at) WHERE purge_at IS NOT NULL;
CREATE TABLE secret_versions (
  secret_id ${text} NOT NULL REFERENCES secrets(id) ON DELETE CASCADE,
  version_id ${text} NOT NULL,
  data_type ${text} NOT NULL,
  value_enc ${blob} NOT NULL,
  wrapped_key ${blob} NOT NULL,
  created_at ${int} NOT NULL,
  PRIMARY KEY (secret_id, version_id)
);
CREATE TABLE secret_stages (
  secret_id ${text} NOT NULL REFERENCES secrets(id) ON DELETE CASCADE,
  stage ${text} NOT NULL,
  version_id ${text} NOT NULL,
  PRIMARY KEY (secret_id, stage)
);
CREATE INDEX secret_stages_version ON secret_stages (secret_id, version_id);
CREATE TABLE audit_log (
  seq ${serial},
  time ${int} NOT NULL,
  request_id ${text} NOT NULL,
  principal ${text} NOT NULL,
  action ${text} NOT NULL,
  resource ${text} NOT NULL,
  outcome ${text} NOT NULL,
  error_code ${text},
  status ${int} NOT NULL,
  source ${text} NOT NULL,
  detail ${text},
  prev_mac ${text} NOT NULL,
  mac ${text} NOT NULL
);
CREATE INDEX audit_time ON audit_log (time);
`;
}

function identity(engine: "sqlite" | "postgres"): string {
  const { text, int } = T(engine);
  return `
ALTER TABLE environments ADD COLUMN updated_at ${int} NOT NULL DEFAULT 0;
CREATE TABLE environment_regions (
  environment_id ${text} NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
  region ${text} NOT NULL,
  created_at ${int} NOT NULL,
  PRIMARY KEY (environment_id, region)
);
CREATE TABLE principals (
  id ${text} PRIMARY KEY,
  kind ${text} NOT NULL,
  name ${text} NOT NULL,
  display_name ${text} NOT NULL DEFAULT '',
  description ${text} NOT NULL DEFAULT '',
  password_hash ${text},
  state ${text} NOT NULL,
  created_at ${int} NOT NULL,
  updated_at ${int} NOT NULL
);
CREATE UNIQUE INDEX principals_name ON principals (kind, name);
CREATE TABLE sessions (
  token_hash ${text} PRIMARY KEY,
  principal_id ${text} NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
  created_at ${int} NOT NULL,
  expires_at ${int} NOT NULL
);
CREATE INDEX sessions_principal ON sessions (principal_id);
CREATE TABLE policies (
  id ${text} PRIMARY KEY,
  name ${text} NOT NULL UNIQUE,
  description ${text} NOT NULL DEFAULT '',
  document ${text} NOT NULL,
  builtin ${int} NOT NULL DEFAULT 0,
  created_at ${int} NOT NULL,
  updated_at ${int} NOT NULL
);
CREATE TABLE roles (
  id ${text} PRIMARY KEY,
  name ${text} NOT NULL UNIQUE,
  description ${text} NOT NULL DEFAULT '',
  builtin ${int} NOT NULL DEFAULT 0,
  created_at ${int} NOT NULL
);
CREATE TABLE role_policies (
  role_id ${text} NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
  policy_id ${text} NOT NULL REFERENCES policies(id) ON DELETE CASCADE,
  PRIMARY KEY (role_id, policy_id)
);
CREATE TABLE principal_roles (
  principal_id ${text} NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
  role_id ${text} NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
  PRIMARY KEY (principal_id, role_id)
);
CREATE TABLE principal_policies (
  principal_id ${text} NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
  policy_id ${text} NOT NULL REFERENCES policies(id) ON DELETE CASCADE,
  PRIMARY KEY (principal_id, policy_id)
);
ALTER TABLE kms_keys ADD COLUMN policy ${text};
ALTER TABLE api_keys ADD COLUMN cloud ${text};
CREATE INDEX api_keys_owner ON api_keys (owner_id);
`;
}

function secretSettings(engine: "sqlite" | "postgres"): string {
  const { text, int } = T(engine);
  const suffix = engine === "sqlite" ? "lower(hex(randomblob(3)))" : "substr(md5(random()::text || id), 1, 6)";
  return `
ALTER TABLE secrets ADD COLUMN arn_suffix ${text};
UPDATE secrets SET arn_suffix = ${suffix} WHERE arn_suffix IS NULL;
ALTER TABLE secrets ADD COLUMN rotation_enabled ${int} NOT NULL DEFAULT 0;
ALTER TABLE secrets ADD COLUMN rotation_interval_seconds ${int};
ALTER TABLE secrets ADD COLUMN rotation_schedule ${text};
ALTER TABLE secrets ADD COLUMN rotation_target ${text};
ALTER TABLE secrets ADD COLUMN next_rotation_at ${int};
ALTER TABLE secrets ADD COLUMN last_rotation_at ${int};
ALTER TABLE secrets ADD COLUMN last_accessed_at ${int};
ALTER TABLE secrets ADD COLUMN owning_service ${text};
ALTER TABLE secrets ADD COLUMN primary_region ${text};
ALTER TABLE secrets ADD COLUMN policy_source ${text};
ALTER TABLE kms_keys ADD COLUMN policy_source ${text};
CREATE INDEX secrets_next_rotation ON secrets (next_rotation_at) WHERE next_rotation_at IS NOT NULL;
`;
}

/** Credential rotations (src/rotation): one row per rotation, its state machine persisted step by step. */
function rotations(engine: "sqlite" | "postgres"): string {
  const { text, int } = T(engine);
  return `
CREATE TABLE rotations (
  id ${text} PRIMARY KEY,
  secret_id ${text} NOT NULL,
  environment_id ${text} NOT NULL,
  region ${text} NOT NULL,
  secret_name ${text} NOT NULL,
  token ${text} NOT NULL,
  rotator ${text} NOT NULL,
  step ${text} NOT NULL,
  active ${int} NOT NULL DEFAULT 1,
  done ${int} NOT NULL DEFAULT 0,
  cancel_requested ${int} NOT NULL DEFAULT 0,
  attempt ${int} NOT NULL DEFAULT 0,
  failures ${int} NOT NULL DEFAULT 0,
  next_attempt_at ${int},
  lease_owner ${text},
  lease_until ${int},
  previous_version_id ${text},
  data ${text},
  last_error_code ${text},
  last_error_message ${text},
  last_error_at ${int},
  started_at ${int} NOT NULL,
  updated_at ${int} NOT NULL,
  promoted_at ${int},
  finished_at ${int}
);
CREATE UNIQUE INDEX rotations_active ON rotations (secret_id) WHERE active = 1;
CREATE UNIQUE INDEX rotations_token ON rotations (secret_id, token);
CREATE INDEX rotations_due ON rotations (next_attempt_at) WHERE done = 0;
CREATE INDEX rotations_history ON rotations (secret_id, started_at);
`;
}

/** SQL statements, VVP API tokens and Flink SQL Gateway settings (src/references). */
function references(engine: "sqlite" | "postgres"): string {
  const { text, int } = T(engine);
  return `
CREATE TABLE sql_api_tokens (
  id ${text} PRIMARY KEY,
  environment_id ${text} NOT NULL,
  region ${text} NOT NULL,
  name ${text} NOT NULL,
  role ${text} NOT NULL,
  secret_hash ${text} NOT NULL UNIQUE,
  created_by ${text} NOT NULL,
  created_at ${int} NOT NULL
);
CREATE UNIQUE INDEX sql_api_tokens_name ON sql_api_tokens (environment_id, region, name);
CREATE TABLE sql_statements (
  id ${text} PRIMARY KEY,
  environment_id ${text} NOT NULL,
  region ${text} NOT NULL,
  name ${text} NOT NULL,
  statement ${text} NOT NULL,
  refs ${text} NOT NULL,
  properties ${text} NOT NULL,
  compute_pool_id ${text} NOT NULL DEFAULT '',
  principal ${text} NOT NULL DEFAULT '',
  stopped ${int} NOT NULL DEFAULT 0,
  phase ${text} NOT NULL,
  detail ${text} NOT NULL DEFAULT '',
  gateway_url ${text},
  session_handle ${text},
  operation_handle ${text},
  resource_version ${int} NOT NULL DEFAULT 1,
  created_at ${int} NOT NULL,
  updated_at ${int} NOT NULL,
  started_at ${int}
);
CREATE UNIQUE INDEX sql_statements_name ON sql_statements (environment_id, region, name);
CREATE TABLE flink_gateways (
  environment_id ${text} PRIMARY KEY,
  url ${text} NOT NULL,
  updated_at ${int} NOT NULL
);
`;
}

/** Signature nonces seen within their 15-minute window (src/api/alibaba), shared by every node. */
function requestNonces(engine: "sqlite" | "postgres"): string {
  const { text, int } = T(engine);
  return `
CREATE TABLE request_nonces (
  nonce ${text} PRIMARY KEY,
  expires_at ${int} NOT NULL
);
CREATE INDEX request_nonces_expiry ON request_nonces (expires_at);
`;
}

/** Replicas of a secret in other regions of its environment (AWS ReplicateSecretToRegions). */
function secretReplicas(engine: "sqlite" | "postgres"): string {
  const { text, int } = T(engine);
  return `
CREATE TABLE secret_replicas (
  primary_id ${text} NOT NULL REFERENCES secrets(id) ON DELETE CASCADE,
  region ${text} NOT NULL,
  kms_key_id ${text},
  status ${text} NOT NULL,
  status_message ${text} NOT NULL DEFAULT '',
  synced_version ${int},
  created_at ${int} NOT NULL,
  PRIMARY KEY (primary_id, region)
);
`;
}

/**
 * Ordered tag filters on secrets (issue 9): a secret's tag rows carry its scope and name, so
 * ListSecrets with a tag filter walks one index in name order and stops after a page,
 * whatever the tag's share of the secrets (the EXISTS probe it replaces walked every secret
 * in name order until a page had matched: 1M probes for a tag no secret has). Secrets are
 * never renamed, so the copy cannot go stale; `putTags` fills it for new rows.
 */
function secretTagOrder(engine: "sqlite" | "postgres"): string {
  const { text } = T(engine);
  return `
ALTER TABLE tags ADD COLUMN secret_env ${text};
ALTER TABLE tags ADD COLUMN secret_region ${text};
ALTER TABLE tags ADD COLUMN secret_name ${text};
UPDATE tags SET secret_env = s.environment_id, secret_region = s.region, secret_name = s.name
  FROM secrets s WHERE tags.resource_kind = 'secret' AND s.id = tags.resource_id;
CREATE INDEX tags_secret_kv ON tags (tag_key, tag_value, secret_env, secret_region, secret_name) WHERE resource_kind = 'secret';
CREATE INDEX tags_secret_k ON tags (tag_key, secret_env, secret_region, secret_name) WHERE resource_kind = 'secret';
`;
}

/**
 * Ordered scans of secrets (AWS ListSecrets sorts by creation, last change, last access or
 * name): one index per order, so a page resumes with a range scan where the last stopped
 * instead of sorting the whole scope (`src/secrets/secret-scan.ts`). `last_accessed_at`
 * changes at most once a day per secret; `updated_at` on every write (one more index entry
 * to move per write).
 */
function secretScanOrders(): string {
  return `
CREATE INDEX secrets_created ON secrets (environment_id, region, created_at, name);
CREATE INDEX secrets_updated ON secrets (environment_id, region, updated_at, name);
CREATE INDEX secrets_accessed ON secrets (environment_id, region, last_accessed_at, name);
`;
}

/**
 * Tag-value filters on secrets (AWS `tag-value`, Alibaba `TagValue`): the scope's secrets
 * carrying a tag value (or a value prefix), read through an index instead of walking the
 * scope (`src/secrets/secret-scan.ts`). Tags are rarely written; one more entry per tag.
 */
function secretTagValues(): string {
  return `
CREATE INDEX tags_secret_v ON tags (tag_value, secret_env, secret_region) WHERE resource_kind = 'secret';
`;
}

/**
 * The Flink SQL Gateway is set per scope (environment and region), not per environment:
 * each environment's gateway becomes the gateway of every region the environment offers
 * now (a region added later starts with none: the server-wide gateway applies).
 */
function flinkGatewayScopes(engine: "sqlite" | "postgres"): string {
  const { text, int } = T(engine);
  return `
CREATE TABLE flink_gateways_by_scope (
  environment_id ${text} NOT NULL,
  region ${text} NOT NULL,
  url ${text} NOT NULL,
  updated_at ${int} NOT NULL,
  PRIMARY KEY (environment_id, region)
);
INSERT INTO flink_gateways_by_scope (environment_id, region, url, updated_at)
  SELECT g.environment_id, r.region, g.url, g.updated_at FROM flink_gateways g JOIN environment_regions r ON r.environment_id = g.environment_id;
DROP TABLE flink_gateways;
ALTER TABLE flink_gateways_by_scope RENAME TO flink_gateways;
`;
}

/**
 * Managed database accounts (src/rotation/account-claims.ts): one owner per account on a
 * target. The primary key decides races between two managed secrets claiming the same
 * account; a purged secret releases its claims (ON DELETE CASCADE).
 */
function accountClaims(engine: "sqlite" | "postgres"): string {
  const { text, int } = T(engine);
  return `
CREATE TABLE account_claims (
  account_key ${text} PRIMARY KEY,
  secret_id ${text} NOT NULL REFERENCES secrets(id) ON DELETE CASCADE,
  environment_id ${text} NOT NULL,
  region ${text} NOT NULL,
  secret_name ${text} NOT NULL,
  created_at ${int} NOT NULL
);
CREATE INDEX account_claims_secret ON account_claims (secret_id);
`;
}

/**
 * Version ids looked up across a scope's secrets (an AWS ClientRequestToken is unique in a
 * region); `tags_seen`: the secret has had tags (AWS then shows `"Tags": []` once they are gone).
 */
function secretVersionIds(engine: "sqlite" | "postgres"): string {
  const { int } = T(engine);
  return `
CREATE INDEX secret_versions_version ON secret_versions (version_id);
ALTER TABLE secrets ADD COLUMN tags_seen ${int} NOT NULL DEFAULT 0;
UPDATE secrets SET tags_seen = 1 WHERE id IN (SELECT resource_id FROM tags WHERE resource_kind = 'secret');
`;
}

/** The secrets read most recently, for the read caches' prefetch at start (src/secrets/secret-service.ts). */
function secretsLastRead(): string {
  return `CREATE INDEX secrets_last_read ON secrets (last_accessed_at) WHERE last_accessed_at IS NOT NULL AND deleted_at IS NULL;
`;
}

/** SQL drafts (the SQL editor's Drafts pane, src/references/statements/drafts.ts), per environment and region. */
function sqlDrafts(engine: "sqlite" | "postgres"): string {
  const { text, int } = T(engine);
  return `
CREATE TABLE sql_drafts (
  id ${text} PRIMARY KEY,
  environment_id ${text} NOT NULL,
  region ${text} NOT NULL,
  name ${text} NOT NULL,
  statement ${text} NOT NULL,
  created_by ${text} NOT NULL,
  resource_version ${int} NOT NULL DEFAULT 1,
  created_at ${int} NOT NULL,
  updated_at ${int} NOT NULL
);
CREATE UNIQUE INDEX sql_drafts_name ON sql_drafts (environment_id, region, name);
`;
}

export const MIGRATIONS: Migration[] = [
  { id: 1, name: "initial", sqlite: initial("sqlite"), postgres: initial("postgres") },
  { id: 2, name: "identity", sqlite: identity("sqlite"), postgres: identity("postgres") },
  { id: 3, name: "secret-settings", sqlite: secretSettings("sqlite"), postgres: secretSettings("postgres") },
  { id: 4, name: "secret-replicas", sqlite: secretReplicas("sqlite"), postgres: secretReplicas("postgres") },
  { id: 5, name: "request-nonces", sqlite: requestNonces("sqlite"), postgres: requestNonces("postgres") },
  { id: 6, name: "rotations", sqlite: rotations("sqlite"), postgres: rotations("postgres") },
  { id: 8, name: "references", sqlite: references("sqlite"), postgres: references("postgres") },
  { id: 9, name: "secret-tag-order", sqlite: secretTagOrder("sqlite"), postgres: secretTagOrder("postgres") },
  { id: 10, name: "secret-scan-orders", sqlite: secretScanOrders(), postgres: secretScanOrders() },
  { id: 11, name: "secret-tag-values", sqlite: secretTagValues(), postgres: secretTagValues() },
  { id: 12, name: "flink-gateway-scopes", sqlite: flinkGatewayScopes("sqlite"), postgres: flinkGatewayScopes("postgres") },
  { id: 13, name: "account-claims", sqlite: accountClaims("sqlite"), postgres: accountClaims("postgres") },
  { id: 14, name: "secret-version-ids", sqlite: secretVersionIds("sqlite"), postgres: secretVersionIds("postgres") },
  { id: 15, name: "sql-drafts", sqlite: sqlDrafts("sqlite"), postgres: sqlDrafts("postgres") },
  { id: 16, name: "secrets-last-read", sqlite: secretsLastRead(), postgres: secretsLastRead() },
];

/** Split a migration into single statements (neither engine's driver takes a script with parameters). */
export function statements(script: string): string[] {
  return script
    .split(/;\s*\n/)
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}
