import { describe, expect, test } from 'vitest';
import { createDeployment } from '../../infra/deployment.ts';
import { readSettings } from '../../infra/settings.ts';
import { grantsOf, minimalConfig, runProgram } from './harness.ts';

// Several ingest regions behind one global external Application Load Balancer.

const regions = ['us-central1', 'europe-west1', 'asia-northeast1'];
const run = (config: Record<string, string>) => runProgram({ ...minimalConfig, ...config }, () => createDeployment(readSettings()));

describe('several ingest regions', () => {
  test('one service and one NEG per region', async () => {
    const graph = await run({ 'hr-events:ingestRegions': regions.join(',') });

    const ingest = graph.ofType('gcp:cloudrunv2/service:Service').filter((service) => service.inputs.name === 'hr-events-ingest');
    expect(ingest.map((service) => service.inputs.location)).toEqual(regions);
    const negs = graph.ofType('gcp:compute/regionNetworkEndpointGroup:RegionNetworkEndpointGroup');
    expect(negs.map((neg) => [neg.inputs.region, neg.inputs.networkEndpointType, neg.inputs.cloudRun.service])).toEqual(
      regions.map((region) => [region, 'SERVERLESS', 'hr-events-ingest']),
    );

    const backends = graph.ofType('gcp:compute/backendService:BackendService');
    expect(backends).toHaveLength(1);
    expect(backends[0]!.inputs.loadBalancingScheme).toBe('EXTERNAL_MANAGED');
    expect(backends[0]!.inputs.backends.map((backend: { group: string }) => backend.group)).toEqual(negs.map((neg) => `${neg.name}-id`));
  });

  test('ingest admits only internal and load balancer traffic', async () => {
    const graph = await run({ 'hr-events:ingestRegions': regions.join(',') });
    for (const service of graph.ofType('gcp:cloudrunv2/service:Service').filter((candidate) => candidate.inputs.name === 'hr-events-ingest')) {
      expect(service.inputs.ingress, service.inputs.location).toBe('INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER');
    }
    const publicGrants = grantsOf(graph).filter((grant) => grant.member === 'allUsers');
    expect(publicGrants.map((grant) => grant.resource).sort()).toEqual(regions.map((region) => `run ${region}/hr-events-ingest`).sort());
  });

  test('enables compute and serves http without a domain', async () => {
    const graph = await run({ 'hr-events:ingestRegions': JSON.stringify(regions) });
    expect(graph.ofType('gcp:projects/service:Service').map((api) => api.inputs.service)).toContain('compute.googleapis.com');
    const rules = graph.ofType('gcp:compute/globalForwardingRule:GlobalForwardingRule');
    expect(rules.map((rule) => rule.inputs.portRange)).toEqual(['80']);
    expect(rules[0]!.inputs).toMatchObject({ loadBalancingScheme: 'EXTERNAL_MANAGED', ipAddress: '203.0.113.10' });
    expect(graph.outputs.ingestUrl).toBe('http://203.0.113.10');
    expect(graph.outputs.loadBalancerAddress).toBe('203.0.113.10');
    expect(Object.keys(graph.outputs.ingestUrls)).toEqual(regions);
  });

  test('domain adds managed certificate and https', async () => {
    const graph = await run({ 'hr-events:domain': 'events.example.com' });

    const certificate = graph.ofType('gcp:compute/managedSslCertificate:ManagedSslCertificate');
    expect(certificate.map((resource) => resource.inputs.managed.domains)).toEqual([['events.example.com']]);
    const rules = graph.ofType('gcp:compute/globalForwardingRule:GlobalForwardingRule');
    expect(rules.map((rule) => rule.inputs.portRange).sort()).toEqual(['443', '80']);
    const redirect = graph.ofType('gcp:compute/uRLMap:URLMap').find((map) => map.inputs.defaultUrlRedirect !== undefined);
    expect(redirect?.inputs.defaultUrlRedirect.httpsRedirect).toBe(true);
    expect(graph.outputs.ingestUrl).toBe('https://events.example.com');
  });

  test('rate limit adds cloud armor per client', async () => {
    const graph = await run({ 'hr-events:ingestRegions': regions.join(','), 'hr-events:rateLimitPerMinute': '300' });

    const policies = graph.ofType('gcp:compute/securityPolicy:SecurityPolicy');
    expect(policies).toHaveLength(1);
    const throttle = policies[0]!.inputs.rules.find((rule: { action: string }) => rule.action === 'throttle');
    expect(throttle.rateLimitOptions).toMatchObject({
      enforceOnKey: 'IP',
      rateLimitThreshold: { count: 300, intervalSec: 60 },
      exceedAction: 'deny(429)',
    });
    const backend = graph.ofType('gcp:compute/backendService:BackendService')[0]!;
    expect(backend.inputs.securityPolicy).toBe(policies[0]!.state.selfLink);
  });

  test('no cloud armor by default', async () => {
    const graph = await run({ 'hr-events:ingestRegions': regions.join(',') });
    expect(graph.ofType('gcp:compute/securityPolicy:SecurityPolicy')).toEqual([]);
  });
});
