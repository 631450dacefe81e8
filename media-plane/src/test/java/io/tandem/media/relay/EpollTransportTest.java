package io.tandem.media.relay;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.BindException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.List;

import org.agrona.CloseHelper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** The FFM transport on real loopback sockets: batches, sources, sending, oversize datagrams, wakeup, closing. */
class EpollTransportTest
{
    private static final int MAX_PACKET = 2048;

    private final EpollTransport transport = new EpollTransport(MAX_PACKET);
    private final List<AutoCloseable> closeables = new ArrayList<>();

    private record Received(Endpoint endpoint, byte[] data, int length, InetSocketAddress source)
    {
    }

    @AfterEach
    void tearDown()
    {
        CloseHelper.quietCloseAll(closeables);
        transport.close();
    }

    private Endpoint endpoint(final InetAddress address) throws IOException
    {
        final DatagramChannel channel = DatagramChannel.open(
            address instanceof java.net.Inet6Address ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET);
        channel.bind(new InetSocketAddress(address, 0));
        channel.configureBlocking(false);
        closeables.add(channel);
        final Endpoint endpoint = new Endpoint(channel, ((InetSocketAddress)channel.getLocalAddress()).getPort(), false);
        transport.register(endpoint);
        return endpoint;
    }

    private DatagramSocket peer(final InetAddress address) throws IOException
    {
        final DatagramSocket socket = new DatagramSocket(new InetSocketAddress(address, 0));
        socket.setSoTimeout(2000);
        closeables.add(socket);
        return socket;
    }

    private static void send(final DatagramSocket from, final Endpoint to, final byte[] data) throws IOException
    {
        from.send(new DatagramPacket(data, data.length, from.getLocalAddress(), to.localPort()));
    }

    /** Poll until {@code count} datagrams came in (or 2 s passed), recording each with a copy of its bytes. */
    private List<Received> receive(final int count, final List<Integer> perPoll)
    {
        final List<Received> received = new ArrayList<>();
        final long deadline = System.nanoTime() + 2_000_000_000L;
        while (received.size() < count && System.nanoTime() < deadline)
        {
            final int n = transport.poll((endpoint, packet, length, source) ->
            {
                final byte[] data = new byte[packet.remaining()];
                packet.duplicate().get(data);
                received.add(new Received(endpoint, data, length, source));
            });
            if (n > 0)
            {
                perPoll.add(n);
            }
        }
        return received;
    }

    @Test
    void receivesInBatchesFromTheRightSocketWithTheSourceDecodedOnce() throws IOException
    {
        final InetAddress loopback = InetAddress.getLoopbackAddress();
        final Endpoint a = endpoint(loopback);
        final Endpoint b = endpoint(loopback);
        final DatagramSocket peer = peer(loopback);
        final int total = EpollTransport.BATCH * 2 + 3;
        for (int i = 0; i < total; i++)
        {
            send(peer, a, new byte[] {(byte)i, 1, 2, 3});
        }
        send(peer, b, new byte[] {42});

        final List<Integer> perPoll = new ArrayList<>();
        final List<Received> received = receive(total + 1, perPoll);

        assertEquals(total + 1, received.size());
        final List<Received> onA = received.stream().filter((r) -> r.endpoint() == a).toList();
        assertEquals(total, onA.size());
        for (int i = 0; i < total; i++)
        {
            assertArrayEquals(new byte[] {(byte)i, 1, 2, 3}, onA.get(i).data(), "datagram " + i + " in order");
            assertEquals(4, onA.get(i).length());
            assertSame(onA.get(0).source(), onA.get(i).source(), "a steady source is decoded once");
        }
        assertEquals(peer.getLocalSocketAddress(), onA.get(0).source());
        assertTrue(perPoll.stream().allMatch((n) -> n <= EpollTransport.BATCH * 2), "at most one batch per socket per pass: " + perPoll);
        assertTrue(perPoll.size() >= 3, "35 datagrams on one socket take three passes: " + perPoll);
    }

