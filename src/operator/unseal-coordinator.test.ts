import { describe, it, expect } from "vitest";
import { randomBytes } from "node:crypto";
import { CofferError } from "../core/errors.js";
import type { SealConfig } from "./seal-config.js";
import { sealConfigProblem } from "./seal-config.js";
import { combineShares, splitRootKey } from "./shamir.js";
import { UnsealCoordinator, WRONG_SHARES } from "./unseal-coordinator.js";

function setup(config: SealConfig = { shares: 5, threshold: 3 }) {
  const rootKey = randomBytes(32);
  let sealed = true;
  const attempts: Buffer[] = [];
  const coordinator = new UnsealCoordinator({
    isInitialized: async () => true,
    readConfig: async () => config,
    isSealed: () => sealed,
    unseal: async (key) => {
      attempts.push(Buffer.from(key));
      if (!key.equals(rootKey)) throw new CofferError("Sealed", "The root key does not open this store's keyring.");
      sealed = false;
    },
  });
  return { rootKey, coordinator, attempts, seal: () => void (sealed = true), isSealed: () => sealed };
}

describe("shamir split and combine", () => {
  it("any threshold-sized subset gives the root key back; fewer do not", async () => {
    const key = randomBytes(32);
    const shares = await splitRootKey(key, { shares: 5, threshold: 3 });
    expect(shares).toHaveLength(5);
    for (const s of shares) expect(s).toHaveLength(33);
    expect((await combineShares([shares[0]!, shares[2]!, shares[4]!])).equals(key)).toBe(true);
    expect((await combineShares([shares[3]!, shares[1]!, shares[0]!])).equals(key)).toBe(true);
    expect((await combineShares([shares[0]!, shares[1]!])).equals(key)).toBe(false);
  });

  it("1-of-1: the share is the root key itself", async () => {
    const key = randomBytes(32);
    const [share] = await splitRootKey(key, { shares: 1, threshold: 1 });
    expect(share!.equals(key)).toBe(true);
    expect((await combineShares([share!])).equals(key)).toBe(true);
  });

  it("refuses impossible configurations", () => {
    expect(sealConfigProblem(5, 3)).toBeUndefined();
    expect(sealConfigProblem(1, 1)).toBeUndefined();
    expect(sealConfigProblem(255, 255)).toBeUndefined();
    expect(sealConfigProblem(3, 5)).toMatch(/threshold/);
    expect(sealConfigProblem(0, 0)).toMatch(/shares/);
    expect(sealConfigProblem(256, 3)).toMatch(/shares/);
    expect(sealConfigProblem(5, 0)).toMatch(/threshold/);
    expect(sealConfigProblem(5, 1)).toMatch(/threshold of 1/);
  });
});

describe("unseal coordinator", () => {
  it("counts distinct shares and unseals at the threshold", async () => {
    const t = setup();
    const shares = await splitRootKey(t.rootKey, { shares: 5, threshold: 3 });
    expect(await t.coordinator.status()).toEqual({ initialized: true, sealed: true, threshold: 3, shares: 5, progress: 0 });
    expect((await t.coordinator.submit(shares[1]!)).progress).toBe(1);
    expect((await t.coordinator.submit(shares[1]!)).progress).toBe(1); // the same share twice counts once
    expect((await t.coordinator.submit(shares[3]!)).progress).toBe(2);
    expect(t.attempts).toHaveLength(0);
    const done = await t.coordinator.submit(shares[4]!);
    expect(done).toEqual({ initialized: true, sealed: false, threshold: 3, shares: 5, progress: 0 });
    expect(t.attempts).toHaveLength(1);
    expect(t.attempts[0]!.equals(t.rootKey)).toBe(true);
  });

  it("a wrong combination is refused and resets the progress", async () => {
    const t = setup();
    const mine = await splitRootKey(t.rootKey, { shares: 5, threshold: 3 });
    const other = await splitRootKey(randomBytes(32), { shares: 5, threshold: 3 });
    await t.coordinator.submit(mine[0]!);
    await t.coordinator.submit(mine[1]!);
    const err = await t.coordinator.submit(other[2]!).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CofferError);
    expect((err as CofferError).code).toBe("InvalidParameter");
    expect((err as CofferError).message).toBe(WRONG_SHARES);
    expect(t.isSealed()).toBe(true);
    expect((await t.coordinator.status()).progress).toBe(0);
    // The right shares still work afterwards.
    for (const s of [mine[0]!, mine[1]!, mine[2]!]) await t.coordinator.submit(s);
    expect(t.isSealed()).toBe(false);
  });

  it("shares that cannot be combined at all (same x coordinate) are a wrong combination too", async () => {
    const t = setup();
    const mine = await splitRootKey(t.rootKey, { shares: 5, threshold: 3 });
    // Another share at mine[0]'s x coordinate (the last byte) but with other values.
    const clash = Buffer.concat([randomBytes(32), mine[0]!.subarray(32)]);
    await t.coordinator.submit(mine[0]!);
    await t.coordinator.submit(mine[1]!);
    await expect(t.coordinator.submit(clash)).rejects.toMatchObject({ code: "InvalidParameter", message: WRONG_SHARES });
    expect(t.attempts).toHaveLength(0);
    expect(t.coordinator.progress).toBe(0);
  });

  it("a share of the wrong length is refused without touching the progress", async () => {
    const t = setup();
    const mine = await splitRootKey(t.rootKey, { shares: 5, threshold: 3 });
    await t.coordinator.submit(mine[0]!);
    await expect(t.coordinator.submit(randomBytes(32))).rejects.toMatchObject({ code: "InvalidParameter" });
    await expect(t.coordinator.submit(randomBytes(5))).rejects.toMatchObject({ code: "InvalidParameter" });
    expect(t.coordinator.progress).toBe(1);
  });

  it("reset forgets the shares given", async () => {
    const t = setup();
    const mine = await splitRootKey(t.rootKey, { shares: 5, threshold: 3 });
    await t.coordinator.submit(mine[0]!);
    await t.coordinator.submit(mine[1]!);
    t.coordinator.reset();
    expect((await t.coordinator.status()).progress).toBe(0);
    await t.coordinator.submit(mine[2]!);
    expect(t.coordinator.progress).toBe(1);
  });

  it("shares arriving together are combined once", async () => {
    const t = setup();
    const mine = await splitRootKey(t.rootKey, { shares: 5, threshold: 3 });
    const results = await Promise.all(mine.map((s) => t.coordinator.submit(s)));
    expect(t.attempts).toHaveLength(1);
    expect(results.map((r) => r.sealed)).toEqual([true, true, false, false, false]);
    expect(t.isSealed()).toBe(false);
  });

  it("a submission while unsealed changes nothing", async () => {
    const t = setup();
    const mine = await splitRootKey(t.rootKey, { shares: 5, threshold: 3 });
    for (const s of mine.slice(0, 3)) await t.coordinator.submit(s);
    expect(await t.coordinator.submit(mine[3]!)).toMatchObject({ sealed: false, progress: 0 });
    expect(t.attempts).toHaveLength(1);
    t.seal();
    expect(await t.coordinator.status()).toMatchObject({ sealed: true, progress: 0 });
  });

  it("1-of-1 stores take the root key as their one share", async () => {
    const t = setup({ shares: 1, threshold: 1 });
    await expect(t.coordinator.submit(randomBytes(32))).rejects.toMatchObject({ code: "InvalidParameter", message: WRONG_SHARES });
    expect(await t.coordinator.submit(t.rootKey)).toMatchObject({ sealed: false });
  });
});
