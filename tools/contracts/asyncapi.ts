// Writes docs/asyncapi.yaml from libs/contracts. Run: npm run asyncapi
import { writeFileSync } from 'node:fs';
import { asyncApiDocument } from '@aip/contracts';
import { stringify } from 'yaml';

const target = new URL('../../docs/asyncapi.yaml', import.meta.url);
writeFileSync(target, stringify(asyncApiDocument(), { aliasDuplicateObjects: false, lineWidth: 0 }));
console.log(`wrote ${target.pathname}`);