    /**
     * A socket the control side watches as it opens it ({@code watch}) can be readable before the agent took its
     * endpoint: the one edge epoll reports then finds nothing to read it for. Its datagrams are not left behind:
     * once the endpoint is registered they are read on the next pass, with no second datagram needed.
     */
    @Test
    void aWatchedSocketReadableBeforeTheAgentTookItIsReadOnceRegistered() throws IOException
    {
        final InetAddress loopback = InetAddress.getLoopbackAddress();
        final Endpoint early = transport.open(loopback, freePort(loopback), false, 0, false);
        closeables.add(() -> transport.close(early));
        final DatagramSocket peer = peer(loopback);
        send(peer, early, new byte[] {7, 7});

        final List<Integer> perPoll = new ArrayList<>();
        final long deadline = System.nanoTime() + 200_000_000L;
        while (System.nanoTime() < deadline)
        {
            assertEquals(0, transport.poll((endpoint, packet, length, source) -> { }), "nothing to hand on yet");
        }
        transport.register(early); // the agent takes the endpoint: its queued command
        final List<Received> received = receive(1, perPoll);
        assertEquals(1, received.size(), "the datagram that came first");
        assertSame(early, received.get(0).endpoint());
        assertArrayEquals(new byte[] {7, 7}, received.get(0).data());
    }

    private static int freePort(final InetAddress address) throws IOException
    {
        try (DatagramChannel probe = DatagramChannel.open(StandardProtocolFamily.INET))
        {
            probe.bind(new InetSocketAddress(address, 0));
            return ((InetSocketAddress)probe.getLocalAddress()).getPort();
        }
    }

    /**
     * The sockets epoll opens itself (by descriptor, no channel) are media sockets like the others: bound where asked,
     * a port another socket holds refused with the JDK's message (the port allocator skips on it), and a non-local
     * address refused unless IP_FREEBIND is asked for (a standby on a virtual IP).
     */
    @Test
    void socketsOpenedByDescriptorBindWhereAskedAndRefuseWhatTheJdkRefuses() throws IOException
    {
        final InetAddress loopback = InetAddress.getLoopbackAddress();
        final DatagramChannel holder = DatagramChannel.open(StandardProtocolFamily.INET);
        closeables.add(holder);
        holder.bind(new InetSocketAddress(loopback, 0));
        final int taken = ((InetSocketAddress)holder.getLocalAddress()).getPort();
        final BindException inUse = assertThrows(BindException.class,
            () -> transport.open(loopback, taken, false, 0x88, false));
        assertEquals("Address already in use", inUse.getMessage());

        final InetAddress notHere = InetAddress.getByName("192.0.2.77"); // TEST-NET-1: on no interface here
        final int port = freePort(loopback);
        final BindException notLocal = assertThrows(BindException.class,
            () -> transport.open(notHere, port, false, 0, false));
        assertEquals("Cannot assign requested address", notLocal.getMessage());
        final Endpoint standby = transport.open(notHere, port, false, 0x88, true);
        closeables.add(() -> transport.close(standby));
        assertEquals(new InetSocketAddress(notHere, port), standby.boundSocketAddress());

        final Endpoint live = transport.open(loopback, freePort(loopback), false, 0x88, false);
        closeables.add(() -> transport.close(live));
        transport.register(live);
        final DatagramSocket peer = peer(loopback);
        send(peer, live, new byte[] {1, 2, 3});
        final List<Received> received = receive(1, new ArrayList<>());
        assertEquals(1, received.size());
        assertSame(live, received.get(0).endpoint());
        assertEquals(peer.getLocalSocketAddress(), received.get(0).source());
    }

    @Test
    void sendsStraightOutOfTheReceiveBufferFromTheOtherSocket() throws IOException
    {
        final InetAddress loopback = InetAddress.getLoopbackAddress();
        final Endpoint a = endpoint(loopback);
        final Endpoint b = endpoint(loopback);
        final DatagramSocket alice = peer(loopback);
        final DatagramSocket bob = peer(loopback);
        final InetSocketAddress bobAddress = (InetSocketAddress)bob.getLocalSocketAddress();
        send(alice, a, new byte[] {9, 8, 7, 6, 5});

        final int[] sent = {0};
        final long deadline = System.nanoTime() + 2_000_000_000L;
        while (sent[0] == 0 && System.nanoTime() < deadline)
        {
            transport.poll((endpoint, packet, length, source) ->
            {
                packet.position(1); // forward from an offset: the address is the buffer's, plus its position
                assertTrue(transport.send(b, packet, bobAddress));
                sent[0]++;
            });
        }
        final DatagramPacket got = new DatagramPacket(new byte[64], 64);
        bob.receive(got);
        assertEquals(b.localPort(), got.getPort(), "sent from the other leg's socket");
        assertEquals(4, got.getLength());
        assertArrayEquals(new byte[] {8, 7, 6, 5}, java.util.Arrays.copyOf(got.getData(), 4));

        // A buffer that is not the transport's own (heap) is copied out; a closed endpoint refuses to send.
        assertTrue(transport.send(b, ByteBuffer.wrap(new byte[] {1, 2}), bobAddress));
        bob.receive(got);
        assertEquals(2, got.getLength());
        transport.close(b);
        assertTrue(!transport.send(b, ByteBuffer.wrap(new byte[] {1}), bobAddress));
    }

