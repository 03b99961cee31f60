// registry.test.mjs: a client nobody here wrote, the npm package
// @kafkajs/confluent-schema-registry, against `evbus serve`'s schema
// registry: it registers Avro schemas (setting the subject's
// compatibility the way it does, through /config), encodes records in
// the Confluent wire format, and a second client instance with an empty
// cache fetches the writer schema by id and decodes them; schema
// evolution is refused or accepted as the compatibility level says.
//
//   REGISTRY_URL=http://127.0.0.1:PORT REGISTRY_NODE_MODULES=DIR \
//     node --test tests/node/registry.test.mjs
//
// REGISTRY_NODE_MODULES is the node_modules folder the package was
// installed into (tests/cli/test_registry_node.sh installs it under
// build/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import path from 'node:path';

const url = process.env.REGISTRY_URL;
const modules = process.env.REGISTRY_NODE_MODULES;
assert.ok(url && modules, 'REGISTRY_URL and REGISTRY_NODE_MODULES must be set');
const require = createRequire(path.join(modules, 'index.js'));
const { SchemaRegistry, SchemaType, COMPATIBILITY } = require('@kafkajs/confluent-schema-registry');

const transactionV1 = {
  type: 'record',
  name: 'Transaction',
  namespace: 'com.example.fraud',
  fields: [
    { name: 'id', type: 'string' },
    { name: 'amount', type: 'double' },
    { name: 'count', type: 'int' },
    { name: 'tags', type: { type: 'array', items: 'string' } },
    { name: 'note', type: ['null', 'string'], default: null },
    { name: 'kind', type: { type: 'enum', name: 'Kind', symbols: ['PURCHASE', 'REFUND'] } },
    { name: 'ts', type: { type: 'long', logicalType: 'timestamp-millis' } },
  ],
};
const transactionV2 = {
  ...transactionV1,
  fields: [...transactionV1.fields, { name: 'currency', type: 'string', default: 'EUR' }],
};
const transactionBad = {
  ...transactionV1,
  fields: [...transactionV1.fields, { name: 'merchant', type: 'string' }],
};

const record = {
  id: 'tx-1',
  amount: 12.5,
  count: 3,
  tags: ['a', 'b'],
  note: 'hello',
  kind: 'REFUND',
  ts: 1700000000000,
};

const subject = `node-${process.pid}-value`;
const fresh = () => new SchemaRegistry({ host: url }, { [SchemaType.AVRO]: {} });

test('register, encode, and decode through a client with an empty cache', async () => {
  const producer = fresh();
  const { id } = await producer.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(transactionV1) },
    { subject },
  );
  assert.ok(Number.isInteger(id) && id > 0);

  const encoded = await producer.encode(id, record);
  assert.equal(encoded[0], 0, 'Confluent magic byte');
  assert.equal(encoded.readInt32BE(1), id, 'schema id, big-endian');

  const consumer = fresh(); // nothing cached: asks GET /schemas/ids/{id}
  const decoded = await consumer.decode(encoded);
  assert.deepEqual({ ...decoded }, record); // (avsc decodes into a class instance)

  // the registry answers the package's other lookups too
  assert.equal(await consumer.getLatestSchemaId(subject), id);
  assert.equal(await consumer.getRegistryId(subject, 1), id);
  assert.equal(
    await consumer.getRegistryIdBySchema(subject, {
      type: SchemaType.AVRO,
      schema: JSON.stringify(transactionV1),
    }),
    id,
  );
  const schema = await consumer.getSchema(id);
  assert.equal(schema.name, 'com.example.fraud.Transaction');
});

test('the same schema under another subject keeps its id', async () => {
  const c = fresh();
  const { id: a } = await c.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(transactionV1) },
    { subject },
  );
  const { id: b } = await c.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(transactionV1) },
    { subject: `${subject}-copy` },
  );
  assert.equal(a, b);
});

test('evolution: an incompatible schema is refused, a compatible one registered', async () => {
  const c = fresh();
  await assert.rejects(
    c.register({ type: SchemaType.AVRO, schema: JSON.stringify(transactionBad) }, { subject }),
    (err) => {
      assert.equal(err.status, 409);
      assert.match(err.message, /incompatible with an earlier schema/);
      return true;
    },
  );
  const { id: v1 } = await c.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(transactionV1) },
    { subject },
  );
  const { id: v2 } = await c.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(transactionV2) },
    { subject },
  );
  assert.notEqual(v1, v2);
  assert.equal(await fresh().getLatestSchemaId(subject), v2);

  // data written with v1 read as v2: the new field takes its default
  const oldData = await c.encode(v1, record);
  const asV2 = await fresh().decode(oldData, {
    [SchemaType.AVRO]: { readerSchema: transactionV2 },
  });
  assert.deepEqual({ ...asV2 }, { ...record, currency: 'EUR' });
});

test('a compatibility level the subject does not have is reported', async () => {
  const c = fresh();
  await assert.rejects(
    c.register(
      { type: SchemaType.AVRO, schema: JSON.stringify(transactionV2) },
      { subject, compatibility: COMPATIBILITY.FULL },
    ),
    /Compatibility does not match the configuration/,
  );
  const other = `${subject}-full`;
  const { id } = await c.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(transactionV2) },
    { subject: other, compatibility: COMPATIBILITY.FULL },
  );
  assert.ok(id > 0);
  const res = await fetch(`${url}/config/${other}`);
  assert.deepEqual(await res.json(), { compatibilityLevel: 'FULL' });
});

test('unknown ids are errors, not crashes', async () => {
  const c = fresh();
  const bogus = Buffer.from([0, 0x7f, 0xff, 0xff, 0xf0, 2, 0x61]);
  await assert.rejects(c.decode(bogus), (err) => {
    assert.equal(err.status, 404);
    return true;
  });
});
