/**
 * The targets Coffer rotates credentials on, in one place: the server (validation, route
 * schemas, drivers), the CLI (`coffer managed-secrets create`) and the console (the managed
 * secret form, type labels) all read this list. Imports nothing.
 */

/** What a managed secret holds (`extendedConfig.Coffer.type`). */
export const MANAGED_TYPES = ["database", "server", "access-key"] as const;
export type ManagedType = (typeof MANAGED_TYPES)[number];

/** Database engines with a rotator, in the order forms offer them. */
export const DATABASE_ENGINES = ["postgres", "mysql", "redis"] as const;
export type DatabaseEngine = (typeof DATABASE_ENGINES)[number];

export interface DatabaseEngineInfo {
  /** The port a target listens on unless it says otherwise. */
  defaultPort: number;
  /** The engine's name in forms and pickers. */
  label: string;
  /** The engine's name inside another label (`Database (MySQL, dual accounts)`). */
  shortLabel: string;
}

export const DATABASE_ENGINE_INFO: Readonly<Record<DatabaseEngine, DatabaseEngineInfo>> = {
  postgres: { defaultPort: 5432, label: "PostgreSQL", shortLabel: "PostgreSQL" },
  mysql: { defaultPort: 3306, label: "MySQL / MariaDB", shortLabel: "MySQL" },
  redis: { defaultPort: 6379, label: "Redis", shortLabel: "Redis" },
};
