package io.tandem.media.relay;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import io.tandem.media.codec.PayloadTransformer;
import io.tandem.media.stats.MediaCounters;

/**
 * Moves established streams to the kernel: once an endpoint has latched onto its source (strict source, no
 * transcoding, IPv4, a specifically bound socket) and the forwarding agent relayed a packet of it through the
 * sockets, its entry goes into the XDP program's map, and from then on the kernel forwards its packets with no
 * socket, wake-up or copy. The agent asks (on its thread, allocating only once per stream); a thread of its own
 * ({@code tandem-xdp}) resolves the next hop's Ethernet address from the kernel's neighbour and route tables and
 * writes the map, in the order asked, so a withdrawal always follows the install it undoes. A stream is withdrawn
 * when it is removed or signalled again (its addresses may change); the agent then relays it through its sockets
 * until it has latched again. The worker reads the kernel's packet count of each stream it installed twice a second
 * (a system call each, kept off the agent's thread) and the agent takes them in at its timeout scan, so a stream
 * forwarded in the kernel neither times out nor disappears from the counters. Counters: packets written by the
 * agent, streams by the worker (single writers); failures by both (an atomic increment).
 */
public final class XdpOffload implements AutoCloseable
{
    private static final int RESOLVE_TRIES = 20;
    private static final long RESOLVE_PAUSE_MS = 50;
    private static final long REFRESH_NS = TimeUnit.MILLISECONDS.toNanos(500);

    private sealed interface Command permits Install, Withdraw
    {
    }

    private record Install(Endpoint endpoint, Inet4Address local, int port, Inet4Address expected, int expectedPort,
        Inet4Address outLocal, int outPort, Inet4Address destination, int destinationPort) implements Command
    {
    }

    private record Withdraw(Endpoint endpoint, Inet4Address local, int port) implements Command
    {
    }

    private final XdpFastPath path;
    private final String interfaceName;
    private final byte[] interfaceMac;
    private final MediaCounters counters;
    private final BlockingQueue<Command> commands = new LinkedBlockingQueue<>();
    /** The worker's: the streams in the map now, for their counts. */
    private final Map<Endpoint, Install> installed = new HashMap<>();
    private final Thread worker;

    private XdpOffload(final XdpFastPath path, final String interfaceName, final byte[] interfaceMac,
        final MediaCounters counters)
    {
        this.path = path;
        this.interfaceName = interfaceName;
        this.interfaceMac = interfaceMac;
        this.counters = counters;
        worker = Thread.ofPlatform().name("tandem-xdp").daemon().start(this::work);
    }

    /**
     * The fast path on an interface (native XDP), or an exception saying why the kernel or the interface refused it
     * (the caller logs it and relays on sockets).
     */
    public static XdpOffload attach(final String interfaceName, final int maxStreams, final MediaCounters counters)
        throws IOException
    {
        final byte[] mac = HexFormat.ofDelimiter(":").parseHex(
            Files.readString(Path.of("/sys/class/net", interfaceName, "address")).strip());
        return new XdpOffload(XdpFastPath.attach(interfaceName, maxStreams, Bpf.XDP_FLAGS_DRV_MODE), interfaceName,
            mac, counters);
    }

    public String interfaceName()
    {
        return interfaceName;
    }

    // ---- the agent's thread ----

    /** After the agent relayed a packet of {@code endpoint} to {@code out}: hand the stream to the kernel if it may. */
    void consider(final Endpoint endpoint, final Endpoint out)
    {
        // Both ends settled: this endpoint on its source, the other on where it sends (while the other still learns,
        // its destination may move once more, and an entry made now would keep sending to the old one)
        if (!endpoint.latched || !out.latched || !endpoint.strictSource || endpoint.asymmetric ||
            endpoint.transformer != PayloadTransformer.NONE || out.remote == null ||
            !(endpoint.boundAddress instanceof Inet4Address local) || !(out.boundAddress instanceof Inet4Address outLocal) ||
            !(endpoint.source.getAddress() instanceof Inet4Address expected) ||
            !(out.remote.getAddress() instanceof Inet4Address destination))
        {
            return;
        }
        // One port, one way out: the socket this endpoint's own kind of packet goes out of (not RTCP that a party
        // sent to an RTP port without rtcp-mux), and for rtcp-mux only when RTP and RTCP go out of the same one
        final Endpoint rtcpOut = Endpoint.rtcpTowards(endpoint.peer);
        if (out != (endpoint.rtcp ? rtcpOut : endpoint.peer) || (endpoint.rtcpMux && rtcpOut != endpoint.peer))
        {
            return;
        }
        endpoint.offloaded = true;
        commands.add(new Install(endpoint, local, endpoint.localPort, expected, endpoint.source.getPort(), outLocal,
            out.localPort, destination, out.remote.getPort()));
    }

    /** The stream's kernel entry goes (removed, or signalled again): its packets come to the socket again. */
    void withdraw(final Endpoint endpoint)
    {
        if (endpoint != null && endpoint.offloaded)
        {
            endpoint.offloaded = false;
            commands.add(new Withdraw(endpoint, (Inet4Address)endpoint.boundAddress, endpoint.localPort));
        }
    }

