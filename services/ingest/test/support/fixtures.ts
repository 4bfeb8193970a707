// Events that pass the contract's validation, for tests to start from and break on purpose.

export function hiredData(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    personId: 'P-1001',
    givenName: 'Ada',
    familyName: 'Lovelace',
    workEmail: 'ada@example.com',
    startDate: '2027-01-04',
    department: 'Engineering',
    managerId: 'P-0009',
    employmentType: 'full_time',
    ...overrides,
  };
}

export function hiredEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: 'evt-0001',
    source: 'hr-system',
    type: 'hr.employee.hired',
    time: '2027-01-01T09:00:00Z',
    data: hiredData(),
    ...overrides,
  };
}

export function engagedEvent(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    specversion: '1.0',
    id: 'evt-0002',
    source: 'vendor-office',
    type: 'hr.contractor.engaged',
    data: {
      personId: 'C-2002',
      givenName: 'Grace',
      familyName: 'Hopper',
      workEmail: 'grace@example.com',
      startDate: '2027-02-01',
      department: 'Research',
      managerId: 'P-0009',
      endDate: '2027-08-31',
      vendor: 'Acme Staffing',
    },
    ...overrides,
  };
}
