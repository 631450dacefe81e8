package io.tandem.bench;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.TimeUnit;

import io.tandem.media.relay.LatchMode;
import io.tandem.media.session.CallRecord;
import io.tandem.media.session.SessionStore;
import io.tandem.media.session.StreamSpec;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The record of one call, as written on every signalling event and latch: encode it, decode it, store it in the
 * Chronicle Map sessions table. This record is what the state journal will carry to a mirror, and decode + store
 * is what the mirror will do with it; the journal's own framing over Aeron is not in these figures. Control path
 * (once per signalling event), so allocation is expected: {@code -prof gc} says how much.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class SessionRecordBenchmark
{
    /** A typical two-party call: one audio stream each way, the caller behind NAT (a learned address). */
    static final CallRecord RECORD = new CallRecord("a84b4c76e66710@pc33.atlanta.example.com", List.of(
        new CallRecord.MonologueRecord("1928301774", "a6c85cf", List.of(new CallRecord.StreamRecord("external", 30000,
            StreamSpec.of(new InetSocketAddress("192.0.2.10", 49170)).withLatch(LatchMode.HEURISTIC),
            new InetSocketAddress("198.51.100.7", 61000), null))),
        new CallRecord.MonologueRecord("a6c85cf", "1928301774", List.of(new CallRecord.StreamRecord("internal", 30002,
            StreamSpec.of(new InetSocketAddress("10.0.0.20", 20000)))))));

    private File file;
    private SessionStore store;
    private byte[] encoded;

    @Setup(Level.Trial)
    public void setUp() throws IOException
    {
        file = Files.createTempFile("tandem-bench-sessions", ".cm3").toFile();
        file.delete();
        store = new SessionStore(file, 1_000);
        encoded = RECORD.encode();
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        store.close();
        file.delete();
        new File(file.getPath() + ".open").delete();
    }

    @Benchmark
    public byte[] encode()
    {
        return RECORD.encode();
    }

    @Benchmark
    public CallRecord decode()
    {
        return CallRecord.decode(encoded);
    }

    @Benchmark
    public void store()
    {
        store.put(RECORD.callId(), encoded);
    }

    /** What a mirror will do per journal record: decode it and store it. */
    @Benchmark
    public void decodeAndStore()
    {
        final CallRecord record = CallRecord.decode(encoded);
        store.put(record.callId(), encoded);
    }
}