    /**
     * At the agent's timeout scan: what the kernel forwarded for each stream since the last scan counts as media. The
     * count restarts at 0 when a stream is installed again.
     */
    void readCounters(final Endpoint[] endpoints, final int count, final long nowNs)
    {
        for (int i = 0; i < count; i++)
        {
            final Endpoint endpoint = endpoints[i];
            final long seen = endpoint.kernelSeen;
            if (!endpoint.offloaded || seen == endpoint.kernelPackets)
            {
                continue;
            }
            final long forwarded = seen > endpoint.kernelPackets ? seen - endpoint.kernelPackets : seen;
            endpoint.kernelPackets = seen;
            if (forwarded > 0)
            {
                counters.xdpPackets.getAndAddRelease(forwarded);
                endpoint.packets += forwarded;
                endpoint.lastPacketNs = nowNs;
            }
        }
    }

    // ---- the tandem-xdp thread ----

    private void work()
    {
        long nextRefreshNs = System.nanoTime() + REFRESH_NS;
        while (true)
        {
            final Command command;
            try
            {
                command = commands.poll(Math.max(0, nextRefreshNs - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (System.nanoTime() - nextRefreshNs >= 0)
                {
                    nextRefreshNs = System.nanoTime() + REFRESH_NS;
                    refresh();
                }
                if (command == null)
                {
                    continue;
                }
                switch (command)
                {
                    case Install install -> install(install);
                    case Withdraw withdraw ->
                    {
                        installed.remove(withdraw.endpoint());
                        if (path.remove(withdraw.local(), withdraw.port()))
                        {
                            counters.xdpStreams.decrementRelease();
                        }
                    }
                }
            }
            catch (final IOException ex)
            {
                counters.xdpErrors.increment();
                System.err.println("tandem: XDP fast path: " + ex.getMessage());
            }
            catch (final InterruptedException ex)
            {
                return;
            }
        }
    }

    private void install(final Install install) throws IOException, InterruptedException
    {
        byte[] mac = null;
        for (int i = 0; i < RESOLVE_TRIES && mac == null; i++)
        {
            mac = Neighbours.macFor(install.destination(), interfaceName);
            if (mac == null)
            {
                Thread.sleep(RESOLVE_PAUSE_MS);
            }
        }
        if (mac == null)
        {
            counters.xdpErrors.increment(); // no neighbour entry: the stream stays on the sockets
            return;
        }
        final boolean existed = path.counters(install.local(), install.port()) != null;
        path.put(install.local(), install.port(), install.expected(), install.expectedPort(), install.outLocal(),
            install.outPort(), install.destination(), install.destinationPort(), mac, interfaceMac);
        installed.put(install.endpoint(), install);
        if (!existed)
        {
            counters.xdpStreams.incrementRelease();
        }
    }

    /** Read the kernel's count of each installed stream for the agent (one system call each). */
    private void refresh()
    {
        for (final Map.Entry<Endpoint, Install> stream : installed.entrySet())
        {
            try
            {
                final XdpFastPath.Counters kernel = path.counters(stream.getValue().local(), stream.getValue().port());
                if (kernel != null)
                {
                    stream.getKey().kernelSeen = kernel.packets();
                }
            }
            catch (final IOException ex)
            {
                counters.xdpErrors.increment();
            }
        }
    }

    @Override
    public void close()
    {
        worker.interrupt();
        try
        {
            worker.join(TimeUnit.SECONDS.toMillis(2));
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
        path.close();
    }

    /** The kernel's neighbour (ARP) and IPv4 route tables, read from /proc. */
    static final class Neighbours
    {
        private Neighbours()
        {
        }

        /** The Ethernet address to send to {@code destination} on {@code iface}: its own, or its gateway's. */
        static byte[] macFor(final Inet4Address destination, final String iface) throws IOException
        {
            final Inet4Address hop = nextHop(destination, iface);
            return hop == null ? null : arp(hop, iface);
        }

        /** The destination itself when on-link, else the gateway of the longest matching route on the interface. */
        static Inet4Address nextHop(final Inet4Address destination, final String iface) throws IOException
        {
            final int target = LinuxNet.ipv4(destination);
            int bestLength = -1;
            Inet4Address best = null;
            final List<String> lines = Files.readAllLines(Path.of("/proc/net/route"));
            for (final String line : lines.subList(1, lines.size()))
            {
                final String[] f = line.trim().split("\\s+");
                if (f.length < 8 || !f[0].equals(iface))
                {
                    continue;
                }
                final int network = Integer.reverseBytes((int)Long.parseLong(f[1], 16));
                final int gateway = Integer.reverseBytes((int)Long.parseLong(f[2], 16));
                final int mask = Integer.reverseBytes((int)Long.parseLong(f[7], 16));
                final int length = Integer.bitCount(mask);
                if ((target & mask) == (network & mask) && length > bestLength)
                {
                    bestLength = length;
                    best = gateway == 0 ? destination : fromInt(gateway);
                }
            }
            return best;
        }

        private static byte[] arp(final Inet4Address address, final String iface) throws IOException
        {
            final List<String> lines = Files.readAllLines(Path.of("/proc/net/arp"));
            for (final String line : lines.subList(1, lines.size()))
            {
                final String[] f = line.trim().split("\\s+");
                // IP address, HW type, Flags (0x2: complete), HW address, Mask, Device
                if (f.length >= 6 && f[5].equals(iface) && f[0].equals(address.getHostAddress()) &&
                    (Integer.decode(f[2]) & 0x2) != 0)
                {
                    return HexFormat.ofDelimiter(":").parseHex(f[3]);
                }
            }
            return null;
        }

        private static Inet4Address fromInt(final int value)
        {
            try
            {
                return (Inet4Address)InetAddress.getByAddress(new byte[] {(byte)(value >>> 24), (byte)(value >>> 16),
                    (byte)(value >>> 8), (byte)value});
            }
            catch (final UnknownHostException ex)
            {
                throw new IllegalStateException(ex);
            }
        }
    }
}
