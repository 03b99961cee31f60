// avro.test.mjs: Avro interoperability between evbus and a client nobody
// here wrote, the npm package @kafkajs/confluent-schema-registry (with
// avsc behind it), through `evbus serve`'s schema registry:
//   - the package registers schemas (the fraud demo's transaction.avsc and
//     notification.avsc, and a schema with general unions, enums, arrays,
//     maps, decimals, fixed, logical types and nested records) and encodes
//     records in the Confluent wire format; `evbus avro decode` turns them
//     into the JSON the EventBridge Kafka connector would write
//     (docs/avro-json.md), which is checked member by member, in order;
//   - `evbus avro encode` writes records from that JSON that the package
//     decodes to the same values.
//
//   REGISTRY_URL=http://127.0.0.1:PORT REGISTRY_NODE_MODULES=DIR \
//   EVBUS=/path/to/evbus node --test tests/node/avro.test.mjs
//
// tests/cli/test_avro_node.sh sets these up (the package is installed
// with npm ci from tests/node/package-lock.json under build/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const url = process.env.REGISTRY_URL;
const modules = process.env.REGISTRY_NODE_MODULES;
const evbusBin = process.env.EVBUS;
assert.ok(url && modules && evbusBin, 'REGISTRY_URL, REGISTRY_NODE_MODULES and EVBUS must be set');
const require = createRequire(path.join(modules, 'index.js'));
const { SchemaRegistry, SchemaType } = require('@kafkajs/confluent-schema-registry');

const here = path.dirname(fileURLToPath(import.meta.url));
const schemaDir = path.join(here, '..', '..', 'demo', 'fraud', 'schemas');
const transactionAvsc = readFileSync(path.join(schemaDir, 'transaction.avsc'), 'utf8');
const notificationAvsc = readFileSync(path.join(schemaDir, 'notification.avsc'), 'utf8');

const tag = `${process.pid}`;
const fresh = () => new SchemaRegistry({ host: url }, { [SchemaType.AVRO]: {} });

// `evbus avro ARGS` with input on stdin.
function evbus(args, input) {
  const r = spawnSync(evbusBin, ['avro', ...args], { input, encoding: 'utf8', timeout: 30000 });
  assert.equal(r.error, undefined, `evbus avro ${args.join(' ')} did not run`);
  return r;
}

