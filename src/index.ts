export { createApp, type AppOptions, type CofferApp } from "./app.js";
export { CofferError } from "./core/errors.js";
export { ERROR_CATALOG, type ErrorCode } from "./core/error-catalog.js";
export { ManualClock, systemClock, type Clock } from "./core/clock.js";
export { openStorage, PostgresStorage, SqliteStorage, type Storage } from "./storage/index.js";
