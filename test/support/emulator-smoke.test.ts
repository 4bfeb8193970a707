import { PubSub } from '@google-cloud/pubsub';
import { describe, expect, it } from 'vitest';
import { topology } from '@hr-events/contract';
import { provisionTopology } from '../../scripts/lib/provision.ts';
import { uniqueProjectId } from './project.ts';

describe('topic schema on the emulator', () => {
  const projectId = uniqueProjectId('schema');
  const names = topology();
  const pubsub = new PubSub({ projectId });

  it('accepts a valid record and rejects malformed ones', async () => {
    await provisionTopology({ projectId, topology: names, pushEndpoint: 'http://127.0.0.1:9/pubsub/push', pubsub });
    const topic = pubsub.topic(names.topic.name);
    const valid = {
      personId: 'P-1',
      givenName: 'Ada',
      familyName: 'Lovelace',
      workEmail: 'ada@example.com',
      startDate: '2027-01-04',
      department: 'Engineering',
      managerId: 'P-9',
      details: { employmentType: 'full_time' },
    };
    await expect(topic.publishMessage({ json: valid })).resolves.toMatch(/\d+/);

    const { givenName: _omitted, ...missingField } = valid;
    await expect(topic.publishMessage({ json: missingField })).rejects.toMatchObject({ code: 3 });
    await expect(topic.publishMessage({ json: { ...valid, details: { employmentType: 7 } } })).rejects.toMatchObject({ code: 3 });
    await expect(topic.publishMessage({ data: Buffer.from('not json') })).rejects.toMatchObject({ code: 3 });
    await pubsub.close();
  });
});
