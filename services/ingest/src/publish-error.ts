/** gRPC status the Pub/Sub client reports when the request itself is wrong, for example data that breaks the topic schema. */
export const invalidArgumentCode = 3;

/** Returns the gRPC status code of a publish error, when it has one. */
export function publishErrorCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}
