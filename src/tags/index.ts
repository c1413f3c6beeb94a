export { MAX_TAGS, MAX_TAG_LENGTH, validateTag, validateTags, type Tag } from "./tag-rules.js";
export { deleteAllTags, listTags, putTags, removeTags, secretsTaggedIn, tagsByResource, type TaggedSecret, type TagResourceKind } from "./tag-repo.js";
