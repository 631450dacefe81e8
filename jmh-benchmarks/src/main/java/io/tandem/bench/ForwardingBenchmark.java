package io.tandem.bench;

import java.io.File;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;

import io.tandem.media.codec.G711Transcoder;
import io.tandem.media.codec.PayloadTransformer;
import io.tandem.media.relay.CountingTransport;
import io.tandem.media.relay.Endpoint;
import io.tandem.media.relay.ForwardingAgent;
import io.tandem.media.relay.LatchMode;
import io.tandem.media.stats.MediaCounters;

import org.agrona.concurrent.CachedNanoClock;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The forwarding agent's per-packet work without the system calls: RTP header check, latched-source check,
 * optional G.711 transcoding, counters, and the hand-off to the transport (which here only counts). Drives the
 * agent through the relay package's public commands, as the media plane does.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class ForwardingBenchmark
{
    private static final InetSocketAddress ALICE = new InetSocketAddress("10.0.0.1", 5000);
    private static final InetSocketAddress BOB = new InetSocketAddress("10.0.0.2", 5002);

    @Param({"none", "PCMU>PCMA"})
    public String transcode;

    private final ByteBuffer packet = ByteBuffer.allocateDirect(ForwardingAgent.MAX_PACKET + 1);
    private final byte[] original = new byte[172];
    private ForwardingAgent agent;
    private Endpoint towardsAlice;
    private MediaCounters counters;
    private File dir;


    @Setup(Level.Trial)
    public void setUp() throws IOException
    {
        dir = Files.createTempDirectory("tandem-bench").toFile();
        counters = new MediaCounters(new File(dir, "counters.dat"));
        agent = new ForwardingAgent(new CountingTransport(), counters, new CachedNanoClock(), 0, 0, 0,
            new OneToOneConcurrentArrayQueue<>(16), -1, false);
        towardsAlice = new Endpoint(null, 30000, false);
        final Endpoint towardsBob = new Endpoint(null, 30002, false);
        ForwardingAgent.pair(towardsAlice, towardsBob);
        agent.add(towardsAlice, 1);
        agent.add(towardsBob, 1);
        final PayloadTransformer transformer = transcode.equals("none") ? null : G711Transcoder.ulawToAlaw();
        agent.resignal(towardsAlice, ALICE, LatchMode.HEURISTIC, true, false, transformer, true, false);
        agent.resignal(towardsBob, BOB, LatchMode.HEURISTIC, true, false, null, true, false);
        original[0] = (byte)0x80;
        for (int i = 12; i < original.length; i++)
        {
            original[i] = (byte)i;
        }
        forward(); // latch
    }

    @TearDown(Level.Trial)
    public void tearDown()
    {
        counters.close();
        new File(dir, "counters.dat").delete();
        dir.delete();
    }

    @Benchmark
    public long forward()
    {
        final ByteBuffer packet = this.packet;
        packet.clear();
        packet.put(original).flip();
        agent.onPacket(towardsAlice, packet, original.length, ALICE);
        return counters.txPackets.get();
    }
}
