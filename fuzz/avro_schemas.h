/*
 * avro_schemas.h: the fixed schemas the Avro fuzz targets decode with
 * (fuzz_avro_decode.c picks one by the input's first byte; fuzz_wire.c
 * decodes every payload with the first; each is parenthesised so clang
 * does not suspect a missing comma). Between them they use every type,
 * every logical type, nullable and general unions (record, enum, fixed and
 * bytes branches, a bytes-class value under an earlier branch, a default
 * that replaces a null), recursion, and the fraud demo's two schemas.
 */
#ifndef EVB_FUZZ_AVRO_SCHEMAS_H
#define EVB_FUZZ_AVRO_SCHEMAS_H

static const char *const fuzz_avro_schemas[] = {
    /* 0: kitchen sink */
    ("{\"type\":\"record\",\"name\":\"Sink\",\"namespace\":\"fuzz\",\"fields\":"
     "["
     "{\"name\":\"n\",\"type\":\"null\"},"
     "{\"name\":\"b\",\"type\":\"boolean\"},"
     "{\"name\":\"i\",\"type\":\"int\"},"
     "{\"name\":\"l\",\"type\":\"long\"},"
     "{\"name\":\"f\",\"type\":\"float\"},"
     "{\"name\":\"d\",\"type\":\"double\"},"
     "{\"name\":\"by\",\"type\":\"bytes\"},"
     "{\"name\":\"s\",\"type\":\"string\"},"
     "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"Color\","
     "\"symbols\":[\"RED\",\"GREEN\",\"BLUE\"]}},"
     "{\"name\":\"fx\",\"type\":{\"type\":\"fixed\",\"name\":\"Four\","
     "\"size\":4}},"
     "{\"name\":\"date\",\"type\":{\"type\":\"int\",\"logicalType\":\"date\"}},"
     "{\"name\":\"tm\",\"type\":{\"type\":\"int\",\"logicalType\":"
     "\"time-millis\"}},"
     "{\"name\":\"ts\",\"type\":{\"type\":\"long\",\"logicalType\":"
     "\"timestamp-millis\"}},"
     "{\"name\":\"dec\",\"type\":{\"type\":\"bytes\",\"logicalType\":"
     "\"decimal\",\"precision\":10,\"scale\":3}},"
     "{\"name\":\"decf\",\"type\":{\"type\":\"fixed\",\"name\":\"Money\","
     "\"size\":6,\"logicalType\":\"decimal\",\"precision\":12,\"scale\":2}},"
     "{\"name\":\"i8\",\"type\":{\"type\":\"int\",\"connect.type\":\"int8\"}},"
     "{\"name\":\"arr\",\"type\":{\"type\":\"array\",\"items\":[\"null\","
     "\"string\"]}},"
     "{\"name\":\"map\",\"type\":{\"type\":\"map\",\"values\":[\"null\","
     "\"string\",\"long\",{\"type\":\"record\",\"name\":\"Point\",\"fields\":["
     "{\"name\":\"x\",\"type\":\"double\"},{\"name\":\"y\",\"type\":"
     "\"double\"}]},\"Color\"]}},"
     "{\"name\":\"u\",\"type\":[\"Money\",\"bytes\",\"null\"]},"
     "{\"name\":\"u2\",\"type\":[\"Four\",\"null\",\"string\"],"
     "\"default\":\"abcd\"},"
     "{\"name\":\"next\",\"type\":[\"null\",\"Sink\"],\"default\":null}]}"),
    /* 1: the fraud demo's transaction (demo/fraud/schemas/transaction.avsc) */
    ("{\"type\":\"record\",\"name\":\"Event\",\"namespace\":"
     "\"software.amazon.event.kafkaconnector\",\"fields\":["
     "{\"name\":\"creditCard\",\"type\":[\"null\",\"string\"],\"default\":null}"
     ","
     "{\"name\":\"firstName\",\"type\":[\"null\",\"string\"],\"default\":null},"
     "{\"name\":\"id\",\"type\":[\"null\",\"string\"],\"default\":null},"
     "{\"name\":\"lastName\",\"type\":[\"null\",\"string\"],\"default\":null},"
     "{\"name\":\"streetAddress\",\"type\":[\"null\",\"string\"],\"default\":"
     "null},"
     "{\"name\":\"total\",\"type\":[\"null\",\"string\"],\"default\":null},"
     "{\"name\":\"userId\",\"type\":[\"null\",\"string\"],\"default\":null},"
     "{\"name\":\"merchant\",\"type\":[\"null\",\"string\"],\"default\":null},"
     "{\"name\":\"category\",\"type\":[\"null\",\"string\"],\"default\":null},"
     "{\"name\":\"country\",\"type\":[\"null\",\"string\"],\"default\":null},"
     "{\"name\":\"latitude\",\"type\":[\"null\",\"double\"],\"default\":null},"
     "{\"name\":\"longitude\",\"type\":[\"null\",\"double\"],\"default\":null},"
     "{\"name\":\"timestamp\",\"type\":[\"null\",{\"type\":\"long\","
     "\"logicalType\":\"timestamp-millis\"}],\"default\":null}]}"),
    /* 2: the fraud demo's notification */
    ("{\"type\":\"record\",\"name\":\"Notification\",\"fields\":["
     "{\"name\":\"source\",\"type\":\"string\"},"
     "{\"name\":\"eventType\",\"type\":\"string\"},"
     "{\"name\":\"eventDetail\",\"type\":{\"type\":\"record\",\"name\":"
     "\"EventDetail\",\"fields\":[{\"name\":\"userId\",\"type\":\"string\"},"
     "{\"name\":\"total\",\"type\":\"double\"}]}},"
     "{\"name\":\"ruleId\",\"type\":[\"null\",\"string\"],\"default\":null},"
     "{\"name\":\"cardId\",\"type\":[\"null\",\"string\"],\"default\":null},"
     "{\"name\":\"score\",\"type\":[\"null\",\"double\"],\"default\":null},"
     "{\"name\":\"reason\",\"type\":[\"null\",\"string\"],\"default\":null}]}"),
    /* 3: a general union at the top */
    ("[\"null\",\"boolean\",\"int\",\"long\",\"float\",\"double\",\"string\","
     "{\"type\":\"array\",\"items\":\"int\"},{\"type\":\"map\",\"values\":"
     "\"bytes\"},{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"]},"
     "{\"type\":\"fixed\",\"name\":\"F\",\"size\":2},\"bytes\"]"),
    /* 4: nested collections of strings */
    ("{\"type\":\"map\",\"values\":{\"type\":\"array\",\"items\":{\"type\":"
     "\"map\",\"values\":\"string\"}}}"),
    /* 5: one string */
    ("\"string\""),
};

#define FUZZ_AVRO_NSCHEMAS                                                     \
    (sizeof fuzz_avro_schemas / sizeof fuzz_avro_schemas[0])

#endif
