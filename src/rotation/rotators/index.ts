import type { Clock } from "../../core/clock.js";
import type { EgressPolicy } from "../../egress/index.js";
import type { ApiKeyService, PrincipalService } from "../../identity/index.js";
import type { SecretsModule } from "../../secrets/index.js";
import type { Rotator } from "../rotation-types.js";
import { createAccessKeyRotator } from "./access-key/access-key-rotator.js";
import { createDatabaseRotator } from "./database/database-rotator.js";
import { mysqlDriver } from "./mysql/mysql-driver.js";
import { postgresDriver } from "./postgres/postgres-driver.js";
import { redisDriver } from "./redis/redis-driver.js";
import { createSshRotator } from "./ssh/ssh-rotator.js";
import { createWebhookRotator } from "./webhook/webhook-rotator.js";

export type { DatabaseDriver, Credential } from "./database/database-rotator.js";

/** The database drivers by engine (managed-secret creation uses them directly). */
export const DATABASE_DRIVERS = { postgres: postgresDriver, mysql: mysqlDriver, redis: redisDriver } as const;

/** Every built-in rotator, by name: postgres, mysql, redis, ssh, access-key, webhook. */
export function createRotators(deps: { secrets: SecretsModule; clock: Clock; apiKeys: ApiKeyService; principals: PrincipalService; egress: EgressPolicy }): Map<string, Rotator> {
  const list: Rotator[] = [
    createDatabaseRotator(postgresDriver),
    createDatabaseRotator(mysqlDriver),
    createDatabaseRotator(redisDriver),
    createSshRotator(),
    createAccessKeyRotator({ apiKeys: deps.apiKeys, principals: deps.principals, clock: deps.clock }),
    createWebhookRotator({ secrets: deps.secrets, clock: deps.clock, egress: deps.egress }),
  ];
  return new Map(list.map((r) => [r.name, r]));
}
