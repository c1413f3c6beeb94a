import { describe, expect, it } from "vitest";
import { openStorage, PostgresStorage, SqliteStorage } from "./index.js";

/** The storage spec of `--storage` / COFFER_STORAGE (no connection is opened here). */
describe("openStorage", () => {
  it("postgres:// with ?schema= and ?pool=N; a bad pool size is refused with what was wrong", async () => {
    const s = openStorage("postgres://u@127.0.0.1:1/db?schema=x&pool=5", "/nonexistent");
    expect(s).toBeInstanceOf(PostgresStorage);
    await s.close();
    for (const bad of ["abc", "1", "1001", "-3", "5x"]) expect(() => openStorage(`postgres://u@127.0.0.1:1/db?pool=${bad}`, "/nonexistent")).toThrow(/pool=.* is not a number of connections from 2 to 1000/);
  });

  it("sqlite, sqlite:<file>, or nothing for the data directory's coffer.db; anything else is refused", async () => {
    expect(() => openStorage("mysql://x", "/tmp")).toThrow(/unknown storage/);
    const s = openStorage("sqlite::memory:", "/nonexistent");
    expect(s).toBeInstanceOf(SqliteStorage);
    await s.close();
  });
});
