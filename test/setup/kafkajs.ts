// Every test process talks to Kafka through kafkajs clients of its own (harnesses, admin
// checks): without this each of their broker connections re-arms a 1 ms timer forever
// (see packages/runtime/src/kafkajs-idle-loop.ts), CPU the services under test then lack.
import { stopKafkajsIdleLoop } from '@fabric/runtime';

stopKafkajsIdleLoop();
