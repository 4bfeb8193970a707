import { buildServices, services } from './lib/build.ts';

await buildServices();
console.log(`Built ${services.map((service) => `dist/${service}/server.mjs`).join(', ')}`);
