import { createHash } from 'node:crypto';
import * as pulumi from '@pulumi/pulumi';
import type { DeploymentOutputs } from '../../infra/deployment.ts';

// Runs the Pulumi program under `pulumi.runtime.setMocks`: no CLI, no cloud. Every resource is
// recorded with its resolved inputs, its mocked state and the resources it depends on, so that tests
// can assert the graph.

export const projectId = 'hr-events-test';
export const projectNumber = '123456789012';
export const pubsubAgentEmail = `service-${projectNumber}@gcp-sa-pubsub.iam.gserviceaccount.com`;

export interface RecordedResource {
  type: string;
  name: string;
  inputs: Record<string, any>;
  state: Record<string, any>;
  /** Types and names of the resources listed in `dependsOn`. */
  dependsOn: { type: string; name: string }[];
}

export interface Graph {
  resources: RecordedResource[];
  outputs: Record<string, any>;
  /** The resources of one type, in creation order. */
  ofType(type: string): RecordedResource[];
  /** The one resource with this type and name; fails when there is none. */
  named(type: string, name: string): RecordedResource;
}

/** Computes the outputs Google Cloud would add to a resource, from its inputs. */
function mockState(type: string, name: string, inputs: Record<string, any>): { id: string; state: Record<string, any> } {
  const project = inputs.project ?? projectId;
  switch (type) {
    case 'gcp:serviceaccount/account:Account': {
      const email = `${inputs.accountId}@${project}.iam.gserviceaccount.com`;
      const fullName = `projects/${project}/serviceAccounts/${email}`;
      return { id: fullName, state: { ...inputs, email, name: fullName, member: `serviceAccount:${email}` } };
    }
    case 'gcp:projects/serviceIdentity:ServiceIdentity': {
      const agent = String(inputs.service).split('.')[0];
      const email = `service-${projectNumber}@gcp-sa-${agent}.iam.gserviceaccount.com`;
      return { id: `${project}/${inputs.service}`, state: { ...inputs, email, member: `serviceAccount:${email}` } };
    }
    case 'gcp:cloudrunv2/service:Service':
      // The uri Cloud Run reports is the older hashed form, unlike the deterministic URL.
      return { id: `projects/${project}/locations/${inputs.location}/services/${inputs.name}`, state: { ...inputs, uri: `https://${inputs.name}-abc123-uc.a.run.app` } };
    case 'gcp:pubsub/topic:Topic':
      return { id: `projects/${project}/topics/${inputs.name}`, state: inputs };
    case 'gcp:pubsub/schema:Schema':
      return { id: `projects/${project}/schemas/${inputs.name}`, state: inputs };
    case 'gcp:pubsub/subscription:Subscription':
      return { id: `projects/${project}/subscriptions/${inputs.name}`, state: inputs };
    case 'gcp:secretmanager/secret:Secret':
      return { id: `projects/${project}/secrets/${inputs.secretId}`, state: { ...inputs, name: `projects/${projectNumber}/secrets/${inputs.secretId}` } };
    case 'gcp:secretmanager/secretVersion:SecretVersion':
      return { id: `${inputs.secret}/versions/1`, state: { ...inputs, name: `${inputs.secret}/versions/1`, version: '1' } };
    case 'gcp:compute/globalAddress:GlobalAddress':
      return { id: `projects/${project}/global/addresses/${inputs.name}`, state: { ...inputs, address: '203.0.113.10' } };
    case 'docker-build:index:Image': {
      const digest = `sha256:${createHash('sha256').update(name).digest('hex')}`;
      return { id: digest, state: { ...inputs, digest, ref: `${inputs.tags[0]}@${digest}` } };
    }
    default:
      return { id: `${name}-id`, state: { ...inputs, selfLink: `https://mock.invalid/${name}` } };
  }
}

const mocks: pulumi.runtime.Mocks = {
  newResource(args) {
    const { id, state } = mockState(args.type, args.name, args.inputs);
    recorded.set(args.name + '|' + args.type, { type: args.type, name: args.name, inputs: args.inputs, state, dependsOn: [] });
    return { id, state };
  },
  call(args) {
    switch (args.token) {
      case 'gcp:organizations/getProject:getProject':
        return { projectId: args.inputs.projectId, number: projectNumber };
      case 'gcp:organizations/getClientConfig:getClientConfig':
        return { accessToken: 'mock-access-token', project: projectId };
      default:
        throw new Error(`The test mocks do not implement ${args.token}.`);
    }
  },
};

let recorded = new Map<string, RecordedResource>();

/**
 * Runs `program` as a stack with the given config (`gcp:project` and `hr-events:*` keys) and returns
 * the recorded graph once every resource has been registered.
 */
