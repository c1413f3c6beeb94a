import type { ReferencesModule } from "../../references/index.js";
import type { SecretsModule } from "../../secrets/index.js";

/** What the native `/v1/sql` and `/v1/secrets:batchGet` routes need. */
export interface ReferenceApiDeps {
  references: ReferencesModule;
  secrets: SecretsModule;
}
