#!/bin/sh
# usage: kafka-server-start.sh server.properties
set -e
base=${KAFKA_HOME:-/opt/kafka}
: "${KAFKA_HEAP_OPTS:=-Xmx1G -Xms1G}"
: "${KAFKA_LOG4J_OPTS:=-Dlog4j.configuration=file:$base/config/log4j.properties}"
export KAFKA_HEAP_OPTS KAFKA_LOG4J_OPTS
exec "$base/bin/kafka-run-class.sh" kafka.Kafka "$@"
