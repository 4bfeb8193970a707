import { describe, expect, it } from 'vitest';
import { topology } from './topology.ts';

describe('topology', () => {
  it('uses the documented production defaults', () => {
    const names = topology();
    expect(names.topic.name).toBe('hr-events');
    expect(names.subscriptions.directory).toMatchObject({ ackDeadlineSeconds: 60, maxDeliveryAttempts: 10, enableMessageOrdering: true });
    expect(names.subscriptions.onboarding).toMatchObject({ pushPath: '/pubsub/push', minimumBackoffSeconds: 10, maximumBackoffSeconds: 600 });
  });

  it('applies overrides without touching other settings', () => {
    const names = topology({ subscriptions: { directory: { maxDeliveryAttempts: 5, minimumBackoffSeconds: 0 } } }, 'test-a');
    expect(names.subscriptions.directory).toMatchObject({ name: 'test-a-directory-pull', maxDeliveryAttempts: 5, minimumBackoffSeconds: 0, ackDeadlineSeconds: 60 });
  });

  it('rejects settings Pub/Sub would reject, naming them', () => {
    expect(() => topology({ subscriptions: { onboarding: { maxDeliveryAttempts: 3 } } })).toThrow(
      'subscriptions.onboarding.maxDeliveryAttempts must be an integer from 5 to 100, found 3',
    );
    expect(() => topology({ subscriptions: { directory: { ackDeadlineSeconds: 5 } } })).toThrow(/ackDeadlineSeconds must be an integer from 10 to 600, found 5/);
  });

  it('rejects a minimum backoff above the maximum', () => {
    expect(() => topology({ subscriptions: { directory: { minimumBackoffSeconds: 60, maximumBackoffSeconds: 10 } } })).toThrow(/must not exceed maximumBackoffSeconds/);
  });
});
