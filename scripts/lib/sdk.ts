import { existsSync, realpathSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { delimiter, dirname, join } from 'node:path';

// Finds the Google Cloud SDK and the emulators' own launchers. The launchers start faster than
// `gcloud beta emulators ...`, and stopping them stops the Java server itself, whereas killing the
// gcloud wrapper leaves the JVM running.

export interface CloudSdk {
  root: string;
  pubsubLauncher: string;
  firestoreLauncher: string;
}

export class MissingToolError extends Error {
  override readonly name = 'MissingToolError';
}

export function findCloudSdk(env: NodeJS.ProcessEnv = process.env): CloudSdk {
  requireJava(env);
  const root = sdkRoot(env);
  if (root === undefined) {
    throw new MissingToolError(
      'The Google Cloud SDK was not found: no gcloud on PATH and CLOUDSDK_ROOT_DIR is not set. ' +
        'Install it (https://cloud.google.com/sdk/docs/install), for example with ' +
        '`sudo apt-get install google-cloud-cli google-cloud-cli-pubsub-emulator google-cloud-cli-firestore-emulator`, ' +
        'or set CLOUDSDK_ROOT_DIR to the SDK folder.',
    );
  }
  const installedByApt = root.startsWith('/usr/lib/google-cloud-sdk');
  const pubsubLauncher = join(root, 'platform/pubsub-emulator/bin/cloud-pubsub-emulator');
  const firestoreLauncher = join(root, 'platform/cloud-firestore-emulator/cloud_firestore_emulator');
  if (!existsSync(pubsubLauncher)) {
    throw new MissingToolError(`The Pub/Sub emulator is not installed in ${root}. Install it with ${installHint('pubsub-emulator', installedByApt)}.`);
  }
  if (!existsSync(firestoreLauncher)) {
    throw new MissingToolError(`The Firestore emulator is not installed in ${root}. Install it with ${installHint('cloud-firestore-emulator', installedByApt)}.`);
  }
  return { root, pubsubLauncher, firestoreLauncher };
}

function installHint(component: string, installedByApt: boolean): string {
  const debianPackage = component === 'pubsub-emulator' ? 'google-cloud-cli-pubsub-emulator' : 'google-cloud-cli-firestore-emulator';
  return installedByApt ? `\`sudo apt-get install ${debianPackage}\`` : `\`gcloud components install ${component}\``;
}

function requireJava(env: NodeJS.ProcessEnv): void {
  const java = env.JAVA ?? 'java';
  const result = spawnSync(java, ['-version'], { stdio: 'ignore' });
  if (result.error !== undefined || result.status !== 0) {
    throw new MissingToolError(
      `Java was not found (tried "${java}"); both emulators run on Java 11 or newer. ` +
        'Install it with `sudo apt-get install default-jre-headless`, or set JAVA to the java binary.',
    );
  }
}

function sdkRoot(env: NodeJS.ProcessEnv): string | undefined {
  if (env.CLOUDSDK_ROOT_DIR) return env.CLOUDSDK_ROOT_DIR;
  for (const folder of (env.PATH ?? '').split(delimiter)) {
    const candidate = join(folder, 'gcloud');
    if (folder !== '' && existsSync(candidate)) {
      // gcloud is usually a symbolic link into <root>/bin.
      return dirname(dirname(realpathSync(candidate)));
    }
  }
  return undefined;
}
