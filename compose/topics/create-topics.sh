#!/bin/sh
# Creates every Switchboard topic: the six source topics (sms.consent carries consent keywords), their retry tiers and their DLQs (architecture §2).
# Idempotent (--if-not-exists). Run once per cluster by the topic-init job.
#   KAFKA_BROKERS   bootstrap list (default kafka:9092)
#   PARTITIONS      partitions of source and retry topics (default 6; the replica ceiling of each worker type)
#   RETRY_TIERS     the workers' RETRY_TIERS (default 30s,5m,1h)
#   REPLICATION     replication factor (default 1 for a single broker)
#   KAFKA_TOPICS    the kafka-topics tool (default /opt/kafka/bin/kafka-topics.sh)
set -eu
brokers="${KAFKA_BROKERS:-kafka:9092}"
partitions="${PARTITIONS:-6}"
tiers="${RETRY_TIERS:-30s,5m,1h}"
replication="${REPLICATION:-1}"
tool="${KAFKA_TOPICS:-/opt/kafka/bin/kafka-topics.sh}"

create() {  # topic partitions retention-ms
    "$tool" --bootstrap-server "$brokers" --create --if-not-exists --topic "$1" \
        --partitions "$2" --replication-factor "$replication" --config "retention.ms=$3"
}

for source in sms.inbound sms.consent helpdesk.replies helpdesk.ticket-status sms.delivery-status sms.subscriptions; do
    create "$source" "$partitions" 604800000                     # 7 days
    for tier in $(echo "$tiers" | tr ',' ' '); do
        create "$source.retry.$tier" "$partitions" 604800000
    done
    create "$source.dlq" "$partitions" 2592000000                # 30 days: time to review and redrive
done
echo "switchboard topics ready"
