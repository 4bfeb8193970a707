import { Timestamp } from '@google-cloud/firestore';
import type { EventReceipt } from '@hr-events/contract';
import { describe, expect, it } from 'vitest';
import { consumerView } from './status.ts';

function receipt(consumers: Record<string, unknown>): EventReceipt {
  return { id: 'evt-1', source: 'hr-system', type: 'hr.employee.hired', consumers: consumers as EventReceipt['consumers'] };
}

describe('consumerView', () => {
  it('keeps known consumers with a status and time', () => {
    const view = consumerView(receipt({ onboarding: { status: 'processed', at: '2027-01-01T09:00:00Z' } }));
    expect(view).toEqual({ onboarding: { status: 'processed', at: '2027-01-01T09:00:00Z' } });
  });

  it('returns a Firestore timestamp as RFC 3339', () => {
    const view = consumerView(receipt({ directory: { status: 'stale', at: Timestamp.fromDate(new Date('2027-01-01T09:00:01.500Z')) } }));
    expect(view).toEqual({ directory: { status: 'stale', at: '2027-01-01T09:00:01.500Z' } });
  });

  it('drops unknown consumers and malformed entries', () => {
    const view = consumerView(
      receipt({
        payroll: { status: 'processed', at: '2027-01-01T09:00:00Z' },
        onboarding: { status: 'pending', at: '2027-01-01T09:00:00Z' },
        directory: { status: 'processed' },
      }),
    );
    expect(view).toEqual({});
  });

  it('tolerates a receipt without consumers', () => {
    expect(consumerView({ id: 'evt-1', source: 'hr-system', type: 'hr.employee.hired' } as EventReceipt)).toEqual({});
  });
});
