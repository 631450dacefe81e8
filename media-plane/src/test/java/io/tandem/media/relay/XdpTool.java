package io.tandem.media.relay;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A test's hands in a network namespace, as its own process (run under {@code ip netns exec}), one answer line per
 * command line on stdin.
 * <p>
 * {@code XdpTool relay IFACE}: attach Tandem's XDP fast path to IFACE (native mode) and serve {@code put LOCAL PORT
 * EXPECTED EXPECTED_PORT SOURCE SOURCE_PORT DESTINATION DESTINATION_PORT DESTINATION_MAC SOURCE_MAC},
 * {@code remove LOCAL PORT}, {@code counters LOCAL PORT}; detach at end of input.
 * <p>
 * {@code XdpTool ng}: the test's {@link io.tandem.media.NgDriver} on Tandem's ng port (127.0.0.1:2223).
 * <p>
 * {@code XdpTool peer ADDRESS}: UDP on ADDRESS: {@code listen PORT} (count what arrives there), {@code send
 * FROM_PORT TO_ADDRESS TO_PORT COUNT} (RTP-sized packets), {@code stream FROM_PORT TO_ADDRESS TO_PORT SECONDS}
 * (one every 20 ms from the listening socket on FROM_PORT, in the background), {@code count PORT}
 * ({@code N from ADDRESS:PORT}).
 */
public final class XdpTool
{
    private XdpTool()
    {
    }

    public static void main(final String[] args) throws Exception
    {
        final BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        if (args[0].equals("ng"))
        {
            io.tandem.media.NgDriver.main(new String[] {"127.0.0.1:2223"});
            return;
        }
        if (args[0].equals("relay"))
        {
            try (XdpFastPath path = XdpFastPath.attach(args[1], 1024, Bpf.XDP_FLAGS_DRV_MODE))
            {
                System.out.println("ready");
                String line;
                while ((line = in.readLine()) != null)
                {
                    System.out.println(relay(path, line.trim().split("\\s+")));
                }
            }
            return;
        }
        final Peer peer = new Peer(args[1]);
        System.out.println("ready");
        String line;
        while ((line = in.readLine()) != null)
        {
            System.out.println(peer.command(line.trim().split("\\s+")));
        }
    }

    private static Inet4Address ip(final String text) throws Exception
    {
        return (Inet4Address)InetAddress.getByName(text);
    }

    private static String relay(final XdpFastPath path, final String[] w) throws Exception
    {
        switch (w[0])
        {
            case "put" ->
            {
                path.put(ip(w[1]), Integer.parseInt(w[2]), w[3].equals("any") ? null : ip(w[3]), Integer.parseInt(w[4]),
                    ip(w[5]), Integer.parseInt(w[6]), ip(w[7]), Integer.parseInt(w[8]), mac(w[9]), mac(w[10]));
                return "ok";
            }
            case "remove" ->
            {
                return "removed " + path.remove(ip(w[1]), Integer.parseInt(w[2]));
            }
            case "counters" ->
            {
                final XdpFastPath.Counters c = path.counters(ip(w[1]), Integer.parseInt(w[2]));
                return c == null ? "none" : "packets " + c.packets() + " bytes " + c.bytes() + " dropped " + c.dropped();
            }
            default ->
            {
                return "unknown command " + w[0];
            }
        }
    }

    private static byte[] mac(final String text)
    {
        return HexFormat.ofDelimiter(":").parseHex(text);
    }

    /** UDP sockets on one address. */
    private static final class Peer
    {
        private final String address;
        private final Map<Integer, AtomicLong> received = new ConcurrentHashMap<>();
        private final Map<Integer, String> from = new ConcurrentHashMap<>();
        private final Map<Integer, DatagramChannel> listening = new ConcurrentHashMap<>();

        Peer(final String address)
        {
            this.address = address;
        }

        String command(final String[] w) throws Exception
        {
            switch (w[0])
            {
                case "listen" ->
                {
                    final int port = Integer.parseInt(w[1]);
                    final DatagramChannel channel = DatagramChannel.open().bind(new InetSocketAddress(address, port));
                    received.put(port, new AtomicLong());
                    listening.put(port, channel);
                    Thread.ofPlatform().daemon().start(() -> receive(channel, port));
                    return "listening";
                }
                case "stream" ->
                {
                    final DatagramChannel channel = listening.get(Integer.parseInt(w[1]));
                    final InetSocketAddress to = new InetSocketAddress(w[2], Integer.parseInt(w[3]));
                    final long until = System.nanoTime() + Long.parseLong(w[4]) * 1_000_000_000L;
                    Thread.ofPlatform().daemon().start(() -> stream(channel, to, until));
                    return "streaming";
                }
                case "send" ->
                {
                    try (DatagramChannel channel = DatagramChannel.open()
                        .bind(new InetSocketAddress(address, Integer.parseInt(w[1]))))
                    {
                        final InetSocketAddress to = new InetSocketAddress(w[2], Integer.parseInt(w[3]));
                        final ByteBuffer packet = ByteBuffer.allocate(172);
                        for (int i = 0; i < Integer.parseInt(w[4]); i++)
                        {
                            packet.clear();
                            packet.put((byte)0x80).put((byte)0).putShort((short)i).putInt(i * 160).putInt(0x5ca1ab1e);
                            packet.position(172).flip();
                            channel.send(packet, to);
                            Thread.sleep(1);
                        }
                    }
                    return "sent";
                }
                case "count" ->
                {
                    final int port = Integer.parseInt(w[1]);
                    return received.get(port).get() + " from " + from.getOrDefault(port, "-");
                }
                default ->
                {
                    return "unknown command " + w[0];
                }
            }
        }

        private static void stream(final DatagramChannel channel, final InetSocketAddress to, final long until)
        {
            final ByteBuffer packet = ByteBuffer.allocate(172);
            for (int i = 0; System.nanoTime() < until; i++)
            {
                packet.clear();
                packet.put((byte)0x80).put((byte)8).putShort((short)i).putInt(i * 160).putInt(0x5ca1ab1e);
                packet.position(172).flip();
                try
                {
                    channel.send(packet, to);
                    Thread.sleep(20);
                }
                catch (final Exception ex)
                {
                    return;
                }
            }
        }

        private void receive(final DatagramChannel channel, final int port)
        {
            final ByteBuffer buffer = ByteBuffer.allocate(2048);
            while (true)
            {
                try
                {
                    buffer.clear();
                    final InetSocketAddress sender = (InetSocketAddress)channel.receive(buffer);
                    from.put(port, sender.getAddress().getHostAddress() + ":" + sender.getPort());
                    received.get(port).incrementAndGet();
                }
                catch (final Exception ex)
                {
                    return;
                }
            }
        }
    }
}
