// The bench's Debezium baseline (packages/bench/src/phases/debezium.ts): runs the
// Debezium embedded engine with the PostgreSQL connector against the home primary and
// prints, per change of public.users, "C <source.ts_ms> <seen epoch ms>"; "READY" once the
// streaming task runs. Stops on stdin EOF or SIGTERM.
//
//   java -cp '.fabric/debezium-libs/*:.fabric/debezium-classes' DebeziumProbe HOST PORT DB OFFSETS_FILE [SLOT] [POLL_MS]
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import java.io.BufferedOutputStream;
import java.io.PrintStream;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;

public final class DebeziumProbe {
  public static void main(String[] args) throws Exception {
    if (args.length < 4) {
      System.err.println("usage: DebeziumProbe HOST PORT DB OFFSETS_FILE [SLOT] [POLL_MS]");
      System.exit(2);
    }
    String slot = args.length > 4 ? args[4] : "bench_debezium";
    Properties p = new Properties();
    p.setProperty("name", "bench-debezium");
    p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
    p.setProperty("offset.storage", "org.apache.kafka.connect.storage.FileOffsetBackingStore");
    p.setProperty("offset.storage.file.filename", args[3]);
    p.setProperty("offset.flush.interval.ms", "1000");
    p.setProperty("database.hostname", args[0]);
    p.setProperty("database.port", args[1]);
    p.setProperty("database.user", "postgres");
    p.setProperty("database.password", "");
    p.setProperty("database.dbname", args[2]);
    p.setProperty("topic.prefix", "bench");
    p.setProperty("plugin.name", "pgoutput");
    p.setProperty("slot.name", slot);
    p.setProperty("publication.name", slot);
    p.setProperty("publication.autocreate.mode", "filtered");
    p.setProperty("table.include.list", "public.users");
    p.setProperty("snapshot.mode", "never");
    p.setProperty("slot.drop.on.stop", "false");
    p.setProperty("poll.interval.ms", args.length > 5 ? args[5] : "500");

    PrintStream out = new PrintStream(new BufferedOutputStream(System.out, 1 << 16), false);
    Object lock = new Object();
    DebeziumEngine<RecordChangeEvent<SourceRecord>> engine = DebeziumEngine.create(ChangeEventFormat.of(io.debezium.embedded.Connect.class))
        .using(p)
        .using(new DebeziumEngine.ConnectorCallback() {
          @Override
          public void taskStarted() {
            synchronized (lock) {
              out.println("READY");
              out.flush();
            }
          }
        })
        .using((success, message, error) -> {
          synchronized (lock) {
            out.println("DONE " + success + " " + (message == null ? "" : message.replace('\n', ' ')) + (error == null ? "" : " " + error));
            out.flush();
          }
        })
        .notifying(event -> {
          SourceRecord r = event.record();
          long seen = System.currentTimeMillis();
          if (!(r.value() instanceof Struct)) return;
          Struct v = (Struct) r.value();
          Struct source = v.schema().field("source") == null ? null : v.getStruct("source");
          Long ts = source == null ? null : source.getInt64("ts_ms");
          synchronized (lock) {
            out.print("C ");
            out.print(ts == null ? -1 : ts);
            out.print(' ');
            out.println(seen);
          }
        })
        .build();
    ExecutorService exec = Executors.newSingleThreadExecutor();
    exec.execute(engine);
    Thread flusher = new Thread(() -> {
      while (true) {
        try {
          Thread.sleep(50);
        } catch (InterruptedException e) {
          return;
        }
        synchronized (lock) {
          out.flush();
        }
      }
    });
    flusher.setDaemon(true);
    flusher.start();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      try {
        engine.close();
        exec.shutdown();
        exec.awaitTermination(10, TimeUnit.SECONDS);
      } catch (Exception ignored) {
      }
      synchronized (lock) {
        out.flush();
      }
    }));
    // Stop when the bench closes our stdin.
    while (System.in.read() != -1) {
      // ignore input
    }
    System.exit(0);
  }
}
