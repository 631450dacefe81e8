package io.tandem.media;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
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

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import org.agrona.concurrent.CachedNanoClock;
import org.agrona.concurrent.OneToOneConcurrentArrayQueue;

/**
 * Fuzzes the packet path: arbitrary datagrams from arbitrary sources into the forwarding agent. Whatever arrives,
 * the agent never throws, and every packet is either relayed or counted as a drop. The Transport is the one fake:
 * it records sends instead of making system calls. Plain {@code mvn test} replays the saved inputs;
 * {@code JAZZER_FUZZ=1} fuzzes for real.
 */
class PacketFuzzTest
{
    private static final InetSocketAddress ALICE = new InetSocketAddress("127.0.0.1", 5000);
    private static final InetSocketAddress BOB = new InetSocketAddress("127.0.0.1", 5002);
    private static final InetSocketAddress MALLORY = new InetSocketAddress("127.0.0.2", 5000);
    private static final InetSocketAddress[] SOURCES = {ALICE, BOB, MALLORY};


    private static final MediaCounters COUNTERS;

    static
    {
        try
        {
            final File dir = Files.createTempDirectory("tandem-fuzz").toFile();
            dir.deleteOnExit();
            final File file = new File(dir, "counters.dat");
            file.deleteOnExit();
            COUNTERS = new MediaCounters(file);
        }
        catch (final IOException ex)
        {
            throw new UncheckedIOException(ex);
        }
    }

    @FuzzTest(maxDuration = "30s")
    void everyDatagramIsRelayedOrCountedAsADrop(final FuzzedDataProvider data) throws IOException
    {
        final CountingTransport transport = new CountingTransport();
        final CachedNanoClock clock = new CachedNanoClock();
        final ForwardingAgent agent = new ForwardingAgent(
            transport, COUNTERS, clock, TimeUnit.MILLISECONDS.toNanos(10), 0, 0, new OneToOneConcurrentArrayQueue<>(16), -1, false);
        final Endpoint towardsAlice = new Endpoint(null, 30000, false);
        final Endpoint towardsBob = new Endpoint(null, 30002, false);
        ForwardingAgent.pair(towardsAlice, towardsBob);
        agent.add(towardsAlice, 1);
        agent.add(towardsBob, 1);
        final LatchMode mode = LatchMode.values()[data.consumeInt(0, LatchMode.values().length - 1)];
        final boolean strict = data.consumeBoolean();
        final PayloadTransformer transformer = data.consumeBoolean() ? G711Transcoder.ulawToAlaw() : null;
        final boolean mux = data.consumeBoolean();
        agent.resignal(towardsAlice, ALICE, mode, strict, false, transformer, true, mux);
        agent.resignal(towardsBob, BOB, mode, strict, false, null, true, !mux);

        final ByteBuffer buffer = ByteBuffer.allocateDirect(ForwardingAgent.MAX_PACKET + 1);
        final long before = drops() + transport.sent();
        int packets = 0;
        while (data.remainingBytes() > 0 && packets < 64)
        {
            clock.advance(TimeUnit.MILLISECONDS.toNanos(data.consumeInt(0, 20)));
            agent.doWork();
            final Endpoint to = data.consumeBoolean() ? towardsAlice : towardsBob;
            final InetSocketAddress from = SOURCES[data.consumeInt(0, SOURCES.length - 1)];
            final int claimedLength = data.consumeInt(0, 70_000);
            final byte[] bytes = data.consumeBytes(Math.min(claimedLength, ForwardingAgent.MAX_PACKET));
            buffer.clear();
            buffer.put(bytes).flip();
            // As the transport does: a datagram longer than the buffer arrives cut, with its real length.
            final int length = claimedLength > ForwardingAgent.MAX_PACKET ? claimedLength : bytes.length;
            agent.onPacket(to, buffer, length, from);
            packets++;
        }
        assertEquals(packets, drops() + transport.sent() - before, "every packet is relayed or counted as a drop");
        assertTrue(towardsAlice.packets() + towardsBob.packets() <= packets);
    }

    private static long drops()
    {
        return COUNTERS.dropNoDestination.get() + COUNTERS.dropWrongSource.get() + COUNTERS.dropMalformed.get() +
            COUNTERS.dropTooShort.get() + COUNTERS.dropBadVersion.get() + COUNTERS.dropSendFailed.get() +
            COUNTERS.dropTransformer.get();
    }
}
