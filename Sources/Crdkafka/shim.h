// Typed wrappers around the few variadic or union-based librdkafka calls Swift cannot make directly.
// Only Sources/Shared/Kafka imports this module.
#ifndef SWITCHBOARD_CRDKAFKA_SHIM_H
#define SWITCHBOARD_CRDKAFKA_SHIM_H

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/// Produces one record through `rd_kafka_produceva`. The payload and key are copied.
/// `headers` (may be NULL) is owned by librdkafka on success and destroyed here on failure,
/// so the caller never frees it. Returns RD_KAFKA_RESP_ERR_NO_ERROR or the error code.
static inline rd_kafka_resp_err_t sb_produce(rd_kafka_t *rk, const char *topic, int32_t partition,
                                             const void *key, size_t key_len, const void *value,
                                             size_t value_len, rd_kafka_headers_t *headers,
                                             int64_t timestamp_ms, void *opaque) {
    rd_kafka_vu_t vus[8];
    size_t n = 0;
    vus[n].vtype = RD_KAFKA_VTYPE_TOPIC;
    vus[n].u.cstr = topic;
    n++;
    vus[n].vtype = RD_KAFKA_VTYPE_PARTITION;
    vus[n].u.i32 = partition;
    n++;
    vus[n].vtype = RD_KAFKA_VTYPE_MSGFLAGS;
    vus[n].u.i = RD_KAFKA_MSG_F_COPY;
    n++;
    if (key != NULL) {
        vus[n].vtype = RD_KAFKA_VTYPE_KEY;
        vus[n].u.mem.ptr = (void *)key;
        vus[n].u.mem.size = key_len;
        n++;
    }
    if (value != NULL) {
        vus[n].vtype = RD_KAFKA_VTYPE_VALUE;
        vus[n].u.mem.ptr = (void *)value;
        vus[n].u.mem.size = value_len;
        n++;
    }
    if (headers != NULL) {
        vus[n].vtype = RD_KAFKA_VTYPE_HEADERS;
        vus[n].u.headers = headers;
        n++;
    }
    if (timestamp_ms > 0) {
        vus[n].vtype = RD_KAFKA_VTYPE_TIMESTAMP;
        vus[n].u.i64 = timestamp_ms;
        n++;
    }
    vus[n].vtype = RD_KAFKA_VTYPE_OPAQUE;
    vus[n].u.ptr = opaque;
    n++;
    rd_kafka_error_t *error = rd_kafka_produceva(rk, vus, n);
    if (error == NULL) {
        return RD_KAFKA_RESP_ERR_NO_ERROR;
    }
    rd_kafka_resp_err_t code = rd_kafka_error_code(error);
    rd_kafka_error_destroy(error);
    if (headers != NULL) {
        rd_kafka_headers_destroy(headers);
    }
    return code;
}

/// Pushes one error (with a response delay) onto a mock broker's error stack for `api_key`.
static inline rd_kafka_resp_err_t sb_mock_broker_push_error_rtt(rd_kafka_mock_cluster_t *mcluster,
                                                                int32_t broker_id, int16_t api_key,
                                                                rd_kafka_resp_err_t err, int rtt_ms) {
    return rd_kafka_mock_broker_push_request_error_rtts(mcluster, broker_id, api_key, 1, err, rtt_ms);
}

/// The rebalance event codes as plain ints (the enum constants import awkwardly).
static inline int sb_err_assign_partitions(void) { return RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS; }
static inline int sb_err_revoke_partitions(void) { return RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS; }

#endif
