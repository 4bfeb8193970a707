import { connect, createServer, type Socket } from 'node:net';

// A TCP proxy on loopback that can stop passing bytes, to make a backend hang for one client
// without touching the backend itself. While paused, it keeps the bytes of both directions. When
// either side closes, it closes the other and drops the kept bytes, so a request sent while paused
// never reaches the backend if the client goes away first.

export interface PausableProxy {
  /** host:port to give the client, for example as FIRESTORE_EMULATOR_HOST. */
  host: string;
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

export async function startPausableProxy(target: string): Promise<PausableProxy> {
  const [targetHost, targetPort] = target.split(':') as [string, string];
  const sockets = new Set<Socket>();
  const held: Array<{ to: Socket; chunk: Buffer }> = [];
  let paused = false;

  const forward = (from: Socket, to: Socket) => {
    from.on('data', (chunk: Buffer) => {
      if (paused) held.push({ to, chunk });
      else to.write(chunk);
    });
  };

  const server = createServer((client) => {
    const upstream = connect(Number(targetPort), targetHost);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('error', () => undefined);
      socket.on('close', () => {
        sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('The proxy did not get a TCP port.');

  return {
    host: `127.0.0.1:${address.port}`,
    pause() {
      paused = true;
    },
    resume() {
      paused = false;
      for (const { to, chunk } of held.splice(0)) if (!to.destroyed) to.write(chunk);
    },
    async close() {
      held.length = 0;
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