// Decode Confluent-framed buffers with `evbus avro decode --hex`; returns
// the JSON lines as text.
function evbusDecode(buffers, extra = []) {
  const input = buffers.map((b) => b.toString('hex')).join('\n') + '\n';
  const r = evbus(['decode', '--registry', url, '--hex', ...extra], input);
  assert.equal(r.status, 0, `evbus avro decode failed: ${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, buffers.length);
  return lines;
}

// Encode JSON documents with `evbus avro encode` (latest version of
// subject); returns the framed values as Buffers.
function evbusEncode(subject, docs, extra = []) {
  const input = docs.map((d) => (typeof d === 'string' ? d : JSON.stringify(d))).join('\n') + '\n';
  const r = evbus(['encode', '--registry', url, '--subject', subject, '--base64', ...extra], input);
  assert.equal(r.status, 0, `evbus avro encode failed: ${r.stderr}`);
  const lines = r.stdout.split('\n').filter((l) => l.length > 0);
  assert.equal(lines.length, docs.length);
  return lines.map((l) => Buffer.from(l, 'base64'));
}

// The same JSON, members in the same order: compare the texts after a
// round through JSON.parse (so 1999.0 and 1999 are the same number).
function assertSameJson(actualText, expected, what) {
  assert.equal(JSON.stringify(JSON.parse(actualText)), JSON.stringify(expected), what);
}

// avsc decodes records into class instances; make plain values.
function plain(v) {
  if (Buffer.isBuffer(v)) return v;
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') {
    const o = {};
    for (const [k, x] of Object.entries(v)) o[k] = plain(x);
    return o;
  }
  return v;
}

// ---- the fraud demo's schemas ------------------------------------------------------

// The record as the connector writes it: every field of the schema, in
// schema order, a missing one as its default (the demo's schemas gain
// optional fields over time; the records below need not list them).
function withDefaults(schemaText, record) {
  const out = {};
  for (const f of JSON.parse(schemaText).fields) {
    out[f.name] = f.name in record ? record[f.name] : f.default;
  }
  return out;
}

const transactions = [
  {
    creditCard: '4111-1111-1111-1111', firstName: 'Chloé', id: '3.1.4', lastName: "O'Brien",
    streetAddress: '1 Rue de la Paix', total: '153.27', userId: '123-45-6789', merchant: 'Fuel&Go',
    category: 'fuel', country: 'FR', latitude: 48.8686, longitude: 2.3314, timestamp: 1700000000123,
  },
  {
    creditCard: null, firstName: null, id: null, lastName: null, streetAddress: null, total: null,
    userId: 'u-2', merchant: null, category: null, country: null, latitude: null, longitude: null,
    timestamp: null,
  },
  {
    creditCard: '5500-0000-0000-0004', firstName: 'José', id: '9.9.9', lastName: 'García',
    streetAddress: 'Calle "Mayor" 5\n2ºB', total: '1999.00', userId: '987-65-4321', merchant: 'Luxe Jewelers',
    category: 'jewelry', country: 'ES', latitude: -33.8688, longitude: 151.2093, timestamp: 1712345678901,
  },
];

const notifications = [
  {
    source: 'fraud-detector', eventType: 'suspicious-transaction',
    eventDetail: { userId: '123-45-6789', total: 1999.0 },
    ruleId: 'R0-amount-threshold', cardId: '5500-0000-0000-0004', score: 4.75, reason: 'amount over 1000',
  },
  {
    source: 'fraud-detector', eventType: 'suspicious-transaction',
    eventDetail: { userId: 'u-2', total: 12.34 }, ruleId: null, cardId: null, score: null, reason: null,
  },
];

test('fraud demo schemas: the package encodes, evbus decodes to the connector JSON', async () => {
  const c = fresh();
  const { id: txId } = await c.register(
    { type: SchemaType.AVRO, schema: transactionAvsc },
    { subject: `transactions-${tag}-value` },
  );
  const { id: ntId } = await c.register(
    { type: SchemaType.AVRO, schema: notificationAvsc },
    { subject: `notifications-${tag}-value` },
  );
  assert.notEqual(txId, ntId);
  const encoded = [];
  for (const t of transactions) encoded.push(await c.encode(txId, t));
  for (const n of notifications) encoded.push(await c.encode(ntId, n));
  const lines = evbusDecode(encoded);
  // nullable unions unwrapped; every field present, in schema order
  transactions.forEach((t, i) =>
    assertSameJson(lines[i], withDefaults(transactionAvsc, t), `transaction ${i}`));
  notifications.forEach((n, i) =>
    assertSameJson(lines[transactions.length + i], withDefaults(notificationAvsc, n), `notification ${i}`));
  // numbers as Java writes them: 1999.0 keeps its fraction digit
  assert.match(lines[transactions.length], /"eventDetail":\{"userId":"123-45-6789","total":1999\.0\}/);
  assert.match(lines[0], /"latitude":48\.8686,"longitude":2\.3314,"timestamp":1700000000123\}$/);
  assert.match(lines[2], /"streetAddress":"Calle \\"Mayor\\" 5\\n2ºB"/);
});

test('fraud demo schemas: evbus encodes, the package decodes the same values', async () => {
  const subject = `transactions-${tag}-value`;
  const encoded = evbusEncode(subject, transactions);
  const latest = await fresh().getLatestSchemaId(subject);
  const consumer = fresh();
  for (let i = 0; i < transactions.length; i++) {
    assert.equal(encoded[i][0], 0, 'Confluent magic byte');
    assert.equal(encoded[i].readInt32BE(1), latest, 'the subject\'s latest schema id');
    assert.deepEqual(plain(await consumer.decode(encoded[i])), withDefaults(transactionAvsc, transactions[i]));
  }
  const notes = evbusEncode(`notifications-${tag}-value`, notifications);
  for (let i = 0; i < notifications.length; i++) {
    assert.deepEqual(plain(await consumer.decode(notes[i])), withDefaults(notificationAvsc, notifications[i]));
  }
});

// ---- unions, enums, arrays, maps, decimals, nested records ---------------------------

const rich = {
  type: 'record',
  name: 'Account',
  namespace: 'com.example.rich',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'status', type: { type: 'enum', name: 'Status', symbols: ['ACTIVE', 'SUSPENDED', 'CLOSED'] } },
    { name: 'balance', type: { type: 'bytes', logicalType: 'decimal', precision: 12, scale: 2 } },
    {
      name: 'limit',
      type: { type: 'fixed', name: 'Money', size: 8, logicalType: 'decimal', precision: 18, scale: 4 },
    },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'scores', type: { type: 'map', values: 'double' } },
    { name: 'counters', type: { type: 'map', values: 'long' } },
    { name: 'maybe', type: ['null', 'long'], default: null },
    {
      name: 'home',
      type: {
        type: 'record', name: 'Point',
        fields: [{ name: 'lat', type: 'double' }, { name: 'lon', type: 'double' }],
      },
    },
    { name: 'choice', type: ['null', 'string', 'int', 'Point'] },
    {
      name: 'history',
      type: {
        type: 'array',
        items: {
          type: 'record', name: 'Entry',
          fields: [
            { name: 'at', type: { type: 'long', logicalType: 'timestamp-millis' } },
            { name: 'status', type: 'Status' },
            { name: 'note', type: ['null', 'string'], default: null },
            { name: 'where', type: ['null', 'Point'], default: null },
          ],
        },
      },
    },
    { name: 'raw', type: 'bytes' },
    { name: 'ref', type: { type: 'string', logicalType: 'uuid' } },
    { name: 'opened', type: { type: 'int', logicalType: 'date' } },
    { name: 'ratio', type: 'float' },
    { name: 'active', type: 'boolean' },
  ],
};

// What avsc takes (decimals as the unscaled value's big-endian two's
// complement, unions unwrapped since their branches are distinguishable).
const accounts = [
  {
    id: 'acc-1', status: 'SUSPENDED',
    balance: Buffer.from([0x00, 0x30, 0x39]), // 123.45, not minimal on purpose
    limit: Buffer.from([0, 0, 0, 0, 0, 0x12, 0xd6, 0x87]), // 123.4567
    tags: ['vip', 'eu'], scores: { risk: 0.25, trust: 12.5 }, counters: { logins: 42, fails: 0 },
    maybe: 7, home: { lat: 48.8566, lon: 2.3522 }, choice: 'text',
    history: [
      { at: 1700000000000, status: 'ACTIVE', note: 'opened', where: { lat: 1.5, lon: -2.5 } },
      { at: 1700000360000, status: 'SUSPENDED', note: null, where: null },
    ],
    raw: Buffer.from([0xde, 0xad, 0xbe, 0xef]), ref: '3f1c9a52-8d0e-4b7a-9c61-0e2f5d7a1b34',
    opened: 19700, ratio: 1.1, active: true,
  },
  {
    id: 'acc-2', status: 'CLOSED',
    balance: Buffer.from([0xff, 0x85]), // -1.23, not minimal either
    limit: Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfb]), // -0.0005
    tags: [], scores: {}, counters: { big: 1234567890123456 },
    maybe: null, home: { lat: -33.5, lon: 151.25 }, choice: 42,
    history: [], raw: Buffer.alloc(0), ref: '00000000-0000-4000-8000-000000000000',
    opened: -1, ratio: -0.5, active: false,
  },
  {
    id: 'acc-3', status: 'ACTIVE', balance: Buffer.from([0x00]),
    limit: Buffer.alloc(8), tags: ['x'], scores: { a: 1e21 }, counters: {},
    maybe: 0, home: { lat: 0, lon: 0 }, choice: { lat: 10.125, lon: 20.0 },
    history: [], raw: Buffer.from('hi'), ref: '6ba7b810-9dad-11d1-80b4-00c04fd430c8', opened: 0, ratio: 0, active: true,
  },
  {
    id: 'acc-4', status: 'ACTIVE', balance: Buffer.from([0x01]), limit: Buffer.from('0de0b6b3a763ffff', 'hex'), // 18 digits: the precision
    tags: [], scores: {}, counters: {}, maybe: null, home: { lat: 1, lon: 2 }, choice: null,
    history: [], raw: Buffer.alloc(0), ref: 'ffffffff-ffff-4fff-bfff-ffffffffffff', opened: 1, ratio: 3.4028234663852886e38, active: false,
  },
];

// The connector's JSON for each (docs/avro-json.md): decimals as base64 of
// the minimal two's complement, bytes base64, enums as symbols, maps as
// objects, nullable unions unwrapped, the general union wrapped with every
// non-null branch, logical types as their underlying values, floats as
// Java's Float.toString.
const accountsJson = [
  {
    id: 'acc-1', status: 'SUSPENDED', balance: 'MDk=', limit: 'EtaH', tags: ['vip', 'eu'],
    scores: { risk: 0.25, trust: 12.5 }, counters: { logins: 42, fails: 0 }, maybe: 7,
    home: { lat: 48.8566, lon: 2.3522 }, choice: { string: 'text', int: null, Point: null },
    history: [
      { at: 1700000000000, status: 'ACTIVE', note: 'opened', where: { lat: 1.5, lon: -2.5 } },
      { at: 1700000360000, status: 'SUSPENDED', note: null, where: null },
    ],
    raw: '3q2+7w==', ref: '3f1c9a52-8d0e-4b7a-9c61-0e2f5d7a1b34', opened: 19700, ratio: 1.1, active: true,
  },
  {
    id: 'acc-2', status: 'CLOSED', balance: 'hQ==', limit: '+w==', tags: [], scores: {},
    counters: { big: 1234567890123456 }, maybe: null, home: { lat: -33.5, lon: 151.25 },
    choice: { string: null, int: 42, Point: null }, history: [], raw: '',
    ref: '00000000-0000-4000-8000-000000000000', opened: -1, ratio: -0.5, active: false,
  },
  {
    id: 'acc-3', status: 'ACTIVE', balance: 'AA==', limit: 'AA==', tags: ['x'], scores: { a: 1e21 },
    counters: {}, maybe: 0, home: { lat: 0, lon: 0 },
    choice: { string: null, int: null, Point: { lat: 10.125, lon: 20 } }, history: [], raw: 'aGk=',
    ref: '6ba7b810-9dad-11d1-80b4-00c04fd430c8', opened: 0, ratio: 0, active: true,
  },
  {
    id: 'acc-4', status: 'ACTIVE', balance: 'AQ==', limit: 'DeC2s6dj//8=', tags: [], scores: {},
    counters: {}, maybe: null, home: { lat: 1, lon: 2 }, choice: null, history: [], raw: '',
    ref: 'ffffffff-ffff-4fff-bfff-ffffffffffff',
    opened: 1, ratio: 3.4028235e38, active: false,
  },
];

// what evbus writes for each balance: the minimal two's complement
const minimalBalances = [[0x30, 0x39], [0x85], [0x00], [0x01]].map((b) => Buffer.from(b));

const richSubject = `accounts-${tag}-value`;

test('rich schema: the package encodes, evbus decodes to the connector JSON', async () => {
  const c = fresh();
  const { id } = await c.register({ type: SchemaType.AVRO, schema: JSON.stringify(rich) }, { subject: richSubject });
  const encoded = [];
  for (const a of accounts) encoded.push(await c.encode(id, a));
  const lines = evbusDecode(encoded);
  accountsJson.forEach((j, i) => assertSameJson(lines[i], j, `account ${i}`));
  // exact text where JavaScript and Java write numbers differently
  assert.match(lines[0], /"ratio":1\.1,/);
  assert.match(lines[2], /"scores":\{"a":1\.0E21\}/);
  assert.match(lines[2], /"home":\{"lat":0\.0,"lon":0\.0\}/);
  assert.match(lines[3], /"ratio":3\.4028235E38,/);
  assert.match(lines[1], /"counters":\{"big":1234567890123456\}/);

  // decimals as numbers (EVB_AVRO_DECIMAL_NUMBER): BigDecimal.toString
  const num = evbusDecode(encoded, ['--decimal-number']);
  const decimals = num.map((l) => l.match(/"balance":([^,]*),"limit":([^,]*),/).slice(1));
  assert.deepEqual(decimals, [
    ['123.45', '123.4567'],
    ['-1.23', '-0.0005'],
    ['0.00', '0.0000'],
    ['0.01', '99999999999999.9999'],
  ]);
});

test('rich schema: evbus encodes the connector JSON, the package decodes the same values', async () => {
  // decimals given as base64 (the decoder's default output) and as numbers
  const asNumbers = accountsJson.map((j, i) => {
    const n = { ...j };
    n.balance = ['123.45', '-1.23', '0', '0.01'][i];
    n.limit = ['123.4567', '-0.0005', '0', '99999999999999.9999'][i];
    return JSON.stringify(n).replace(/"(balance|limit)":"([^"]*)"/g, '"$1":$2');
  });
  const fromBase64 = evbusEncode(richSubject, accountsJson);
  const fromNumbers = evbusEncode(richSubject, asNumbers);
  const consumer = fresh();
  for (let i = 0; i < accounts.length; i++) {
    for (const enc of [fromBase64[i], fromNumbers[i]]) {
      const got = plain(await consumer.decode(enc));
      const want = { ...accounts[i] };
      // evbus writes the minimal two's complement (avsc keeps bytes as given)
      want.balance = minimalBalances[i];
      want.ratio = Math.fround(accounts[i].ratio); // float precision
      assert.deepEqual(got, want, `account ${i}`);
    }
  }
  // the package's own encoding of a record whose decimals are minimal is
  // byte for byte evbus's
  const producer = fresh();
  const id = await producer.getLatestSchemaId(richSubject);
  const again = await producer.encode(id, plain(await consumer.decode(fromBase64[2])));
  assert.equal(again.toString('hex'), fromBase64[2].toString('hex'));
});

test('round trip: package -> evbus decode -> evbus encode -> package', async () => {
  const c = fresh();
  const id = await c.getLatestSchemaId(richSubject);
  const encoded = [];
  for (const a of accounts) encoded.push(await c.encode(id, a));
  const json = evbusDecode(encoded);
  const back = evbusEncode(richSubject, json);
  for (let i = 0; i < accounts.length; i++) {
    const a = plain(await c.decode(encoded[i]));
    const b = plain(await c.decode(back[i]));
    // equal values; only a non-minimal decimal's bytes may differ
    const norm = (v) => ({ ...v, balance: null });
    assert.deepEqual(norm(b), norm(a));
  }
});

test('evbus refuses what does not fit, and says why', async () => {
  // an unknown schema id: 40403, exit status 2, the other values still go
  const c = fresh();
  const id = await c.getLatestSchemaId(`notifications-${tag}-value`);
  const good = (await c.encode(id, notifications[1])).toString('hex');
  const unknown = Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 2, 0x61]).toString('hex');
  const r = evbus(['decode', '--registry', url, '--hex'], `${unknown}\n${good}\n0000\n`);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /line 1: Schema 2147483632 not found \(schema registry error 40403\)/);
  assert.match(r.stderr, /line 3: .*truncated/);
  assertSameJson(r.stdout.trim(), withDefaults(notificationAvsc, notifications[1]), 'the good value in between');
  // JSON that does not fit the schema
  const e = evbus(['encode', '--registry', url, '--subject', richSubject], '{"id":5}\n');
  assert.equal(e.status, 2);
  assert.match(e.stderr, /line 1: /);
  // a subject that does not exist
  const s = evbus(['encode', '--registry', url, '--subject', `none-${tag}`], '{}\n');
  assert.equal(s.status, 2);
  assert.match(s.stderr, /40401/);
});
