import { createDeployment } from './deployment.ts';
import { readSettings } from './settings.ts';

// The Pulumi program. Settings are validated before any resource exists; each named export below
// becomes a stack output (`pulumi stack output ingestUrl`).

const deployment = createDeployment(readSettings());

export const ingestUrl = deployment.ingestUrl;
export const ingestUrls = deployment.ingestUrls;
export const ingestAudience = deployment.ingestAudience;
export const loadBalancerAddress = deployment.loadBalancerAddress;
export const topicName = deployment.topicName;
export const deadLetterTopicName = deployment.deadLetterTopicName;
export const subscriptionNames = deployment.subscriptionNames;
export const serviceAccountEmails = deployment.serviceAccountEmails;
export const pushAudience = deployment.pushAudience;
export const firestoreDatabase = deployment.firestoreDatabase;
export const imageRepository = deployment.imageRepository;
export const images = deployment.images;
