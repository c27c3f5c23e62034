#!/bin/sh
# The distribution's kafka-run-class.sh, reduced to what this image runs: every jar in
# /opt/kafka/libs on the classpath, KAFKA_HEAP_OPTS / KAFKA_JVM_PERFORMANCE_OPTS /
# KAFKA_OPTS as the distribution reads them, and the tools' log4j configuration (warnings
# to stderr) unless KAFKA_LOG4J_OPTS says otherwise.
#
# usage: kafka-run-class.sh CLASS [ARG]...
set -e
base=${KAFKA_HOME:-/opt/kafka}
: "${KAFKA_HEAP_OPTS:=-Xmx256M}"
: "${KAFKA_JVM_PERFORMANCE_OPTS:=-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true}"
: "${KAFKA_LOG4J_OPTS:=-Dlog4j.configuration=file:$base/config/tools-log4j.properties}"
# shellcheck disable=SC2086 # the *_OPTS variables are word lists, as in the distribution
exec java $KAFKA_HEAP_OPTS $KAFKA_JVM_PERFORMANCE_OPTS $KAFKA_LOG4J_OPTS ${KAFKA_OPTS:-} \
  -cp "$base/libs/*" "$@"
