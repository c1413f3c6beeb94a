import { beforeEach, describe, expect, it } from "vitest";
import { freshStoreEach, testEngine } from "../../../test/helpers/test-server.js";
import type { Storage } from "../../storage/index.js";
import { ApiTokenRepository, type NewApiToken } from "./api-token-repo.js";

/** The API tokens' repository (the only code of src/references/tokens that runs SQL) on the engine under test. */
describe(`API token repository: ${testEngine()}`, () => {
  let storage: Storage;
  let tokens: ApiTokenRepository;
  const us = { environmentId: "env-1", region: "us-east-1" };
  const eu = { environmentId: "env-1", region: "eu-west-1" };
  const token = (id: string, name: string, over: Partial<NewApiToken> = {}): NewApiToken => ({ id, scope: us, name, role: "editor", secretHash: `hash-${id}`, createdBy: "alice", createdAt: 1_000, ...over });

  const store = freshStoreEach();
  beforeEach(async () => {
    storage = store();
    tokens = new ApiTokenRepository(storage);
  });

  it("maps tokens to the domain shape (scope, camelCase, no digest) and finds them by id and by digest", async () => {
    await tokens.insert(token("tok-1", "ci"));
    const expected = { id: "tok-1", scope: us, name: "ci", role: "editor", createdBy: "alice", createdAt: 1_000 };
    expect(await tokens.byId("tok-1")).toEqual(expected);
    expect(await tokens.bySecretHash("hash-tok-1")).toEqual(expected);
    expect(await tokens.bySecretHash("hash-tok-2")).toBeUndefined();
    expect(await tokens.byId("tok-2")).toBeUndefined();
  });

  it("one name per scope; lists a scope's tokens by name; deletes by scope and name", async () => {
    await tokens.insert(token("tok-1", "web", { role: "owner" }));
    await tokens.insert(token("tok-2", "ci", { role: "viewer" }));
    await tokens.insert(token("tok-3", "ci", { scope: eu }));
    await expect(tokens.insert(token("tok-4", "ci"))).rejects.toMatchObject({ code: "ApiTokenAlreadyExists" });
    expect(await tokens.byId("tok-4")).toBeUndefined();
    expect((await tokens.list(us)).map((t) => [t.name, t.role])).toEqual([["ci", "viewer"], ["web", "owner"]]);
    expect(await tokens.delete(us, "ci")).toBe(true);
    expect(await tokens.delete(us, "ci")).toBe(false);
    expect((await tokens.list(us)).map((t) => t.name)).toEqual(["web"]);
    expect((await tokens.list(eu)).map((t) => t.id)).toEqual(["tok-3"]);
  });
});
