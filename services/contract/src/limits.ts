// Limits of the HTTP edge, kept below what Pub/Sub itself accepts so that an event the ingest
// accepts can always be published: a publish request carries at most 10 MB and 1,000 messages,
// an attribute value at most 1,024 bytes and a message at most 100 attributes.

export const maxBodyBytes = 1024 * 1024;
export const maxEventsPerBatch = 100;
export const maxIdLength = 256;
export const maxSourceLength = 512;
export const maxTypeLength = 256;
export const maxSubjectLength = 512;
export const maxAttributeValueBytes = 1024;
export const maxExtensionNameLength = 20;
export const maxExtensions = 20;
