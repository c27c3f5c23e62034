#!/bin/sh
# Creates one region's invalidation topic and its dead-letter topic. The brokers run with
# auto.create.topics.enable=false, so a misspelt topic fails loudly instead of appearing.
# Safe to run again: a topic that exists is left as it is.
#
# usage: create-topics.sh BOOTSTRAP REGION [PARTITIONS [REPLICATION_FACTOR [MIN_INSYNC_REPLICAS]]]
#
# The replication factor and min.insync.replicas default to 1, for one broker (compose);
# a production cluster wants 3 and 2, so a write with acks=all survives a broker down. The
# Helm chart creates the topics itself, from kafka.topics in its values.
set -eu

bootstrap=$1
region=$2
partitions=${3:-3}
replication=${4:-1}
min_insync=${5:-1}
topics=${KAFKA_HOME:-/opt/kafka}/bin/kafka-topics.sh

if [ "$min_insync" -gt "$replication" ]; then
  echo "create-topics.sh: MIN_INSYNC_REPLICAS $min_insync is more than REPLICATION_FACTOR $replication: no write with acks=all could succeed" >&2
  exit 2
fi

# Events are keyed by cache key, so the partition count bounds how many invalidators of
# the region's consumer group can share the work.
"$topics" --bootstrap-server "$bootstrap" --create --if-not-exists \
  --topic "fabric.inval.$region" --partitions "$partitions" \
  --replication-factor "$replication" --config "min.insync.replicas=$min_insync"
"$topics" --bootstrap-server "$bootstrap" --create --if-not-exists \
  --topic "fabric.inval.$region.dlq" --partitions 1 \
  --replication-factor "$replication" --config "min.insync.replicas=$min_insync"
"$topics" --bootstrap-server "$bootstrap" --describe --topic "fabric.inval.$region"