    /**
     * What one recvmmsg brought for a stream leaves with one sendmmsg (issue 19: one sendto per packet was half of a
     * batched C relay's rate), in the order received, each datagram from its own receive slot; a send that is not of
     * the datagram just received goes out after the batch, never ahead of it.
     */
    @Test
    void aReceivedBatchIsSentOnTogetherInOrder() throws IOException
    {
        final InetAddress loopback = InetAddress.getLoopbackAddress();
        final Endpoint a = endpoint(loopback);
        final Endpoint b = endpoint(loopback);
        final DatagramSocket alice = peer(loopback);
        final DatagramSocket bob = peer(loopback);
        final InetSocketAddress bobAddress = (InetSocketAddress)bob.getLocalSocketAddress();
        final int count = EpollTransport.BATCH + 5; // a full batch, flushed as it fills, then a partial one
        for (int i = 0; i < count; i++)
        {
            send(alice, a, new byte[] {(byte)i, (byte)(i * 3), 42});
        }
        final int[] relayed = {0};
        final int[] failed = {0};
        final Transport.Receiver relay = new Transport.Receiver()
        {
            @Override
            public void onPacket(final Endpoint endpoint, final ByteBuffer packet, final int length,
                final InetSocketAddress source)
            {
                assertTrue(transport.send(b, packet, bobAddress));
                relayed[0]++;
            }

            @Override
            public void onSendFailed(final Endpoint from, final int packets, final long bytes)
            {
                failed[0] += packets;
            }
        };
        final long deadline = System.nanoTime() + 2_000_000_000L;
        while (relayed[0] < count && System.nanoTime() < deadline)
        {
            transport.poll(relay);
        }
        assertEquals(count, relayed[0]);
        assertTrue(transport.send(b, ByteBuffer.wrap(new byte[] {99}), bobAddress), "a send of another buffer");
        final DatagramPacket got = new DatagramPacket(new byte[64], 64);
        for (int i = 0; i < count; i++)
        {
            bob.receive(got);
            assertEquals(3, got.getLength());
            assertArrayEquals(new byte[] {(byte)i, (byte)(i * 3), 42}, java.util.Arrays.copyOf(got.getData(), 3),
                "datagram " + i + " in order, with its own bytes");
        }
        bob.receive(got);
        assertEquals(99, got.getData()[0], "the other send came after the batch");
        assertEquals(0, failed[0]);
    }

    /** A batch the kernel refuses (a broadcast address, no SO_BROADCAST: EACCES) is reported, every datagram of it. */
    @Test
    void aBatchTheKernelRefusesIsReportedToTheReceiver() throws IOException
    {
        final InetAddress loopback = InetAddress.getByName("127.0.0.1");
        final Endpoint a = endpoint(loopback);
        final Endpoint b = endpoint(loopback);
        final DatagramSocket alice = peer(loopback);
        final InetSocketAddress broadcast = new InetSocketAddress("255.255.255.255", 9);
        for (int i = 0; i < 3; i++)
        {
            send(alice, a, new byte[] {1, 2, 3, 4});
        }
        final int[] relayed = {0};
        final long[] failed = {0, 0};
        final Transport.Receiver relay = new Transport.Receiver()
        {
            @Override
            public void onPacket(final Endpoint endpoint, final ByteBuffer packet, final int length,
                final InetSocketAddress source)
            {
                assertTrue(transport.send(b, packet, broadcast), "accepted into the batch");
                relayed[0]++;
            }

            @Override
            public void onSendFailed(final Endpoint from, final int packets, final long bytes)
            {
                assertSame(b, from);
                failed[0] += packets;
                failed[1] += bytes;
            }
        };
        final long deadline = System.nanoTime() + 2_000_000_000L;
        while (relayed[0] < 3 && System.nanoTime() < deadline)
        {
            transport.poll(relay);
        }
        assertEquals(3, relayed[0]);
        assertEquals(3, failed[0], "each refused datagram reported");
        assertEquals(12, failed[1]);
    }

