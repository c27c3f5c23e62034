#!/bin/sh
exec "${KAFKA_HOME:-/opt/kafka}/bin/kafka-run-class.sh" kafka.tools.StorageTool "$@"
