package io.tandem.media.relay;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import io.tandem.media.codec.PayloadTransformer;
import io.tandem.media.stats.MediaCounters;

/**
 * Runs media through a relay before it carries a call, so the JIT has compiled the packet path by then. A standby
 * holds every call but relays nothing until the virtual IP moves; without this its first packets after a failover
 * ran interpreted: 380 parties' packets of one 20 ms round took up to 36 ms to come through (HotStandbyFailoverTest).
 * Two parties on loopback exchange packets through two relay sockets of their own (ephemeral ports, outside the
 * media range), over exactly the path calls take: the agent's poll, validation, latching, forwarding, the transport's
 * send. The packets are then taken off the relay's counters again, and the sockets closed.
 */
public final class RelayWarmUp
{
    private static final int BATCH = 8;
    private static final int PACKET = 172;

    private final ForwardingAgent agent;
    private final MediaCounters counters;

    public RelayWarmUp(final ForwardingAgent agent, final MediaCounters counters)
    {
        this.agent = agent;
        this.counters = counters;
    }

    /**
     * Relay {@code calls} short calls one after the other, each a pair of fresh relay sockets carrying
     * {@code roundsPerCall} rounds of {@value #BATCH} packets each way: the first packet of a stream (a source not
     * seen yet) as often as the steady path, since a failover is hundreds of first packets at once, and a path the
     * JIT saw only twice would be compiled as a trap. @return the packets relayed
     */
    public long run(final int calls, final int roundsPerCall, final long timeoutNs) throws IOException,
        InterruptedException
    {
        final InetAddress loopback = InetAddress.getLoopbackAddress();
        final long deadline = System.nanoTime() + timeoutNs;
        final Totals totals = new Totals();
        try (DatagramChannel partyA = open(loopback);
            DatagramChannel partyB = open(loopback);
            Selector selector = Selector.open())
        {
            partyA.register(selector, SelectionKey.OP_READ);
            partyB.register(selector, SelectionKey.OP_READ);
            final ByteBuffer packet = ByteBuffer.allocateDirect(PACKET);
            final ByteBuffer received = ByteBuffer.allocateDirect(ForwardingAgent.MAX_PACKET);
            try
            {
                for (int call = 0; call < calls && System.nanoTime() - deadline < 0; call++)
                {
                    relayOneCall(partyA, partyB, selector, packet, received, roundsPerCall, deadline, totals);
                }
            }
            finally
            {
                // What the relay counted of them comes off its counters: they were never a call's.
                counters.rxPackets.getAndAdd(-totals.sent);
                counters.rxBytes.getAndAdd(-totals.sent * PACKET);
                counters.txPackets.getAndAdd(-totals.relayed);
                counters.txBytes.getAndAdd(-totals.relayed * PACKET);
            }
        }
        return totals.relayed;
    }

    /** Packets sent to the relay and relayed by it. */
    private static final class Totals
    {
        long sent;
        long relayed;
    }

    private void relayOneCall(final DatagramChannel partyA, final DatagramChannel partyB, final Selector selector,
        final ByteBuffer packet, final ByteBuffer received, final int rounds, final long deadline, final Totals totals)
        throws IOException, InterruptedException
    {
        final InetAddress loopback = InetAddress.getLoopbackAddress();
        final Endpoint relayA = endpoint(loopback);
        final Endpoint relayB = endpoint(loopback);
        try
        {
            onAgent(deadline, (a) ->
            {
                a.add(relayA, 0);
                a.add(relayB, 0);
                ForwardingAgent.pair(relayA, relayB);
                a.resignal(relayA, (InetSocketAddress)partyA.getLocalAddress(), LatchMode.HEURISTIC, true, false,
                    PayloadTransformer.NONE, true, false);
                a.resignal(relayB, (InetSocketAddress)partyB.getLocalAddress(), LatchMode.HEURISTIC, true, false,
                    PayloadTransformer.NONE, true, false);
            });
            final InetSocketAddress toA = new InetSocketAddress(loopback, relayA.localPort);
            final InetSocketAddress toB = new InetSocketAddress(loopback, relayB.localPort);
            long expected = 0;
            long relayed = 0;
            for (int round = 0; round < rounds && System.nanoTime() - deadline < 0; round++)
            {
                for (int i = 0; i < BATCH; i++)
                {
                    final int sequence = round * BATCH + i;
                    send(partyA, packet, sequence, 0x7a_a000, toA);
                    send(partyB, packet, sequence, 0x7a_b000, toB);
                    totals.sent += 2;
                    expected += 2;
                }
                relayed += receive(selector, received, expected - relayed, deadline);
            }
            totals.relayed += relayed;
        }
        finally
        {
            onAgent(System.nanoTime() + TimeUnit.SECONDS.toNanos(5), (a) ->
            {
                a.remove(relayA);
                a.remove(relayB);
            });
        }
    }

    private static DatagramChannel open(final InetAddress address) throws IOException
    {
        final DatagramChannel channel = DatagramChannel.open(StandardProtocolFamily.INET);
        channel.bind(new InetSocketAddress(address, 0));
        channel.configureBlocking(false);
        return channel;
    }

    private static Endpoint endpoint(final InetAddress address) throws IOException
    {
        final DatagramChannel channel = open(address);
        return new Endpoint(channel, ((InetSocketAddress)channel.getLocalAddress()).getPort(), false);
    }

    private static int send(final DatagramChannel from, final ByteBuffer packet, final int sequence, final int ssrc,
        final InetSocketAddress to) throws IOException
    {
        packet.clear();
        packet.put((byte)0x80).put((byte)0).putShort((short)sequence).putInt(sequence * 160).putInt(ssrc);
        while (packet.hasRemaining())
        {
            packet.put((byte)0xff); // u-law silence
        }
        packet.flip();
        return from.send(packet, to);
    }

    /** Read what the parties received until {@code expected} packets came or the deadline passed. */
    private static long receive(final Selector selector, final ByteBuffer buffer, final long expected,
        final long deadline) throws IOException
    {
        long count = 0;
        while (count < expected && System.nanoTime() - deadline < 0)
        {
            if (selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(Math.min(deadline - System.nanoTime(),
                TimeUnit.MILLISECONDS.toNanos(100))))) == 0)
            {
                return count; // a round lost on loopback: go on with the next
            }
            for (final SelectionKey key : selector.selectedKeys())
            {
                final DatagramChannel channel = (DatagramChannel)key.channel();
                buffer.clear();
                while (channel.receive(buffer) != null)
                {
                    count++;
                    buffer.clear();
                }
            }
            selector.selectedKeys().clear();
        }
        return count;
    }

    /** Run a command on the agent thread and wait for it. */
    private void onAgent(final long deadline, final AgentCommand command) throws IOException, InterruptedException
    {
        final CompletableFuture<Void> done = new CompletableFuture<>();
        final boolean queued = agent.submit((a) ->
        {
            try
            {
                command.run(a);
                done.complete(null);
            }
            catch (final IOException | RuntimeException ex)
            {
                done.completeExceptionally(ex);
            }
        });
        if (!queued)
        {
            throw new IOException("relay warm-up: the agent's command queue is full");
        }
        try
        {
            done.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        }
        catch (final ExecutionException ex)
        {
            throw ex.getCause() instanceof IOException io ? io : new IOException(ex.getCause());
        }
        catch (final TimeoutException ex)
        {
            throw new IOException("relay warm-up: the agent did not take its command in time");
        }
    }

    @FunctionalInterface
    private interface AgentCommand
    {
        void run(ForwardingAgent agent) throws IOException;
    }
}
