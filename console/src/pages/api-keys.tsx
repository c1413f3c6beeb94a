import { useEffect, useState } from "react";
import { enc } from "../api.ts";
import { useSession } from "../session.tsx";
import type { ApiKey, PrincipalView } from "../types.ts";
import { Badge, ConfirmDelete, Listed, PageHead, Select, Table, fmtTime, useLoad, useToast } from "../ui.tsx";
import { describeError } from "../validation.ts";
import { ApiKeyWizard, resourceOf } from "./api-key-wizard.tsx";

/** API keys of users and service accounts; the create wizard shows a new key's secret once, with copy and download. */
export function ApiKeysPage() {
  const s = useSession();
  const toast = useToast();
  const [owner, setOwner] = useState("");
  const keys = useLoad(() => s.api.get<{ apiKeys: ApiKey[] }>("/v1/api-keys", { limit: 100, owner: owner || undefined }, { scoped: false }), [owner]);
  const [principalsKey, setPrincipalsKey] = useState(0);
  const principals = usePrincipals(principalsKey);
  const [creating, setCreating] = useState(false);
  const [deleting, setDeleting] = useState<ApiKey>();

  async function remove(k: ApiKey) {
    try {
      await s.api.delete(`/v1/api-keys/${enc(k.id)}`, undefined, { scoped: false });
      toast("ok", `API key ${k.id} deleted; it stopped working.`);
      setDeleting(undefined);
      keys.reload();
    } catch (e) {
      toast("error", describeError(e));
    }
  }
  const nameOf = (id: string) => principals.find((p) => p.id === id)?.name;

  return (
    <div>
      <PageHead title="API keys" intro="Keys authenticate programs (HTTP Basic: key id and secret). A key scoped to an environment and region works only there.">
        <button type="button" className="btn-primary" onClick={() => setCreating(true)}>
          Create API key
        </button>
      </PageHead>
      <div className="filters">
        <Select label="Owner" name="filter-owner" value={owner} onChange={setOwner} options={[["", "All owners"], ...principals.map((p) => [p.id, `${p.name} (${p.id})`] as const)]} />
      </div>
      <Listed list={keys} items={keys.data?.apiKeys} what="API keys" empty="No API keys.">
        {(apiKeys) => (
          <Table label="API keys" columns={["Key id", "Owner", "Resource scope", "Name", "State", "Created"]} actions>
            {apiKeys.map((k) => (
              <tr key={k.id}>
                <td>
                  <code>{k.id}</code>
                </td>
                <td>
                  {nameOf(k.ownerId) ?? k.ownerId} <span className="muted small">{k.ownerKind}</span>
                </td>
                <td>{k.environmentId ? <code title={`environment ${k.environmentId}, cloud ${k.cloud ?? "coffer"}, region ${k.region}`}>{resourceOf(k)}</code> : <Badge>organization-wide</Badge>}</td>
                <td>{k.displayName || <span className="muted">—</span>}</td>
                <td>
                  <Badge kind={k.state === "active" ? "ok" : "warn"}>{k.state}</Badge>
                </td>
                <td>{fmtTime(k.createdAt)}</td>
                <td>
                  {k.ownerKind === "root" ? null : (
                    <button type="button" className="btn-link" onClick={() => setDeleting(k)} aria-label={`Delete API key ${k.id}`}>
                      Delete
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </Table>
        )}
      </Listed>
      {creating ? (
        <ApiKeyWizard
          principals={principals}
          onCreated={() => {
            keys.reload(); // the new key is listed at once (never its secret)
            setPrincipalsKey((n) => n + 1); // and a service account the wizard made
          }}
          onClose={() => setCreating(false)}
        />
      ) : null}
      {deleting ? (
        <ConfirmDelete title={`Delete API key ${deleting.id}`} confirm="Delete key" onCancel={() => setDeleting(undefined)} onConfirm={() => void remove(deleting)}>
          <p>Programs using this key fail at once. This cannot be undone.</p>
        </ConfirmDelete>
      ) : null}
    </div>
  );
}

function usePrincipals(reload: number): PrincipalView[] {
  const s = useSession();
  const [list, setList] = useState<PrincipalView[]>([]);
  useEffect(() => {
    void Promise.all([
      s.api.get<{ users: PrincipalView[] }>("/v1/users", { limit: 100 }, { scoped: false }).then((r) => r.users, () => []),
      s.api.get<{ serviceAccounts: PrincipalView[] }>("/v1/service-accounts", { limit: 100 }, { scoped: false }).then((r) => r.serviceAccounts, () => []),
    ]).then(([u, sa]) => setList([...u, ...sa]));
  }, [s.api, reload]);
  return list;
}