export async function runProgram(config: Record<string, string>, program: () => DeploymentOutputs | Promise<Record<string, unknown>>): Promise<Graph> {
  recorded = new Map();
  await pulumi.runtime.setMocks(mocks, 'hr-events', 'test', false);
  pulumi.runtime.setAllConfig(config);

  const created: { resource: pulumi.Resource; type: string; name: string; dependsOn: unknown }[] = [];
  const outputs = await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation((args) => {
      created.push({ resource: args.resource, type: args.type, name: args.name, dependsOn: args.opts.dependsOn });
      return undefined;
    });
    return program();
  });

  // Wait until the mock monitor has registered every resource, not only those behind the outputs,
  // and has finished every call, so that the next run's setMocks cannot cut one off.
  await Promise.all(created.map(({ resource }) => new Promise((resolve) => resource.urn.apply(resolve))));
  await pulumi.runtime.disconnect();

  const identity = new Map(created.map(({ resource, type, name }) => [resource, { type, name }]));
  for (const entry of created) {
    const record = recorded.get(entry.name + '|' + entry.type);
    if (!record) continue;
    const dependsOn = entry.dependsOn === undefined ? [] : Array.isArray(entry.dependsOn) ? entry.dependsOn : [entry.dependsOn];
    record.dependsOn = dependsOn.map((resource) => identity.get(resource as pulumi.Resource) ?? { type: 'unknown', name: 'unknown' });
  }

  const resources = [...recorded.values()];
  return {
    resources,
    outputs: outputs ?? {},
    ofType: (type) => resources.filter((resource) => resource.type === type),
    named(type, name) {
      const match = resources.find((resource) => resource.type === type && resource.name === name);
      if (!match) throw new Error(`No ${type} named ${name}; found ${resources.filter((r) => r.type === type).map((r) => r.name).join(', ') || 'none of that type'}.`);
      return match;
    },
  };
}

/**
 * Runs `program` outside a stack, as a program whose settings are invalid runs until it throws, and
 * returns the error it throws and the number of resources it had registered by then.
 */
export async function runFailingProgram(config: Record<string, string>, program: () => unknown): Promise<{ error: unknown; registered: number }> {
  recorded = new Map();
  await pulumi.runtime.setMocks(mocks, 'hr-events', 'test', false);
  pulumi.runtime.setAllConfig(config);
  try {
    program();
  } catch (error) {
    await pulumi.runtime.disconnect();
    return { error, registered: recorded.size };
  }
  throw new Error(`The program ran without an error under ${JSON.stringify(config)}.`);
}

/** Config of a stack with only the required setting. */
export const minimalConfig = { 'gcp:project': projectId };

/** An IAM grant as the tests compare it: the role, who receives it and on which resource. */
export interface Grant {
  role: string;
  member: string;
  resource: string;
}

/** Lists every IAM member resource in the graph as a grant. */
export function grantsOf(graph: Graph): Grant[] {
  const describe: Record<string, (inputs: Record<string, any>) => string> = {
    'gcp:pubsub/topicIAMMember:TopicIAMMember': (inputs) => `topic ${inputs.topic}`,
    'gcp:pubsub/subscriptionIAMMember:SubscriptionIAMMember': (inputs) => `subscription ${inputs.subscription}`,
    'gcp:cloudrunv2/serviceIamMember:ServiceIamMember': (inputs) => `run ${inputs.location}/${inputs.name}`,
    'gcp:serviceaccount/iAMMember:IAMMember': (inputs) => `service account ${inputs.serviceAccountId}`,
    'gcp:projects/iAMMember:IAMMember': (inputs) => `project ${inputs.project} if ${inputs.condition?.expression ?? 'always'}`,
    'gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember': (inputs) => `key ${inputs.cryptoKeyId}`,
    'gcp:secretmanager/secretIamMember:SecretIamMember': (inputs) => `secret ${inputs.secretId}`,
  };
  const iamResources = graph.resources.filter((resource) => /iam(member|binding|policy)/i.test(resource.type));
  return iamResources.map((resource) => {
    const describeResource = describe[resource.type];
    if (!describeResource) throw new Error(`grantsOf does not know the IAM resource type ${resource.type}.`);
    return { role: resource.inputs.role, member: resource.inputs.member, resource: describeResource(resource.inputs) };
  });
}

/** Returns the container env of a Cloud Run service as a plain object. */
export function envOf(service: RecordedResource): Record<string, string> {
  const container = service.inputs.template.containers[0];
  return Object.fromEntries(container.envs.map((env: { name: string; value: string }) => [env.name, env.value]));
}

/** The marker key Pulumi puts on a serialized secret value. */
const secretSignature = '4dabf18193072939515e22adb298388d';

/** Unwraps a serialized secret input; `secret` is true when the input was a secret. */
export function unwrapSecret(value: any): { secret: boolean; value: any } {
  if (value !== null && typeof value === 'object' && secretSignature in value) return { secret: true, value: value.value };
  return { secret: false, value };
}