    @Test
    void anOversizeDatagramIsHandedOnTruncatedWithALengthAboveTheLimit() throws IOException
    {
        final InetAddress loopback = InetAddress.getLoopbackAddress();
        final Endpoint a = endpoint(loopback);
        final DatagramSocket peer = peer(loopback);
        send(peer, a, new byte[3000]);
        final List<Received> received = receive(1, new ArrayList<>());
        assertEquals(1, received.size());
        assertTrue(received.get(0).length() > MAX_PACKET, "length " + received.get(0).length());
        assertEquals(MAX_PACKET, received.get(0).data().length);
    }

    @Test
    void receivesIpv6WithItsSource() throws IOException
    {
        final InetAddress v6;
        try
        {
            v6 = InetAddress.getByName("::1");
            new DatagramSocket(new InetSocketAddress(v6, 0)).close();
        }
        catch (final IOException ex)
        {
            Assumptions.abort("no IPv6 loopback here: " + ex.getMessage());
            return;
        }
        final Endpoint a = endpoint(v6);
        final Endpoint b = endpoint(v6);
        final DatagramSocket peer = peer(v6);
        send(peer, a, new byte[] {1});
        final List<Received> received = receive(1, new ArrayList<>());
        assertEquals(1, received.size());
        assertEquals(peer.getLocalSocketAddress(), received.get(0).source());
        assertTrue(transport.send(b, ByteBuffer.wrap(new byte[] {5, 5}), (InetSocketAddress)peer.getLocalSocketAddress()));
        final DatagramPacket got = new DatagramPacket(new byte[8], 8);
        peer.receive(got);
        assertEquals(b.localPort(), got.getPort());
    }

    @Test
    void aDualStackSocketTalksToIpv4Peers() throws IOException
    {
        final InetAddress any6;
        try
        {
            any6 = InetAddress.getByName("::");
            new DatagramSocket(new InetSocketAddress(any6, 0)).close();
        }
        catch (final IOException ex)
        {
            Assumptions.abort("no IPv6 here: " + ex.getMessage());
            return;
        }
        final Endpoint dual = endpoint(any6);
        final InetAddress loopback4 = InetAddress.getByName("127.0.0.1");
        final DatagramSocket peer = peer(loopback4);
        peer.send(new DatagramPacket(new byte[] {7}, 1, loopback4, dual.localPort()));
        final List<Received> received = receive(1, new ArrayList<>());
        assertEquals(1, received.size());
        assertEquals(peer.getLocalSocketAddress(), received.get(0).source(), "a v4-mapped source reads as IPv4");
        // Sending back to the IPv4 address (as latched, or as signalled in an IP4 SDP): Linux takes a sockaddr_in
        // on a dual-stack socket.
        assertTrue(transport.send(dual, ByteBuffer.wrap(new byte[] {8, 9}), (InetSocketAddress)peer.getLocalSocketAddress()));
        final DatagramPacket got = new DatagramPacket(new byte[8], 8);
        peer.receive(got);
        assertEquals(2, got.getLength());
        assertEquals(dual.localPort(), got.getPort());
    }

    @Test
    void aBlockedPollWakesForAPacketAndForWakeup() throws Exception
    {
        final InetAddress loopback = InetAddress.getLoopbackAddress();
        final Endpoint a = endpoint(loopback);
        final Thread waker = new Thread(() ->
        {
            try
            {
                Thread.sleep(100);
            }
            catch (final InterruptedException ignored)
            {
                return;
            }
            transport.wakeup();
        });
        waker.start();
        final long start = System.nanoTime();
        assertEquals(0, transport.pollBlocking((endpoint, packet, length, source) -> { }, 5_000));
        final long waitedMs = (System.nanoTime() - start) / 1_000_000;
        waker.join();
        assertTrue(waitedMs < 4_000, "woken by wakeup(), not the timeout: " + waitedMs + " ms");

        final DatagramSocket peer = peer(loopback);
        send(peer, a, new byte[] {1});
        int got = 0;
        final long deadline = System.nanoTime() + 2_000_000_000L;
        while (got == 0 && System.nanoTime() < deadline)
        {
            got = transport.pollBlocking((endpoint, packet, length, source) -> { }, 1_000);
        }
        assertEquals(1, got);
    }

    @Test
    void closingAnEndpointFreesItsPortAtOnce() throws IOException
    {
        final InetAddress loopback = InetAddress.getLoopbackAddress();
        final Endpoint a = endpoint(loopback);
        transport.close(a);
        try (DatagramChannel again = DatagramChannel.open())
        {
            again.bind(new InetSocketAddress(loopback, a.localPort()));
        }
        assertEquals(0, transport.poll((endpoint, packet, length, source) -> { }));
    }
}
