export { MAX_TAGS, MAX_TAG_LENGTH, validateTag, validateTags, type Tag } from "./tag-rules.js";
export { deleteAllTags, listTags, putTags, removeTags, tagsByResource, type TagResourceKind } from "./tag-repo.js";
