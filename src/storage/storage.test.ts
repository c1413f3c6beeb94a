import { freshStorage, testEngine } from "../../test/helpers/test-server.js";
import { describe } from "vitest";
import { storageContract } from "./storage.contract.js";
import type { Storage } from "./storage-types.js";

/** The conformance suite on the engine under test (COFFER_TEST_STORAGE=sqlite|postgres). */
describe(`storage contract: ${testEngine()}`, () => {
  const cleanups = new Map<Storage, () => Promise<void>>();
  storageContract(
    () => {
      const f = freshStorage();
      cleanups.set(f.storage, f.cleanup);
      return f.storage;
    },
    {
      dispose: async (s) => {
        await s.close().catch(() => undefined);
        await cleanups.get(s)?.();
        cleanups.delete(s);
      },
    },
  );
});
