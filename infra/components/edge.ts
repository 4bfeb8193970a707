import * as gcp from '@pulumi/gcp';
import * as pulumi from '@pulumi/pulumi';

// One global external Application Load Balancer in front of the ingest services, with a serverless
// NEG per region behind one backend service. A request enters Google's network at the edge nearest
// to the client and goes to the nearest healthy region. With a domain the load balancer serves HTTPS
// with a Google-managed certificate and redirects HTTP to HTTPS. Without one it serves HTTP.

export interface EdgeArgs {
  project: string;
  namePrefix: string;
  /** Cloud Run service name per region. */
  ingestServices: Record<string, pulumi.Input<string>>;
  domain?: string;
  /** Requests per minute that Cloud Armor allows each client IP address; unset, no policy. */
  rateLimitPerMinute?: number;
  apis: pulumi.Resource[];
}

export class Edge extends pulumi.ComponentResource {
  public readonly address: gcp.compute.GlobalAddress;
  public readonly negs: gcp.compute.RegionNetworkEndpointGroup[];
  public readonly backendService: gcp.compute.BackendService;
  public readonly securityPolicy?: gcp.compute.SecurityPolicy;
  /** `https://<domain>` or `http://<address>`. */
  public readonly url: pulumi.Output<string>;

  private readonly childOptions: pulumi.CustomResourceOptions;

  constructor(name: string, args: EdgeArgs, opts?: pulumi.ComponentResourceOptions) {
    super('hr-events:infra:Edge', name, {}, opts);
    this.childOptions = { parent: this, dependsOn: args.apis };
    const { project, namePrefix } = args;

    this.negs = Object.entries(args.ingestServices).map(
      ([region, service]) =>
        new gcp.compute.RegionNetworkEndpointGroup(
          `${name}-neg-${region}`,
          { project, region, name: `${namePrefix}-ingest-${region}`, networkEndpointType: 'SERVERLESS', cloudRun: { service } },
          this.childOptions,
        ),
    );

    if (args.rateLimitPerMinute !== undefined) this.securityPolicy = this.createSecurityPolicy(name, args, args.rateLimitPerMinute);

    this.backendService = new gcp.compute.BackendService(
      `${name}-backend`,
      {
        project,
        name: `${namePrefix}-ingest`,
        loadBalancingScheme: 'EXTERNAL_MANAGED',
        backends: this.negs.map((neg) => ({ group: neg.id })),
        securityPolicy: this.securityPolicy?.selfLink,
      },
      this.childOptions,
    );
    const urlMap = new gcp.compute.URLMap(
      `${name}-url-map`,
      { project, name: `${namePrefix}-ingest`, defaultService: this.backendService.id },
      this.childOptions,
    );
    this.address = new gcp.compute.GlobalAddress(`${name}-address`, { project, name: `${namePrefix}-ingest` }, this.childOptions);

    if (args.domain === undefined) {
      this.forwardHttp(name, project, `${namePrefix}-ingest-http`, urlMap);
      this.url = pulumi.interpolate`http://${this.address.address}`;
    } else {
      this.serveHttps(name, project, namePrefix, args.domain, urlMap);
      this.url = pulumi.output(`https://${args.domain}`);
    }

    this.registerOutputs({ address: this.address.address, url: this.url });
  }

  private forwardHttp(name: string, project: string, resourceId: string, urlMap: gcp.compute.URLMap): void {
    const proxy = new gcp.compute.TargetHttpProxy(`${name}-http-proxy`, { project, name: resourceId, urlMap: urlMap.id }, this.childOptions);
    new gcp.compute.GlobalForwardingRule(
      `${name}-http`,
      { project, name: resourceId, target: proxy.id, ipAddress: this.address.address, portRange: '80', loadBalancingScheme: 'EXTERNAL_MANAGED' },
      this.childOptions,
    );
  }

  private serveHttps(name: string, project: string, namePrefix: string, domain: string, urlMap: gcp.compute.URLMap): void {
    // The certificate becomes active once the domain's DNS A record points at the address.
    const certificate = new gcp.compute.ManagedSslCertificate(
      `${name}-certificate`,
      { project, name: `${namePrefix}-ingest`, managed: { domains: [domain] } },
      this.childOptions,
    );
    const proxy = new gcp.compute.TargetHttpsProxy(
      `${name}-https-proxy`,
      { project, name: `${namePrefix}-ingest-https`, urlMap: urlMap.id, sslCertificates: [certificate.id] },
      this.childOptions,
    );
    new gcp.compute.GlobalForwardingRule(
      `${name}-https`,
      { project, name: `${namePrefix}-ingest-https`, target: proxy.id, ipAddress: this.address.address, portRange: '443', loadBalancingScheme: 'EXTERNAL_MANAGED' },
      this.childOptions,
    );

    // Plain HTTP on the same address only redirects, so no event travels unencrypted past the edge.
    const redirect = new gcp.compute.URLMap(
      `${name}-https-redirect`,
      { project, name: `${namePrefix}-ingest-redirect`, defaultUrlRedirect: { httpsRedirect: true, stripQuery: false } },
      this.childOptions,
    );
    this.forwardHttp(name, project, `${namePrefix}-ingest-http`, redirect);
  }

  private createSecurityPolicy(name: string, args: EdgeArgs, requestsPerMinute: number): gcp.compute.SecurityPolicy {
    const everyAddress = { versionedExpr: 'SRC_IPS_V1', config: { srcIpRanges: ['*'] } };
    return new gcp.compute.SecurityPolicy(
      `${name}-armor`,
      {
        project: args.project,
        name: `${args.namePrefix}-ingest`,
        description: 'Per-client rate limit in front of the HR events ingest.',
        rules: [
          {
            priority: 1000,
            description: `Respond with 429 to a client IP address above ${requestsPerMinute} requests per minute.`,
            action: 'throttle',
            match: everyAddress,
            rateLimitOptions: {
              enforceOnKey: 'IP',
              rateLimitThreshold: { count: requestsPerMinute, intervalSec: 60 },
              conformAction: 'allow',
              exceedAction: 'deny(429)',
            },
          },
          // Cloud Armor requires a default rule at the lowest priority.
          { priority: 2147483647, description: 'Allow everything else.', action: 'allow', match: everyAddress },
        ],
      },
      this.childOptions,
    );
  }
}
