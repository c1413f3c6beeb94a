/** The shapes of the native API answers the CLI reads (docs/api.md): the server's own, from src/contract. */
export type {
  Alias as AliasObject,
  AuditRecord,
  Key as KeyObject,
  KeyVersion,
  Secret as SecretObject,
  SecretValue as SecretValueAnswer,
  SecretVersion,
  Tag as TagEntry,
} from "../contract/native-api.js";
