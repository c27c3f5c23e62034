#!/bin/sh
# Creates one region's invalidation topic and its dead-letter topic. The brokers run with
# auto.create.topics.enable=false, so a misspelt topic fails loudly instead of appearing.
# Safe to run again.
#
# usage: create-topics.sh BOOTSTRAP REGION [PARTITIONS]
set -eu

bootstrap=$1
region=$2
partitions=${3:-3}
topics=${KAFKA_HOME:-/opt/kafka}/bin/kafka-topics.sh

# Events are keyed by cache key, so the partition count bounds how many invalidators of
# the region's consumer group can share the work.
"$topics" --bootstrap-server "$bootstrap" --create --if-not-exists \
  --topic "fabric.inval.$region" --partitions "$partitions" --replication-factor 1
"$topics" --bootstrap-server "$bootstrap" --create --if-not-exists \
  --topic "fabric.inval.$region.dlq" --partitions 1 --replication-factor 1
"$topics" --bootstrap-server "$bootstrap" --describe --topic "fabric.inval.$region"
