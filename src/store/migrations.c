/*
 * migrations.c: the store's schema history. Entry N takes the database
 * from user_version N to N+1; entries are never edited once released,
 * only appended. Payloads are stored once (events) and referred to by
 * the work they owe (deliveries), so a restart finds every pending
 * delivery with its next attempt time.
 */
#include "migrations.h"

const char *const evb__migrations[] = {
    /* 1: buses, rules, targets, tags, the event outbox, log groups */
    "CREATE TABLE event_buses ("
    "  name TEXT PRIMARY KEY,"
    "  arn TEXT NOT NULL,"
    "  description TEXT,"
    "  spec TEXT NOT NULL DEFAULT '{}'," /* other settings, as JSON */
    "  created INTEGER NOT NULL,"
    "  modified INTEGER NOT NULL);"
    "CREATE TABLE rules ("
    "  bus TEXT NOT NULL REFERENCES event_buses(name),"
    "  name TEXT NOT NULL,"
    "  arn TEXT NOT NULL,"
    "  event_pattern TEXT,"
    "  schedule TEXT,"
    "  state TEXT NOT NULL,"
    "  description TEXT,"
    "  role_arn TEXT,"
    "  created INTEGER NOT NULL,"
    "  PRIMARY KEY (bus, name));"
    "CREATE TABLE targets ("
    "  bus TEXT NOT NULL,"
    "  rule TEXT NOT NULL,"
    "  id TEXT NOT NULL,"
    "  arn TEXT NOT NULL,"
    "  spec TEXT NOT NULL," /* the target as given to PutTargets, JSON */
    "  PRIMARY KEY (bus, rule, id),"
    "  FOREIGN KEY (bus, rule) REFERENCES rules(bus, name));"
    "CREATE INDEX targets_by_arn ON targets(arn);"
    "CREATE TABLE tags ("
    "  arn TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (arn, key));"
    "CREATE TABLE events ("
    "  seq INTEGER PRIMARY KEY,"
    "  id TEXT NOT NULL,"
    "  bus TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  ingested_ms INTEGER NOT NULL,"
    "  via_bus TEXT);" /* set when it came from a bus-to-bus target */
    "CREATE TABLE deliveries ("
    "  seq INTEGER PRIMARY KEY,"
    "  event_seq INTEGER NOT NULL REFERENCES events(seq),"
    "  bus TEXT NOT NULL,"
    "  rule TEXT NOT NULL,"
    "  target_id TEXT NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_ms INTEGER NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending');"
    "CREATE INDEX deliveries_due ON deliveries(state, next_attempt_ms);"
    "CREATE TABLE log_groups ("
    "  name TEXT PRIMARY KEY,"
    "  arn TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  retention_days INTEGER);"
    "CREATE TABLE log_events ("
    "  seq INTEGER PRIMARY KEY,"
    "  grp TEXT NOT NULL,"
    "  stream TEXT NOT NULL,"
    "  ts_ms INTEGER NOT NULL,"
    "  ingested_ms INTEGER NOT NULL,"
    "  message TEXT NOT NULL);"
    "CREATE INDEX log_events_by_stream ON log_events(grp, stream, ts_ms);"
    "CREATE INDEX log_events_by_time ON log_events(grp, ts_ms);",

    /* 2: queues (the SQS-compatible service) and scheduled-rule state */
    "CREATE TABLE queues ("
    "  name TEXT PRIMARY KEY,"
    "  arn TEXT NOT NULL,"
    "  attributes TEXT NOT NULL DEFAULT '{}'," /* JSON: name -> value */
    "  tags TEXT NOT NULL DEFAULT '{}',"
    "  created_ms INTEGER NOT NULL,"
    "  modified_ms INTEGER NOT NULL);"
    "CREATE TABLE queue_messages ("
    "  seq INTEGER PRIMARY KEY,"
    "  queue TEXT NOT NULL REFERENCES queues(name) ON DELETE CASCADE,"
    "  message_id TEXT NOT NULL,"
    "  body TEXT NOT NULL,"
    "  body_md5 TEXT NOT NULL,"
    "  attributes TEXT," /* message attributes as JSON */
    "  attributes_md5 TEXT,"
    "  system TEXT," /* system attributes (SenderId, ...) as JSON */
    "  sent_ms INTEGER NOT NULL,"
    "  visible_at_ms INTEGER NOT NULL,"
    "  receive_count INTEGER NOT NULL DEFAULT 0,"
    "  first_receive_ms INTEGER,"
    "  receipt_handle TEXT,"
    "  group_id TEXT,"
    "  dedup_id TEXT);"
    "CREATE INDEX queue_messages_visible ON queue_messages(queue, "
    "visible_at_ms, seq);"
    "CREATE INDEX queue_messages_receipt ON queue_messages(receipt_handle);"
    "CREATE TABLE schedule_state ("
    "  bus TEXT NOT NULL,"
    "  rule TEXT NOT NULL,"
    "  next_fire_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (bus, rule));",

    /* 3: archives and replays; connections and API destinations */
    "CREATE TABLE archives ("
    "  name TEXT PRIMARY KEY,"
    "  arn TEXT NOT NULL,"
    "  bus TEXT NOT NULL," /* the source bus's name */
    "  description TEXT,"
    "  event_pattern TEXT,"
    "  retention_days INTEGER NOT NULL DEFAULT 0,"
    "  state TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL);"
    "CREATE TABLE archive_events ("
    "  seq INTEGER PRIMARY KEY,"
    "  archive TEXT NOT NULL REFERENCES archives(name) ON DELETE CASCADE,"
    "  event_time_ms INTEGER NOT NULL," /* the event's own time */
    "  body TEXT NOT NULL,"
    "  archived_ms INTEGER NOT NULL);"
    "CREATE INDEX archive_events_by_time ON archive_events(archive, "
    "event_time_ms);"
    "CREATE TABLE replays ("
    "  name TEXT PRIMARY KEY,"
    "  arn TEXT NOT NULL,"
    "  spec TEXT NOT NULL," /* the StartReplay request, JSON */
    "  state TEXT NOT NULL,"
    "  state_reason TEXT,"
    "  last_replayed_ms INTEGER,"
    "  started_ms INTEGER NOT NULL,"
    "  ended_ms INTEGER);"
    "CREATE TABLE connections ("
    "  name TEXT PRIMARY KEY,"
    "  arn TEXT NOT NULL,"
    "  spec TEXT NOT NULL," /* everything but secrets, JSON */
    "  secrets TEXT NOT NULL," /* the secret values, JSON */
    "  state TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  modified_ms INTEGER NOT NULL,"
    "  authorized_ms INTEGER);"
    "CREATE TABLE api_destinations ("
    "  name TEXT PRIMARY KEY,"
    "  arn TEXT NOT NULL,"
    "  spec TEXT NOT NULL," /* JSON */
    "  state TEXT NOT NULL,"
    "  created_ms INTEGER NOT NULL,"
    "  modified_ms INTEGER NOT NULL);",

    /* 4: settling a delivery asks whether its event still owes others */
    "CREATE INDEX deliveries_by_event ON deliveries(event_seq);",

    /* 5: the schema registry (src/registry): schemas by global id, keyed
     * by their normalized form; subject versions, each with the UUID the
     * AWS Glue wire format carries; per-subject and global ('') settings */
    "CREATE TABLE registry_schemas ("
    "  id INTEGER PRIMARY KEY,"
    "  type TEXT NOT NULL," /* 'AVRO' */
    "  normalized TEXT NOT NULL,"
    "  schema TEXT NOT NULL," /* the text it was first registered with */
    "  created_ms INTEGER NOT NULL,"
    "  UNIQUE (type, normalized));"
    "CREATE TABLE registry_versions ("
    "  subject TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  schema_id INTEGER NOT NULL REFERENCES registry_schemas(id),"
    "  uuid TEXT NOT NULL UNIQUE,"
    "  deleted INTEGER NOT NULL DEFAULT 0,"
    "  created_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (subject, version));"
    "CREATE INDEX registry_versions_by_schema ON registry_versions(schema_id);"
    "CREATE TABLE registry_config ("
    "  subject TEXT PRIMARY KEY," /* '' is the global setting */
    "  compatibility TEXT,"
    "  mode TEXT);",

    /* 6: EventBridge Pipes: definitions and states, tags, and each pipe's
     * progress per partition (besides the consumer group's offsets) */
    "CREATE TABLE pipes ("
    "  name TEXT PRIMARY KEY,"
    "  arn TEXT NOT NULL,"
    "  spec TEXT NOT NULL," /* the definition DescribePipe answers, JSON */
    "  desired_state TEXT NOT NULL,"
    "  current_state TEXT NOT NULL,"
    "  state_reason TEXT,"
    "  group_id TEXT NOT NULL," /* the consumer group when none is given */
    "  created_ms INTEGER NOT NULL,"
    "  modified_ms INTEGER NOT NULL);"
    "CREATE TABLE pipe_tags ("
    "  arn TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (arn, key));"
    "CREATE TABLE pipe_offsets ("
    "  pipe TEXT NOT NULL,"
    "  topic TEXT NOT NULL,"
    "  partition INTEGER NOT NULL,"
    "  next_offset INTEGER NOT NULL,"
    "  updated_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (pipe, topic, partition));",

    /* 7: delivery numbers are never reused. Without AUTOINCREMENT SQLite
     * gives a new row max(seq)+1, so once the newest rows were settled a
     * later delivery could be numbered below the delivery engine's cursor
     * and be read after deliveries made after it (out of order). */
    "CREATE TABLE deliveries_v7 ("
    "  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    "  event_seq INTEGER NOT NULL REFERENCES events(seq),"
    "  bus TEXT NOT NULL,"
    "  rule TEXT NOT NULL,"
    "  target_id TEXT NOT NULL,"
    "  attempts INTEGER NOT NULL DEFAULT 0,"
    "  next_attempt_ms INTEGER NOT NULL,"
    "  state TEXT NOT NULL DEFAULT 'pending');"
    "INSERT INTO deliveries_v7(seq, event_seq, bus, rule, target_id, "
    "attempts, next_attempt_ms, state) SELECT seq, event_seq, bus, rule, "
    "target_id, attempts, next_attempt_ms, state FROM deliveries;"
    "DROP TABLE deliveries;"
    "ALTER TABLE deliveries_v7 RENAME TO deliveries;"
    "CREATE INDEX deliveries_due ON deliveries(state, next_attempt_ms);"
    "CREATE INDEX deliveries_by_event ON deliveries(event_seq);",
};

const size_t evb__migrations_count =
    sizeof evb__migrations / sizeof evb__migrations[0];
